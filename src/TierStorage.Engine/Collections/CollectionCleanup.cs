using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Collections;

/// <summary>A file one clean-up rule would delete: <see cref="HeldReason"/> says why it is kept instead (the collection's
/// newest version does not hold its bytes); <see cref="Sha256"/> is what that version holds, checked again before the
/// delete.</summary>
public sealed record CleanupCandidate(int Rule, ScannedFile File, string? Sha256, string? HeldReason)
{
    public bool Held => HeldReason is not null;
}

/// <summary>
/// A collection's <c>cleanup:</c> rules over its folder as it is now: each rule's files (its include globs, none of its
/// excludes, last written more than older_than_days ago), the first rule matching a file taking it. Links are not followed,
/// as in a backup. A rule that requires a backup only deletes a file whose size and modified time are the newest
/// version's; <see cref="CollectionOperations.ApplyCleanupAsync"/> then compares its SHA-256 before deleting it.
/// </summary>
public static class CollectionCleanup
{
    /// <param name="newest">The newest version's files by path; null when there is no version, or it could not be read
    /// (<paramref name="unreadable"/> says why).</param>
    public static IReadOnlyList<CleanupCandidate> Plan(CollectionDefinition collection, string root, IReadOnlyDictionary<string, CollectionFileEntry>? newest,
        string? unreadable, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (collection.Cleanup.Count == 0 || !Directory.Exists(root)) return [];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new List<CleanupCandidate>();
        for (var i = 0; i < collection.Cleanup.Count; i++)
        {
            var rule = collection.Cleanup[i];
            var cutoff = now.AddDays(-rule.OlderThanDays);
            var filter = new CollectionFilter(rule.Include, rule.Exclude, CollectionGlob.IgnoreCaseByDefault);
            foreach (var file in CollectionScanner.Scan(root, filter, out _, cancellationToken))
            {
                if (file.Modified >= cutoff || !taken.Add(file.Path)) continue;
                if (!rule.RequireBackup)
                {
                    candidates.Add(new CleanupCandidate(i, file, null, null));
                    continue;
                }
                CollectionFileEntry? held = null;
                var reason = newest is null
                    ? unreadable ?? "the collection has no version yet"
                    : !newest.TryGetValue(file.Path, out held) ? "the newest version does not hold it (back it up first, or set require_backup: false)"
                    : held.Size != file.Size || held.Modified != file.Modified ? "it changed since the newest version"
                    : null;
                candidates.Add(new CleanupCandidate(i, file, held?.Sha256, reason));
            }
        }
        return candidates;
    }

    /// <summary>"collections[logs].cleanup[0]: **/*.log older than 30 days".</summary>
    public static string RuleText(CollectionDefinition collection, int rule)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return string.Create(CultureInfo.InvariantCulture, $"collections[{collection.Name}].cleanup[{rule}]: {collection.Cleanup[rule]}");
    }
}
