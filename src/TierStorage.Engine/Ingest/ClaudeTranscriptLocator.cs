using System.Text;

namespace TierStorage.Engine.Ingest;

/// <summary>One transcript file: a session's main file (&lt;sessionId&gt;.jsonl at the top of the project's folder), or a file
/// nested at any depth under &lt;sessionId&gt;/ (a subagent's), which belongs to that session.</summary>
public sealed record ClaudeTranscript(string Path, string ClaudeSessionId, bool IsSubagent);

/// <summary>Finds Claude Code transcripts: &lt;config directory&gt;/projects/&lt;escaped project path&gt;/, where the config directories are
/// $CLAUDE_CONFIG_DIR (comma-separated, as ccusage reads it), else ~/.config/claude and ~/.claude.</summary>
public static class ClaudeTranscriptLocator
{
    public const string ConfigDirVariable = "CLAUDE_CONFIG_DIR";

    /// <summary>The first of <see cref="ConfigDirectories"/>.</summary>
    public static string ConfigDirectory(string? configDirectory = null) => ConfigDirectories(configDirectory)[0];

    /// <summary>The config directories: <paramref name="configDirectory"/>, else $CLAUDE_CONFIG_DIR, each a comma-separated list; else
    /// those of ~/.config/claude (newer Claude Code) and ~/.claude that exist, or ~/.claude when neither does.</summary>
    public static IReadOnlyList<string> ConfigDirectories(string? configDirectory = null)
    {
        var given = configDirectory is { Length: > 0 } ? configDirectory
            : Environment.GetEnvironmentVariable(ConfigDirVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        if (given is not null)
        {
            var list = given.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
            if (list.Count > 0) return list;
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string[] defaults = [Path.Combine(home, ".config", "claude"), Path.Combine(home, ".claude")];
        var existing = defaults.Where(d => Directory.Exists(Path.Combine(d, "projects"))).ToList();
        return existing.Count > 0 ? existing : [defaults[1]];
    }

    /// <summary>Claude Code names a project's folder after its working directory with every character other than
    /// A-Z, a-z and 0-9 replaced by '-' (/home/me/my_app → -home-me-my-app).</summary>
    public static string EscapeProjectPath(string projectPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(projectPath);
        var full = Path.GetFullPath(projectPath).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var escaped = new StringBuilder(full.Length);
        foreach (var c in full) escaped.Append(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '-');
        return escaped.ToString();
    }

    /// <summary>The project's folder in the first config directory.</summary>
    public static string ProjectDirectory(string projectPath, string? configDirectory = null) =>
        Path.Combine(ConfigDirectory(configDirectory), "projects", EscapeProjectPath(projectPath));

    /// <summary>The project's folder in every config directory.</summary>
    public static IReadOnlyList<string> ProjectDirectories(string projectPath, string? configDirectory = null) =>
        [.. ConfigDirectories(configDirectory).Select(c => Path.Combine(c, "projects", EscapeProjectPath(projectPath)))];

    /// <summary>The project's transcripts in every config directory: see <see cref="FindIn"/>.</summary>
    public static IReadOnlyList<ClaudeTranscript> Find(string projectPath, string? configDirectory = null) =>
        [.. ProjectDirectories(projectPath, configDirectory).SelectMany(FindIn)];

    /// <summary>The transcripts of every project folder (projects/*/) of every config directory, project by project.</summary>
    public static IReadOnlyList<ClaudeTranscript> FindAll(string? configDirectory = null) =>
        [.. ConfigDirectories(configDirectory).Select(c => Path.Combine(c, "projects")).Where(Directory.Exists)
            .SelectMany(p => new DirectoryInfo(p).EnumerateDirectories("*", Walk(recurse: false)).Select(d => d.FullName).Order(StringComparer.Ordinal))
            .SelectMany(FindIn)];

    /// <summary>
    /// Every *.jsonl under one project's folder, at any depth, but for hidden ones (as ccusage reads them), grouped by session: &lt;id&gt;.jsonl first, then
    /// the files under &lt;id&gt;/ (subagents, even when &lt;id&gt;.jsonl itself is gone), each group by name. Only regular files with
    /// content are listed: symbolic links (to files or folders, which could lead out of the folder) are not followed, and a pipe or a
    /// device named *.jsonl reports no length (opening a pipe would wait for a writer forever).
    /// </summary>
    public static IReadOnlyList<ClaudeTranscript> FindIn(string projectDirectory)
    {
        var found = new List<ClaudeTranscript>();
        if (!Directory.Exists(projectDirectory)) return found;
        var root = new DirectoryInfo(projectDirectory);
        var mains = root.EnumerateFiles("*.jsonl", Walk(recurse: false)).Where(IsTranscriptFile)
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f.Name), f => f.FullName, StringComparer.Ordinal);
        var folders = root.EnumerateDirectories("*", Walk(recurse: false)).ToDictionary(d => d.Name, d => d, StringComparer.Ordinal);
        foreach (var sessionId in mains.Keys.Union(folders.Keys).Order(StringComparer.Ordinal))
        {
            if (mains.TryGetValue(sessionId, out var main)) found.Add(new ClaudeTranscript(main, sessionId, IsSubagent: false));
            if (!folders.TryGetValue(sessionId, out var folder)) continue;
            foreach (var sub in folder.EnumerateFiles("*.jsonl", Walk(recurse: true)).Where(IsTranscriptFile).Select(f => f.FullName).Order(StringComparer.Ordinal))
                found.Add(new ClaudeTranscript(sub, sessionId, IsSubagent: true));
        }
        return found;
    }

    /// <summary>Hidden files and folders (dot names) are left out, as ccusage's glob leaves them; links are neither listed nor followed.</summary>
    private static EnumerationOptions Walk(bool recurse) => new()
    {
        RecurseSubdirectories = recurse,
        AttributesToSkip = FileAttributes.ReparsePoint | FileAttributes.Hidden,
        IgnoreInaccessible = true,
        MatchType = MatchType.Simple,
    };

    private static bool IsTranscriptFile(FileInfo file) => file.LinkTarget is null && file.Length > 0;
}
