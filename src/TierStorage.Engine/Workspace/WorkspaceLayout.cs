namespace TierStorage.Engine.Workspace;

/// <summary>The seed layout of the local tier (ARCHITECTURE.md): every path the workspace uses, in one place.</summary>
public sealed class WorkspaceLayout
{
    public const string PolicyFileName = "tierstorage.yaml";
    public const string CurrentLogName = "session_current.jsonl";
    public const string PreviousLogName = "session_previous.jsonl";

    public WorkspaceLayout(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }
    public string PolicyPath => Path.Combine(Root, PolicyFileName);
    public string LogsDirectory => Path.Combine(Root, "logs");
    public string StateDirectory => Path.Combine(Root, "state");
    public string AnalyticsDirectory => Path.Combine(Root, "analytics");
    public string HandoffsDirectory => Path.Combine(Root, "handoffs");
    public string CredentialsDirectory => Path.Combine(Root, "credentials");
    public string QuarantineDirectory => Path.Combine(LogsDirectory, "quarantine");
    /// <summary>Session packages waiting to be uploaded (kept until verified, so an interrupted upload resumes with the same bytes)
    /// and downloads being restored. Created on demand.</summary>
    public string StagingDirectory => Path.Combine(Root, "staging");
    public string CatalogPath => Path.Combine(AnalyticsDirectory, "agent_metrics.db");
    /// <summary>The policy's redaction as JSON, for hook calls that must not pay for the YAML parser (RedactionCache).</summary>
    public string RedactionCachePath => Path.Combine(AnalyticsDirectory, "redaction_cache.json");
    /// <summary>Start times of tool calls in flight, one file per tool_use_id (Claude Code's PreToolUse hook).</summary>
    public string HookMarkersDirectory => Path.Combine(LogsDirectory, ".hooks");
    /// <summary>Serializes every change to logs and snapshots across processes (parallel agents' hooks).</summary>
    public string WriteLockPath => Path.Combine(LogsDirectory, ".write.lock");
    public string CurrentLogPath => Path.Combine(LogsDirectory, CurrentLogName);
    public string PreviousLogPath => Path.Combine(LogsDirectory, PreviousLogName);

    public IReadOnlyList<string> Directories =>
        [LogsDirectory, StateDirectory, AnalyticsDirectory, HandoffsDirectory, CredentialsDirectory];

    /// <summary>Where a session older than the previous one keeps its log while it waits for a verified backup.</summary>
    public string RetainedLogPath(string sessionId) => Path.Combine(LogsDirectory, sessionId + ".jsonl");

    public string HandoffPath(string sessionId) => Path.Combine(HandoffsDirectory, sessionId + "_handoff.md");

    public string SnapshotPath(string sessionId, int sequence) =>
        Path.Combine(StateDirectory, $"{sessionId}_snap{sequence:000}.json.gz");

    /// <summary>Snapshot files of a session with their sequence numbers, newest first.</summary>
    public IEnumerable<(int Sequence, string Path)> EnumerateSnapshots(string sessionId)
    {
        if (!Directory.Exists(StateDirectory)) return [];
        var prefix = sessionId + "_snap";
        return Directory.EnumerateFiles(StateDirectory, prefix + "*.json.gz")
            .Select(path => (Name: System.IO.Path.GetFileName(path), Path: path))
            .Select(f => (Ok: int.TryParse(f.Name.AsSpan(prefix.Length, f.Name.Length - prefix.Length - ".json.gz".Length), out var seq), Sequence: seq, f.Path))
            .Where(f => f.Ok)
            .OrderByDescending(f => f.Sequence)
            .Select(f => (f.Sequence, f.Path))
            .ToList();
    }
}
