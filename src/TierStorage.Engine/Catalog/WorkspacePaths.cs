namespace TierStorage.Engine.Catalog;

/// <summary>
/// How the catalog stores the paths of a workspace's files (logs, handoffs, snapshots): relative to the workspace, with '/'
/// (ARCHITECTURE invariant 7). A copied or moved workspace then finds its own files, never the original's. Rows written
/// before (absolute paths) are read as the same place inside this workspace when they name one of its folders.
/// </summary>
public static class WorkspacePaths
{
    private static readonly string[] WorkspaceFolders = ["logs", "handoffs", "state", "analytics", "staging"];

    /// <summary>&lt;root&gt; of &lt;root&gt;/analytics/agent_metrics.db.</summary>
    public static string RootOfCatalog(string catalogPath) =>
        System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(catalogPath))!) ?? System.IO.Path.GetFullPath(".");

    /// <summary>The form stored: relative to the root when the file is inside it, else the path as given.</summary>
    public static string? ToStored(string root, string? path)
    {
        if (path is null) return null;
        if (!System.IO.Path.IsPathFullyQualified(path)) return path.Replace('\\', '/');
        var relative = System.IO.Path.GetRelativePath(root, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || System.IO.Path.IsPathFullyQualified(relative) ? path : relative.Replace('\\', '/');
    }

    /// <summary>The full path in this workspace: a relative row under the root; an absolute row from before (or from the
    /// workspace this one was copied from) at the same place under this root when it names one of the workspace's folders.</summary>
    public static string? FromStored(string root, string? stored)
    {
        if (stored is null) return null;
        if (!System.IO.Path.IsPathFullyQualified(stored))
            return System.IO.Path.GetFullPath(System.IO.Path.Combine(root, stored.Replace('/', System.IO.Path.DirectorySeparatorChar)));
        if (IsInside(root, stored)) return stored;
        var parts = stored.Replace('\\', '/').Split('/');
        for (var i = parts.Length - 2; i >= 0; i--)
            if (WorkspaceFolders.Contains(parts[i], StringComparer.Ordinal))
                return System.IO.Path.Combine([root, .. parts[i..]]);
        return stored;
    }

    /// <summary>True when <paramref name="path"/> lies inside <paramref name="root"/>: the only files a workspace may delete.</summary>
    public static bool IsInside(string root, string path)
    {
        var relative = System.IO.Path.GetRelativePath(System.IO.Path.GetFullPath(root), System.IO.Path.GetFullPath(path));
        return relative != "." && !relative.StartsWith("..", StringComparison.Ordinal) && !System.IO.Path.IsPathFullyQualified(relative);
    }
}
