namespace TierStorage.Engine.Collections;

/// <summary>A file found in a collection's folder, before its bytes are read.</summary>
public sealed record ScannedFile(string Path, string FullPath, long Size, DateTimeOffset Modified, int? Mode);

/// <summary>
/// Walks a collection's folder: the files its globs keep, with '/' paths relative to the folder, sorted by path. Folders
/// an exclude matches are not entered; symbolic links and other reparse points are not followed and not kept (a link
/// could lead outside the folder, or round in a loop), and are counted so the caller can say so.
/// </summary>
public static class CollectionScanner
{
    public static IReadOnlyList<ScannedFile> Scan(string root, CollectionFilter filter, out int linksSkipped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var files = new List<ScannedFile>();
        var skipped = 0;
        var pending = new Stack<(DirectoryInfo Directory, string Relative)>();
        pending.Push((new DirectoryInfo(root), ""));
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (directory, relative) = pending.Pop();
            foreach (var entry in directory.EnumerateFileSystemInfos("*", options))
            {
                var path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                if ((entry.Attributes & FileAttributes.ReparsePoint) != 0)
                {
                    if (!filter.ExcludesFolder(path)) skipped++;
                    continue;
                }
                if (entry is DirectoryInfo subdirectory)
                {
                    if (!filter.ExcludesFolder(path)) pending.Push((subdirectory, path));
                    continue;
                }
                if (entry is not FileInfo file || !filter.Includes(path)) continue;
                files.Add(new ScannedFile(path, file.FullName, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero),
                    OperatingSystem.IsWindows() ? null : (int)file.UnixFileMode));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        linksSkipped = skipped;
        return files;
    }
}
