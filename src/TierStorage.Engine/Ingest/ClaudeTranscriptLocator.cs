using System.Text;

namespace TierStorage.Engine.Ingest;

/// <summary>One transcript file: the main session file, or a subagent's file nested under &lt;sessionId&gt;/.</summary>
public sealed record ClaudeTranscript(string Path, string ClaudeSessionId, bool IsSubagent);

/// <summary>Finds Claude Code transcripts: $CLAUDE_CONFIG_DIR (default ~/.claude)/projects/&lt;escaped project path&gt;/.</summary>
public static class ClaudeTranscriptLocator
{
    public const string ConfigDirVariable = "CLAUDE_CONFIG_DIR";

    public static string ConfigDirectory(string? configDirectory = null) =>
        configDirectory
        ?? (Environment.GetEnvironmentVariable(ConfigDirVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null)
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".claude");

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

    public static string ProjectDirectory(string projectPath, string? configDirectory = null) =>
        Path.Combine(ConfigDirectory(configDirectory), "projects", EscapeProjectPath(projectPath));

    /// <summary>The project's transcripts, main files first (by name), each followed by its nested subagent files.
    /// A project Claude Code never ran in has none. Files with no content are left out: a pipe or a device named
    /// *.jsonl reports no length, and opening a pipe would wait for a writer forever.</summary>
    public static IReadOnlyList<ClaudeTranscript> Find(string projectPath, string? configDirectory = null)
    {
        var directory = ProjectDirectory(projectPath, configDirectory);
        var found = new List<ClaudeTranscript>();
        if (!Directory.Exists(directory)) return found;
        foreach (var main in Directory.EnumerateFiles(directory, "*.jsonl").Where(HasContent).Order(StringComparer.Ordinal))
        {
            var sessionId = Path.GetFileNameWithoutExtension(main);
            found.Add(new ClaudeTranscript(main, sessionId, IsSubagent: false));
            var nested = Path.Combine(directory, sessionId);
            if (!Directory.Exists(nested)) continue;
            foreach (var sub in Directory.EnumerateFiles(nested, "*.jsonl", SearchOption.AllDirectories).Where(HasContent).Order(StringComparer.Ordinal))
                found.Add(new ClaudeTranscript(sub, sessionId, IsSubagent: true));
        }
        return found;
    }

    private static bool HasContent(string path) => new FileInfo(path).Length > 0;
}
