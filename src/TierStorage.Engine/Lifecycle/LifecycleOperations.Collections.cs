using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Collections;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Lifecycle;

/// <summary>The policy run's collection steps, and their part of its -WhatIf plan.</summary>
public sealed partial class LifecycleOperations
{
    /// <summary>What the policy run would do for the collections, as TierMove steps: a Copy per collection due by its
    /// schedule (most important first), then each collection's rules (<see cref="Collections.CollectionOperations.PlanRulesAsync"/>).
    /// A collection whose tier cannot be read is one Skipped step saying so.</summary>
    public async Task<IReadOnlyList<TierMove>> PlanCollectionsAsync(CancellationToken cancellationToken)
    {
        var plan = new List<TierMove>();
        if (_workspace.Policy.Collections.Count == 0) return plan;
        foreach (var collection in _workspace.Policy.Collections.OrderBy(c => c.Priority))
        {
            try
            {
                if (await _workspace.Collections.IsDueAsync(collection, cancellationToken).ConfigureAwait(false)) plan.Add(BackupStep(collection));
            }
            catch (TierStorageException ex)
            {
                plan.Add(BackupStep(collection) with { State = TierMoveState.Skipped, Message = $"Whether it is due cannot be read: {ex.Message}" });
            }
        }
        foreach (var collection in _workspace.Policy.Collections)
        {
            try
            {
                plan.AddRange(await _workspace.Collections.PlanRulesAsync(collection, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is TierStorageException or IOException or UnauthorizedAccessException)
            {
                plan.Add(new TierMove
                {
                    Subject = collection.Name, Action = TierMoveAction.Delete, From = _workspace.Collections.TierOf(collection).Name, Rule = $"collections[{collection.Name}]",
                    State = TierMoveState.Skipped, Message = $"Its rules cannot be planned: {ex.Message}",
                });
            }
        }
        return plan;
    }

    /// <summary>The stable error id of an engine error, else the exception's type (an I/O error reading a folder).</summary>
    private static string ErrorIdOf(Exception ex) => (ex as TierStorageException)?.ErrorId ?? ex.GetType().Name;

    private TierMove BackupStep(CollectionDefinition collection) => new()
    {
        Subject = collection.Name,
        Action = TierMoveAction.Copy,
        From = _workspace.LocalTierName,
        To = _workspace.Collections.TierOf(collection).Name,
        Rule = $"collections[{collection.Name}].schedule = {collection.Schedule} (priority {collection.Priority.ToString().ToLowerInvariant()})",
    };

    /// <summary>Backs up the due collections, most important first. When a collection's tier is critical only the
    /// high-priority ones go (the others would fill it further), and once <see cref="PolicyRunOptions.TimeLimit"/> has
    /// passed none start; a collection whose tier cannot be reached waits for the next run (its schedule keeps it due).
    /// Each one left is a Skipped result and an alert; a failure is a Failed result and an alert, and the others still
    /// run. Then every collection's rules run.</summary>
    private async Task RunCollectionsAsync(PolicyRunOptions options, long started, IProgress<BackupProgress>? progress, List<CollectionBackupResult> results, List<TierMove> moves, List<string> alerts, CancellationToken cancellationToken)
    {
        // The run's one progress bar: "Policy run: <collection>", the stage, and the bytes read of the folder.
        var collectionProgress = progress is null ? null : new ForwardedProgress<CollectionProgress>(p =>
            progress.Report(new BackupProgress { SessionId = p.Collection, Stage = p.Activity, BytesDone = p.Done, BytesTotal = p.Total }));
        HashSet<string>? critical = null;
        foreach (var collection in _workspace.Policy.Collections.OrderBy(c => c.Priority))
        {
            var tier = _workspace.Collections.TierOf(collection).Name;
            var begun = Stopwatch.GetTimestamp();
            string? skip;
            try
            {
                if (!await _workspace.Collections.IsDueAsync(collection, cancellationToken).ConfigureAwait(false)) continue;
                critical ??= (await UsageAsync(cancellationToken).ConfigureAwait(false))
                    .Where(u => u.Status == TierHealth.Critical).Select(u => u.Tier).ToHashSet(StringComparer.OrdinalIgnoreCase);
                skip = options.TimeLimit is { } limit && Stopwatch.GetElapsedTime(started) > limit
                        ? $"the run's time limit ({limit:g}) had passed; more important collections went first"
                    : collection.Priority != CollectionPriority.High && critical.Contains(tier)
                        ? $"tier '{tier}' is critical, and until it has room only high-priority collections are backed up"
                    : null;
                if (skip is null)
                {
                    results.Add(await _workspace.Collections.BackupAsync(collection, collectionProgress, cancellationToken).ConfigureAwait(false));
                    continue;
                }
            }
            catch (TierStorageException ex) when (ex.Kind == TierErrorKind.ConnectionError)
            {
                skip = $"its tier cannot be reached ({ex.Message}); it stays due for the next run";
            }
            catch (Exception ex) when (ex is TierStorageException or IOException or UnauthorizedAccessException)
            {
                results.Add(new CollectionBackupResult
                {
                    Collection = collection.Name, Status = CollectionBackupStatus.Failed, Tier = tier, Duration = Stopwatch.GetElapsedTime(begun), Message = ex.Message,
                });
                alerts.Add($"Collection '{collection.Name}' backup failed: {ErrorIdOf(ex)}: {ex.Message}");
                continue;
            }
            results.Add(new CollectionBackupResult { Collection = collection.Name, Status = CollectionBackupStatus.Skipped, Tier = tier, Message = skip + "." });
            alerts.Add($"Collection '{collection.Name}' was not backed up: {skip}.");
        }
        foreach (var collection in _workspace.Policy.Collections)
        {
            try
            {
                var plan = await _workspace.Collections.PlanRulesAsync(collection, cancellationToken).ConfigureAwait(false);
                if (plan.Count == 0) continue;
                await foreach (var done in _workspace.Collections.ApplyRulesAsync(collection, plan, cancellationToken).ConfigureAwait(false))
                {
                    moves.Add(done);
                    if (done.State is TierMoveState.Failed) alerts.Add($"{done.Action} {done.Subject} failed: {done.Message}");
                }
            }
            catch (Exception ex) when (ex is TierStorageException or IOException or UnauthorizedAccessException)
            {
                alerts.Add($"Collection '{collection.Name}': its rules were not applied ({ErrorIdOf(ex)}): {ex.Message}");
            }
        }
    }
}
