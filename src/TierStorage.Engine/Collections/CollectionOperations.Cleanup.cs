using System.Runtime.CompilerServices;
using TierStorage.Contracts;

namespace TierStorage.Engine.Collections;

/// <summary>The collections' clean-up rules (local files deleted by age) and the one plan Move-DataTier and
/// Invoke-TierPolicy take of a collection's rules: its versions' keep rules on the tier, then its clean-up on the disk.</summary>
public sealed partial class CollectionOperations
{
    /// <summary><see cref="TierMove.DataClass"/> of a clean-up step: one local file to delete.</summary>
    public const string CleanupDataClass = "cleanup";

    /// <summary>Every rule of the collection as one plan: the versions its keep rules remove from the tier, then the local
    /// files its clean-up rules delete.</summary>
    public async Task<IReadOnlyList<TierMove>> PlanRulesAsync(CollectionDefinition collection, CancellationToken cancellationToken)
    {
        var retention = await PlanRetentionAsync(collection, cancellationToken).ConfigureAwait(false);
        var cleanup = await PlanCleanupAsync(collection, cancellationToken).ConfigureAwait(false);
        return [.. retention, .. cleanup];
    }

    /// <summary>Runs the approved steps of <see cref="PlanRulesAsync"/>: the tier's first, then the disk's.</summary>
    public async IAsyncEnumerable<TierMove> ApplyRulesAsync(CollectionDefinition collection, IEnumerable<TierMove> approved, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approved);
        var steps = approved.ToList();
        var onTier = steps.Where(m => m.DataClass != CleanupDataClass).ToList();
        if (onTier.Count > 0)
            await foreach (var done in ApplyRetentionAsync(collection, onTier, cancellationToken).ConfigureAwait(false)) yield return done;
        var onDisk = steps.Where(m => m.DataClass == CleanupDataClass).ToList();
        if (onDisk.Count > 0)
            await foreach (var done in ApplyCleanupAsync(collection, onDisk, cancellationToken).ConfigureAwait(false)) yield return done;
    }

    /// <summary>The local files the collection's clean-up rules delete now, as planned TierMove deletes (one per file,
    /// Subject "name:relative/path"). Files a rule keeps because the newest version does not hold them are not steps;
    /// Get-CollectionUsage counts them.</summary>
    public async Task<IReadOnlyList<TierMove>> PlanCleanupAsync(CollectionDefinition collection, CancellationToken cancellationToken)
    {
        var candidates = await CleanupCandidatesAsync(collection, cancellationToken).ConfigureAwait(false);
        var held = candidates.Count(c => c.Held);
        if (held > 0) _workspace.Inform($"Collection '{collection.Name}': {held} file(s) old enough to clean up are kept: the newest version does not hold their bytes.");
        var from = _workspace.LocalTierName;
        return candidates.Where(c => !c.Held).Select(c => new TierMove
        {
            Subject = $"{collection.Name}:{c.File.Path}",
            DataClass = CleanupDataClass,
            Action = TierMoveAction.Delete,
            From = from,
            Rule = CollectionCleanup.RuleText(collection, c.Rule),
            Bytes = c.File.Size,
            Message = $"last written {c.File.Modified.ToLocalTime():yyyy-MM-dd HH:mm}",
        }).ToList();
    }

    /// <summary>Deletes the approved clean-up steps. Each file is checked again first: it still matches its rule by name and
    /// age, it is no link and lies under no link, its size and modified time are what the plan saw, and, where the rule
    /// requires a backup, its SHA-256 is the newest version's. Anything else is Skipped with the reason; nothing is deleted
    /// that the plan did not name.</summary>
    public async IAsyncEnumerable<TierMove> ApplyCleanupAsync(CollectionDefinition collection, IEnumerable<TierMove> approved, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(approved);
        var root = FolderOf(collection);
        var current = (await CleanupCandidatesAsync(collection, cancellationToken).ConfigureAwait(false)).ToDictionary(c => c.File.Path, StringComparer.Ordinal);
        var prefix = collection.Name + ":";
        foreach (var move in approved)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = move.Subject.StartsWith(prefix, StringComparison.Ordinal) ? move.Subject[prefix.Length..] : null;
            if (path is null || move.DataClass != CleanupDataClass || !current.TryGetValue(path, out var candidate))
            {
                yield return move with { State = TierMoveState.Skipped, Message = "Not deleted: the file is gone, younger than its rule now, or no longer matches it." };
                continue;
            }
            if (candidate.Held)
            {
                yield return move with { State = TierMoveState.Skipped, Message = $"Not deleted: {candidate.HeldReason}." };
                continue;
            }
            yield return await DeleteLocalFileAsync(root, candidate, move, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<TierMove> DeleteLocalFileAsync(string root, CleanupCandidate candidate, TierMove move, CancellationToken cancellationToken)
    {
        var file = candidate.File;
        if (LinkOnTheWay(root, file.FullPath) is { } link)
            return move with { State = TierMoveState.Skipped, Message = $"Not deleted: '{link}' is a symbolic link or junction now; the file may not be the one planned." };
        if (candidate.Sha256 is { } expected && await TryHashAsync(file.FullPath, cancellationToken).ConfigureAwait(false) != expected)
            return move with { State = TierMoveState.Skipped, Message = "Not deleted: its bytes differ from the newest version's." };
        try
        {
            var info = new FileInfo(file.FullPath);
            if (!info.Exists || info.LinkTarget is not null || info.Length != file.Size || new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero) != file.Modified)
                return move with { State = TierMoveState.Skipped, Message = "Not deleted: the file changed while it was checked." };
            info.Delete();
            return move with { State = TierMoveState.Done, Bytes = file.Size };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return move with { State = TierMoveState.Failed, Message = $"Could not delete it: {ex.Message}" };
        }
    }

    /// <summary>What the collection's clean-up rules match now. The newest version's files are read only when a rule
    /// requires a backup; a tier that cannot be read holds every such file back, with the reason.</summary>
    internal async Task<IReadOnlyList<CleanupCandidate>> CleanupCandidatesAsync(CollectionDefinition collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (collection.Cleanup.Count == 0) return [];
        var root = FolderOf(collection);
        Dictionary<string, CollectionFileEntry>? newest = null;
        string? unreadable = null;
        if (collection.Cleanup.Any(r => r.RequireBackup))
        {
            try
            {
                await using var store = await _workspace.OpenStoreForReadingAsync(TierOf(collection), cancellationToken).ConfigureAwait(false);
                var ids = await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false);
                if (ids.Count > 0)
                    newest = (await LoadManifestAsync(store, collection, ids[^1], cancellationToken).ConfigureAwait(false)).Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
            }
            catch (TierStorageException ex)
            {
                unreadable = $"the collection's tier could not be read to check the newest version ({ex.ErrorId})";
            }
        }
        return CollectionCleanup.Plan(collection, root, newest, unreadable, _workspace.Time.GetUtcNow(), cancellationToken);
    }
}
