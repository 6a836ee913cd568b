namespace TierStorage.Engine.Policy;

/// <summary>
/// Where a folder tier may not be: a file system's root, a system folder, the workspace or a folder inside it, or a folder
/// another tier uses (or one inside it). Each would mix a tier's objects with files it does not own, which a rerun's
/// deletes and Test-Backup's orphan check would then act on, or keep a "backup" on the disk it backs up.
/// </summary>
public static class TierPathRules
{
    private static readonly string[] UnixSystemFolders =
        ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr", "/var", "/System", "/Library", "/Applications"];

    /// <summary>Why <paramref name="path"/> cannot hold a tier, or null when it can.</summary>
    public static string? Refusal(string path, string? workspaceRoot)
    {
        var full = Normalize(path);
        if (Path.GetPathRoot(full) is { } root && Normalize(root) == full)
            return $"'{full}' is the root of a file system; give the tier a folder of its own (for example {Path.Combine(full, "tierstorage-backup")}).";
        if (IsSystemFolder(full))
            return $"'{full}' is a system folder; give the tier a folder of its own, such as one under your home or a backup disk.";
        if (workspaceRoot is not null && IsSameOrInside(full, workspaceRoot))
            return $"'{full}' is the workspace '{Normalize(workspaceRoot)}' or a folder inside it: a copy on the same folder is no backup, and the workspace's own clean-up would reach it.";
        return null;
    }

    /// <summary>True when the two folders are the same or one is inside the other.</summary>
    public static bool Overlap(string first, string second) => IsSameOrInside(first, second) || IsSameOrInside(second, first);

    /// <summary>True for a folder that looks like an initialized workspace (its logs/ and analytics/ folders exist).</summary>
    public static bool IsWorkspace(string directory) =>
        Directory.Exists(Path.Combine(directory, "logs")) && Directory.Exists(Path.Combine(directory, "analytics"));

    private static bool IsSystemFolder(string full)
    {
        if (OperatingSystem.IsWindows())
        {
            foreach (var folder in new[] { Environment.SpecialFolder.Windows, Environment.SpecialFolder.ProgramFiles, Environment.SpecialFolder.ProgramFilesX86, Environment.SpecialFolder.System })
                if (Environment.GetFolderPath(folder) is { Length: > 0 } system && IsSameOrInside(full, system)) return true;
            return false;
        }
        return UnixSystemFolders.Any(folder => full == folder);
    }

    private static bool IsSameOrInside(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var p = Normalize(path);
        var f = Normalize(folder);
        return string.Equals(p, f, comparison)
            || p.StartsWith(Path.EndsInDirectorySeparator(f) ? f : f + Path.DirectorySeparatorChar, comparison);
    }

    private static string Normalize(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)) is { Length: > 0 } trimmed ? trimmed : Path.GetFullPath(path);
}
