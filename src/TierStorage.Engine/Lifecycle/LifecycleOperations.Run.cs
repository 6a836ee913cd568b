using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Lifecycle;

public sealed record PolicyRunOptions
{
    /// <summary>Accept Deep Archive's early-deletion charge for expired archives.</summary>
    public bool Force { get; init; }
    /// <summary>Interrupted S3 multipart uploads older than this, with no saved state, are aborted (they are billed).</summary>
    public TimeSpan AbandonedUploadAge { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Due collections not started this long after the run began are skipped (they are taken most important
    /// first) and reported; null: no limit.</summary>
    public TimeSpan? TimeLimit { get; init; }
}

public sealed partial class LifecycleOperations
{
    /// <summary>
    /// The scheduled job (Invoke-TierPolicy, tierstorage run): finish imported transcripts that went idle, back up every
    /// completed session not yet verified and
    /// drain the queue, run Move-DataTier, back up the collections that are due and apply their rules, abort abandoned S3
    /// uploads, and report usage with alerts. One run at a time:
    /// an OS lock on logs/.policy-run.lock, which dies with its process, so a crashed run never blocks the next; its
    /// lease file names the holder in the refusal.
    /// </summary>
    public async Task<PolicyRunResult> RunPolicyAsync(PolicyRunOptions options, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        var startedAt = _workspace.Now;
        var lockPath = Path.Combine(_workspace.Layout.LogsDirectory, ".policy-run.lock");
        var leasePath = Path.Combine(_workspace.Layout.LogsDirectory, ".policy-run.lease.json");
        FileLock runLock;
        try
        {
            runLock = await FileLock.AcquireAsync(lockPath, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.LockTimeout)
        {
            return new PolicyRunResult
            {
                Status = PolicyRunStatus.AlreadyRunning, StartedAt = startedAt, Duration = Stopwatch.GetElapsedTime(started),
                Alerts = [$"Another policy run holds the lock ({ReadLease(leasePath)}); this run did nothing."],
            };
        }

        using (runLock)
        {
            // A shared catalog (PostgreSQL): the run also holds the team catalog's lease on this machine's and user's sessions,
            // the ones it backs up and prunes, so that a second run for them from another directory or host (a copied
            // workspace, a CI job with the same TIERSTORAGE_MACHINE) does nothing, and the refusal names the holder as the
            // server sees it. The team-wide stages take their own lock per phase (archive, deletes of archived sessions), so
            // one machine's long run never holds up another's. A no-op on an SQLite catalog, which the file lock covers.
            var origin = _workspace.Catalog.Origin;
            var leaseName = $"policy-run/{_workspace.Identity.Namespace}/{origin.Machine.ToLowerInvariant()}/{origin.User.ToLowerInvariant()}";
            await using var teamLease = await _workspace.Catalog.TryLockAsync(leaseName, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            if (teamLease is null)
            {
                var holder = await _workspace.Catalog.LockHolderAsync(leaseName, cancellationToken).ConfigureAwait(false);
                return new PolicyRunResult
                {
                    Status = PolicyRunStatus.AlreadyRunning, StartedAt = startedAt, Duration = Stopwatch.GetElapsedTime(started),
                    Alerts = [$"Another policy run for {origin.Machine}/{origin.User} holds the shared catalog's lease ({holder ?? "it has just ended"}); this run did nothing."],
                };
            }
            await AtomicFile.WriteAllTextAsync(leasePath, JsonSerializer.Serialize(new PolicyRunLease(Environment.ProcessId, Environment.MachineName, startedAt), PolicyRunLeaseJson.Default.PolicyRunLease), overwrite: true, cancellationToken).ConfigureAwait(false);
            var alerts = new List<string>();

            // Transcripts imported once and not since: those idle past Import-ClaudeSession's default are finished here, so
            // they are backed up even when nobody imports again.
            foreach (var unfinished in (await _workspace.ListRecordsAsync(cancellationToken).ConfigureAwait(false)).Where(s => s.IsUnfinishedImport))
                await Ingest.ClaudeImporter.CompleteIfFinishedAsync(_workspace, unfinished.SessionId, new Ingest.CompletionOptions(), changed: false, cancellationToken).ConfigureAwait(false);

            var backups = new List<BackupResult>();
            var completed = (await _workspace.ListRecordsAsync(cancellationToken).ConfigureAwait(false))
                .Where(s => s.State == SessionState.Completed && !s.IsUnfinishedImport).Select(s => s.SessionId).ToList();
            if (_workspace.Policy.GetTier(TierLevel.Backup) is not null)
            {
                try
                {
                    // One session's failure (a full backup tier) must not leave the others unattempted (issue 11 #9).
                    await foreach (var r in _workspace.Backups.BackupAsync(new BackupRequest { SessionIds = completed, ContinueOnFailure = true }, progress, cancellationToken).ConfigureAwait(false))
                        backups.Add(r);
                }
                catch (TierStorageException ex)
                {
                    alerts.Add($"Backup failed: {ex.ErrorId}: {ex.Message}");
                }
            }
            foreach (var r in backups.Where(r => r.Status is BackupStatus.Queued or BackupStatus.Failed))
                alerts.Add($"Backup of {r.SessionId} {r.Status}: {r.Message}");

            var moves = new List<TierMove>();
            foreach (var move in await PlanAsync(cancellationToken).ConfigureAwait(false))
            {
                var done = await ExecuteAsync(move, options.Force, progress, cancellationToken).ConfigureAwait(false);
                moves.Add(done);
                if (done.State is TierMoveState.Failed) alerts.Add($"{done.Action} {done.Subject} failed: {done.Message}");
            }

            // The collections: new versions of those due, most important first, then each one's rules (keep, clean-up).
            var collections = new List<CollectionBackupResult>();
            if (_workspace.Policy.Collections.Count > 0)
                await RunCollectionsAsync(options, started, progress, collections, moves, alerts, cancellationToken).ConfigureAwait(false);

            // What the run relies on for the sessions it no longer keeps anywhere else: their phase archives. Checked every
            // night (the tier's size and MD5 against the catalog, no download), and a damaged one fails the run by name.
            var archiveDamaged = false;
            var failedChecks = new List<BackupCheck>();
            if (_workspace.Policy.GetTier(TierLevel.Archive) is { } archiveTier
                && (await _workspace.ListRecordsAsync(cancellationToken).ConfigureAwait(false)).Any(s => s.State == SessionState.Archived))
            {
                try
                {
                    await foreach (var check in _workspace.Backups.CheckAsync(new BackupCheckRequest { Tier = archiveTier.Name }, cancellationToken).ConfigureAwait(false))
                    {
                        if (check.Status is not (BackupCheckStatus.Missing or BackupCheckStatus.Corrupt)) continue;
                        archiveDamaged = true;
                        failedChecks.Add(check);
                        alerts.Add($"Archive check: {check.Status} {(check.Key ?? check.SessionId)} on tier '{archiveTier.Name}': {check.Message}");
                    }
                }
                catch (TierStorageException ex)
                {
                    alerts.Add($"Archive check: tier '{archiveTier.Name}' could not be checked ({ex.ErrorId}): {ex.Message}");
                }
            }

            var aborted = 0;
            foreach (var tier in _workspace.Policy.Tiers.Where(t => t.Kind == TierKind.S3))
            {
                try
                {
                    await using var store = await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
                    if (store is S3ObjectStore s3)
                        aborted += await s3.AbortAbandonedUploadsAsync(options.AbandonedUploadAge, _workspace.Catalog, cancellationToken).ConfigureAwait(false);
                }
                catch (TierStorageException ex)
                {
                    alerts.Add($"Tier '{tier.Name}': abandoned uploads not checked ({ex.ErrorId}).");
                }
            }

            var usage = await UsageAsync(cancellationToken).ConfigureAwait(false);
            var critical = usage.Where(u => u.Status == TierHealth.Critical && _workspace.Policy.GetTier(u.Tier) is { MigrateOnCritical: true }).ToList();
            if (critical.Count > 0)
            {
                // The seed's auto-migration: the plan under the tightest retention the tier allows, then usage again.
                var tightened = Tightened(_workspace.Policy, critical.Select(u => u.Level));
                foreach (var move in LifecyclePlanner.Plan(await BuildModelAsync(tightened, cancellationToken).ConfigureAwait(false)))
                {
                    var done = await ExecuteAsync(move with { Rule = "migrate_on_critical: " + move.Rule }, options.Force, progress, cancellationToken).ConfigureAwait(false);
                    moves.Add(done);
                    if (done.State is TierMoveState.Failed) alerts.Add($"{done.Action} {done.Subject} failed: {done.Message}");
                }
                alerts.Add($"Tier(s) {string.Join(", ", critical.Select(u => $"'{u.Tier}'"))} reached critical; data was moved off early (migrate_on_critical).");
                usage = await UsageAsync(cancellationToken).ConfigureAwait(false);
            }
            foreach (var u in usage.Where(u => u.Status != TierHealth.Healthy))
                alerts.Add($"Tier '{u.Tier}' is {u.Status}: {u.Message}");

            // A tier near capacity is an alert for a person (the run did its work): CompletedWithAlerts, not Failed, so a
            // scheduled job does not report failure night after night for a full disk that loses nothing.
            var failed = backups.Any(r => r.Status == BackupStatus.Failed) || moves.Any(m => m.State == TierMoveState.Failed)
                         || collections.Any(c => c.Status == CollectionBackupStatus.Failed)
                         || archiveDamaged || alerts.Any(a => a.StartsWith("Backup failed", StringComparison.Ordinal));
            // The alerts: kept per condition in logs/alerts.json and sent to the policy's channels (issue 13).
            return await _workspace.Alerts.RaiseAsync(new PolicyRunResult
            {
                Status = failed ? PolicyRunStatus.Failed : alerts.Count > 0 ? PolicyRunStatus.CompletedWithAlerts : PolicyRunStatus.Succeeded,
                StartedAt = startedAt, Duration = Stopwatch.GetElapsedTime(started),
                Backups = backups, Moves = moves, Collections = collections, Usage = usage, AbortedUploads = aborted, Alerts = alerts,
            }, failedChecks, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<List<TierUsage>> UsageAsync(CancellationToken cancellationToken)
    {
        var usage = new List<TierUsage>();
        await foreach (var u in _workspace.Backups.GetUsageAsync(null, refresh: false, cancellationToken).ConfigureAwait(false)) usage.Add(u);
        return usage;
    }

    /// <summary>The policy with retention at its floor for the critical levels: one local session, one phase on backup.</summary>
    private static TierPolicy Tightened(TierPolicy policy, IEnumerable<TierLevel> criticalLevels)
    {
        var levels = criticalLevels.ToHashSet();
        return new TierPolicy
        {
            Version = policy.Version, Source = policy.Source, Tiers = policy.Tiers, Lifecycle = policy.Lifecycle, Backup = policy.Backup,
            Redaction = policy.Redaction, Pricing = policy.Pricing,
            Retention = new RetentionPolicy
            {
                LocalSessions = levels.Contains(TierLevel.Local) ? 1 : policy.Retention.LocalSessions,
                BackupPhases = levels.Contains(TierLevel.Backup) ? 1 : policy.Retention.BackupPhases,
                ArchiveDays = policy.Retention.ArchiveDays,
            },
        };
    }

    private static string ReadLease(string path)
    {
        try
        {
            using var lease = JsonDocument.Parse(File.ReadAllText(path));
            var root = lease.RootElement;
            return $"process {root.GetProperty("pid").GetInt32()} on {root.GetProperty("host").GetString()}, started {root.GetProperty("started").GetDateTimeOffset():u}";
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException or UnauthorizedAccessException)
        {
            return "holder unknown";
        }
    }
}

/// <summary>logs/.policy-run.lease.json: who holds the run (read back, as text, by the run it turns away).</summary>
internal sealed record PolicyRunLease(int Pid, string Host, DateTimeOffset Started);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PolicyRunLease))]
internal sealed partial class PolicyRunLeaseJson : JsonSerializerContext;
