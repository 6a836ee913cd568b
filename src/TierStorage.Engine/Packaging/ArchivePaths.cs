namespace TierStorage.Engine.Packaging;

/// <summary>
/// Decides whether a relative, forward-slash path from outside (a tar entry, a manifest name, an object key) is safe
/// to join under a local directory on any OS: the checks cover what Windows would treat as rooted or special even when
/// running on Linux, because archives and tiers move between machines.
/// </summary>
public static class ArchivePaths
{
    /// <summary>Why <paramref name="path"/> is unsafe, or null when it is a plain relative path.</summary>
    public static string? Problem(string path)
    {
        if (path.Length == 0) return "it is empty";
        if (path.Length > 1024) return "it is longer than 1024 characters";
        if (path.Contains('\\')) return "it contains a backslash (a Windows path separator)";
        if (path[0] == '/') return "it is an absolute path";
        if (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':') return "it starts with a drive letter";
        if (path.Contains(':')) return "it contains ':' (a drive or an NTFS stream)";
        foreach (var c in path)
            if (char.IsControl(c)) return "it contains a control character";
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0) return "it has an empty segment ('//' or a trailing '/')";
            if (segment is "." or "..") return $"it has a '{segment}' segment";
            // Windows drops trailing dots and spaces, so "a." and "a" would be the same file there.
            if (segment[^1] is '.' or ' ') return "a segment ends with '.' or a space";
        }
        return null;
    }
}
