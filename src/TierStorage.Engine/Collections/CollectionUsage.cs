using TierStorage.Contracts;

namespace TierStorage.Engine.Collections;

/// <summary>
/// The disk-usage analysis of a collection's folder (Get-CollectionUsage): bytes and files per folder down to a depth,
/// the largest files, and what the exclude globs leave out (each excluded folder once, with everything under it, and
/// excluded files per folder), in one walk of the folder. Links are not followed, as in a backup.
/// </summary>
public static class CollectionUsage
{
    public static IReadOnlyList<CollectionUsageItem> Analyse(CollectionDefinition collection, string root, int depth, int largest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (!Directory.Exists(root))
            throw new TierStorageException(ErrorIds.CollectionSourceNotFound, TierErrorKind.ObjectNotFound,
                $"Collection '{collection.Name}': its folder '{root}' does not exist.", collection.Name);
        var filter = CollectionFilter.For(collection);
        var folders = new Dictionary<string, (long Bytes, int Files)>(StringComparer.Ordinal) { ["."] = (0, 0) };
        var excluded = new Dictionary<string, (long Bytes, int Files)>(StringComparer.Ordinal);
        var kept = new List<(string Path, long Size)>();
        // One walk: a kept file counts in its folders down to the depth; an excluded folder is still walked, its files
        // counted under it; an excluded file under its folder's "(excluded files)". Links are not followed.
        var pending = new Stack<(DirectoryInfo Directory, string Relative, string? ExcludedAt)>();
        pending.Push((new DirectoryInfo(root), "", null));
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (directory, relative, excludedAt) = pending.Pop();
            foreach (var entry in directory.EnumerateFileSystemInfos("*", options))
            {
                var path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                if (entry is DirectoryInfo subdirectory)
                {
                    pending.Push((subdirectory, path, excludedAt ?? (filter.ExcludesFolder(path) ? path : null)));
                    continue;
                }
                if (entry is not FileInfo file) continue;
                if (excludedAt is null && filter.Includes(path))
                {
                    kept.Add((path, file.Length));
                    var segments = path.Split('/');
                    for (var level = 0; level <= Math.Min(depth, segments.Length - 1); level++)
                    {
                        var folder = level == 0 ? "." : string.Join('/', segments.Take(level));
                        var (bytes, count) = folders.GetValueOrDefault(folder);
                        folders[folder] = (bytes + file.Length, count + 1);
                    }
                    continue;
                }
                var key = excludedAt ?? (relative.Length == 0 ? "." : relative) + "/(excluded files)";
                var (excludedBytes, excludedCount) = excluded.GetValueOrDefault(key);
                excluded[key] = (excludedBytes + file.Length, excludedCount + 1);
            }
        }
        var rows = folders.OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => new CollectionUsageItem { Collection = collection.Name, Kind = CollectionUsageKind.Folder, Path = f.Key, Bytes = f.Value.Bytes, FileCount = f.Value.Files })
            .Concat(kept.OrderByDescending(f => f.Size).ThenBy(f => f.Path, StringComparer.Ordinal).Take(largest)
                .Select(f => new CollectionUsageItem { Collection = collection.Name, Kind = CollectionUsageKind.LargestFile, Path = f.Path, Bytes = f.Size, FileCount = 1 }))
            .Concat(excluded.OrderByDescending(e => e.Value.Bytes).ThenBy(e => e.Key, StringComparer.Ordinal)
                .Select(e => new CollectionUsageItem { Collection = collection.Name, Kind = CollectionUsageKind.Excluded, Path = e.Key, Bytes = e.Value.Bytes, FileCount = e.Value.Files }));
        return rows.ToList();
    }
}
