using static TierStorage.Engine.Ingest.JsonFields;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Ingest;

/// <summary>What one hook call recorded. SessionId is null when the call touched no session (a PreToolUse hook only notes
/// the time its tool call started).</summary>
public sealed record HookOutcome(string HookEvent, string? SessionId, int EventsRecorded, bool SessionCompleted);

/// <summary>
/// `tierstorage hook`: one Claude Code hook payload (JSON on stdin) into the workspace, so a user's sessions are tracked
/// live with no code of their own. SessionStart starts a session (unless one is active), PreToolUse notes the start time
/// of the tool call (a tiny file under logs/.hooks/, keyed by tool_use_id), PostToolUse / PostToolUseFailure record the
/// tool_call with its measured duration, SubagentStop and Stop an agent_invocation, UserPromptSubmit a prompt's size
/// (never its text), SessionEnd completes the session. Quick by design: one parse, one append, no network; and, through
/// <see cref="TryRecordWithoutWorkspace"/>, no policy parser and no database while a session is active.
/// </summary>
public static class ClaudeHookRecorder
{
    private const string Agent = "claude-code";
    private const string SessionStart = "SessionStart";
    private const string SessionEnd = "SessionEnd";

    /// <summary>Where a payload that is not a hook event is noted (time and reason, never the payload), since a hook may
    /// print nothing; bounded so a misconfigured hook cannot fill the disk.</summary>
    public const string RejectedLogName = "hook_rejected.log";

    private const long MaxRejectedLogBytes = 1024 * 1024;

    /// <summary>Appends one line to logs/hook_rejected.log of an existing workspace; never creates a workspace, never throws.</summary>
    public static void NoteRejectedPayload(string workspaceRoot, string reason, DateTimeOffset now)
    {
        try
        {
            var logs = new WorkspaceLayout(workspaceRoot).LogsDirectory;
            if (!Directory.Exists(logs)) return;
            var path = Path.Combine(logs, RejectedLogName);
            if (File.Exists(path) && new FileInfo(path).Length >= MaxRejectedLogBytes) return;
            File.AppendAllText(path, $"{now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {ErrorIds.InvalidEvent} {reason.ReplaceLineEndings(" ")}{Environment.NewLine}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing else may be said: the hook is silent by contract.
        }
    }

    public static async Task<HookOutcome> RecordAsync(TierWorkspace workspace, string payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var (root, hook) = Parse(payload);
        var pending = workspace.Layout.HookMarkersDirectory;
        var now = workspace.Now;

        var active = await ActiveSessionAsync(workspace, cancellationToken).ConfigureAwait(false);
        // SessionStart joins the active session (a resumed or compacted conversation) rather than ending it.
        active ??= await workspace.StartSessionAsync(new StartSessionRequest(), cancellationToken).ConfigureAwait(false);
        var recorded = EventFor(root, hook, pending, now);
        var count = 0;
        if (recorded is not null)
        {
            await workspace.AppendEventsAsync([recorded], active.SessionId, cancellationToken).ConfigureAwait(false);
            ForgetToolStart(root, pending);
            count = 1;
        }
        if (hook == SessionEnd)
        {
            await workspace.CompleteSessionAsync(active.SessionId, cancellationToken).ConfigureAwait(false);
            return new HookOutcome(hook, active.SessionId, count, true);
        }
        return new HookOutcome(hook, active.SessionId, count, false);
    }

    /// <summary>
    /// The hook as a process that has not opened the workspace should run it: no catalog, and the policy's redaction from
    /// <see cref="RedactionCache"/> rather than the YAML. Handles every hook but SessionEnd while a session is active
    /// (the event is redacted by the policy and appended to the session's log, which the catalog indexes when it is next
    /// opened); PreToolUse and hooks that record nothing need no session at all. Returns null, having changed nothing,
    /// when the call needs the workspace: SessionEnd, no active session, no workspace, a payload that is not a hook's.
    /// </summary>
    public static HookOutcome? TryRecordWithoutWorkspace(string workspaceRoot, string? policyPath, string payload,
        DateTimeOffset now, Action<string>? warning, CancellationToken cancellationToken) =>
        TryRecordWithoutWorkspace(workspaceRoot, policyPath, payload, now, warning, RedactionCache.LoadForOneEvent, cancellationToken);

    /// <summary>
    /// <see cref="TryRecordWithoutWorkspace(string, string?, string, DateTimeOffset, Action{string}?, CancellationToken)"/>
    /// as the native hook (src/TierStorage.Hook) runs it: the same event, redaction and append, but the policy's patterns
    /// from <see cref="RedactionCache"/> only. Also returns null, having changed nothing, when that cache does not match
    /// the policy: the managed command, which the native hook then hands the call to, loads the policy and rewrites it.
    /// Nothing here reaches the YAML parser or SQLite, which is what lets the hook compile ahead of time.
    /// </summary>
    public static HookOutcome? TryRecordFromCachedPolicy(string workspaceRoot, string? policyPath, string payload,
        DateTimeOffset now, Action<string>? warning, CancellationToken cancellationToken) =>
        TryRecordWithoutWorkspace(workspaceRoot, policyPath, payload, now, warning, RedactionCache.TryLoadCachedForOneEvent, cancellationToken);

    /// <summary>Reads the arguments the fast path serves: <c>hook</c> with at most --workspace and --policy (each once, with
    /// a non-empty value), in any order. Anything else is for the command line parser, which reports it.</summary>
    public static bool TryReadFastPathArguments(IReadOnlyList<string> args, out string? workspacePath, out string? policyPath)
    {
        ArgumentNullException.ThrowIfNull(args);
        workspacePath = policyPath = null;
        var sawHook = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "hook" when !sawHook:
                    sawHook = true;
                    break;
                // An empty value goes to the parser, which reports it (with exit 1 for the hook).
                case "--workspace" when i + 1 < args.Count && workspacePath is null && args[i + 1].Length > 0:
                    workspacePath = args[++i];
                    break;
                case "--policy" when i + 1 < args.Count && policyPath is null && args[i + 1].Length > 0:
                    policyPath = args[++i];
                    break;
                default:
                    return false;
            }
        }
        return sawHook;
    }

    /// <param name="redactorFor">The policy's redactor from (cache path, resolved policy path), or null to hand the call on.</param>
    private static HookOutcome? TryRecordWithoutWorkspace(string workspaceRoot, string? policyPath, string payload,
        DateTimeOffset now, Action<string>? warning, Func<string, string?, Redactor?> redactorFor, CancellationToken cancellationToken)
    {
        JsonElement root;
        string hook;
        try
        {
            (root, hook) = Parse(payload);
        }
        catch (TierStorageException)
        {
            return null;
        }
        var layout = new WorkspaceLayout(workspaceRoot);
        // Without its catalog (lost, or moved aside) the log's session is unknown to the workspace: the full path decides.
        if (hook == SessionEnd || !Directory.Exists(layout.LogsDirectory) || !File.Exists(layout.CatalogPath)) return null;

        var recorded = EventFor(root, hook, layout.HookMarkersDirectory, now);
        if (recorded is null) return new HookOutcome(hook, null, 0, false);
        if (redactorFor(layout.RedactionCachePath, TierWorkspace.ResolvePolicyPath(layout.Root, policyPath)) is not { } redactor) return null;
        var redacted = new EventRedaction(redactor).Apply(recorded, warning);
        if (TierWorkspace.TryAppendWithoutCatalog(layout, redacted, warning, cancellationToken) is not { } sessionId)
            return null;
        ForgetToolStart(root, layout.HookMarkersDirectory);
        return new HookOutcome(hook, sessionId, 1, false);
    }

    private static (JsonElement Root, string Hook) Parse(string payload)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(payload);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            // Where, not the parser's message: that quotes the offending text ("'hunter2' is an invalid JSON literal"), and
            // the reason goes to hook_rejected.log, which never holds any of the payload.
            throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidData,
                $"The hook payload is not JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).", null, ex);
        }
        if (root.ValueKind != JsonValueKind.Object || String(root, "hook_event_name") is not { Length: > 0 } hook)
            throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidData, "The hook payload has no hook_event_name: is this a Claude Code hook?", null);
        return (root, hook);
    }

    /// <summary>The event a hook records, or null (PreToolUse only notes its start time; unknown hooks record nothing).</summary>
    private static SessionEvent? EventFor(JsonElement root, string hook, string pending, DateTimeOffset now)
    {
        var claudeSession = String(root, "session_id");
        var agent = String(root, "agent_type") is { Length: > 0 } subagent ? subagent : Agent;
        return hook switch
        {
            SessionStart => new SessionEvent
            {
                Timestamp = now, Type = SessionEventType.AgentInvocation, Agent = Agent, Task = "session start",
                Data = Data(("claude_session", claudeSession), ("source", String(root, "source"))),
            },
            "PreToolUse" => NoteStart(pending, String(root, "tool_use_id"), now),
            "PostToolUse" or "PostToolUseFailure" => ToolCall(root, hook, agent, claudeSession, pending, now),
            "SubagentStop" => new SessionEvent
            {
                Timestamp = now, Type = SessionEventType.AgentInvocation, Agent = agent == Agent ? "subagent" : agent, Task = "subagent finished",
                Success = true, Data = Data(("claude_session", claudeSession), ("agent_id", String(root, "agent_id"))),
            },
            "Stop" => new SessionEvent
            {
                Timestamp = now, Type = SessionEventType.AgentInvocation, Agent = agent, Task = "response finished", Success = true,
                Data = Data(("claude_session", claudeSession)),
            },
            "UserPromptSubmit" => new SessionEvent
            {
                Timestamp = now, Type = SessionEventType.AgentInvocation, Agent = "user", Task = "prompt",
                // The prompt's size only: its text may hold anything, and the log is not the place for it.
                Data = Data(("claude_session", claudeSession), ("prompt_chars", (long)(String(root, "prompt")?.Length ?? 0))),
            },
            _ => null,
        };
    }

    private static async Task<SessionInfo?> ActiveSessionAsync(TierWorkspace workspace, CancellationToken cancellationToken)
    {
        await foreach (var s in workspace.GetSessionsAsync(new SessionFilter { State = SessionState.Active }, cancellationToken).ConfigureAwait(false))
            return s;
        return null;
    }

    private static SessionEvent? NoteStart(string pending, string? toolUseId, DateTimeOffset now)
    {
        if (!IsSafeId(toolUseId)) return null;
        Directory.CreateDirectory(pending);
        File.WriteAllText(Path.Combine(pending, toolUseId!), now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return null;
    }

    /// <summary>Removes a tool call's start marker once its event is written (not before: a call that ends up not recording
    /// it leaves the marker for the one that does).</summary>
    private static void ForgetToolStart(JsonElement root, string pending)
    {
        if (String(root, "hook_event_name") is "PostToolUse" or "PostToolUseFailure" && String(root, "tool_use_id") is { } toolUseId && IsSafeId(toolUseId)
            && Path.Combine(pending, toolUseId) is var marker && File.Exists(marker))
            File.Delete(marker);
    }

    private static SessionEvent ToolCall(JsonElement root, string hook, string agent, string? claudeSession, string pending, DateTimeOffset now)
    {
        var toolUseId = String(root, "tool_use_id");
        long? duration = null;
        if (IsSafeId(toolUseId) && Path.Combine(pending, toolUseId!) is var marker && File.Exists(marker))
        {
            if (long.TryParse(File.ReadAllText(marker), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var startedMs))
                duration = Math.Max(0, now.ToUnixTimeMilliseconds() - startedMs);
        }
        var input = root.TryGetProperty("tool_input", out var i) && i.ValueKind == JsonValueKind.Object ? i : default;
        var response = root.TryGetProperty("tool_response", out var r) ? r : default;
        var failed = hook == "PostToolUseFailure"
                     || response.ValueKind == JsonValueKind.Object && (Bool(response, "is_error") == true || Bool(response, "success") == false);
        return new SessionEvent
        {
            Timestamp = now, Type = SessionEventType.ToolCall, Agent = agent, Tool = String(root, "tool_name"), DurationMs = duration, Success = !failed,
            ErrorType = failed ? "tool_error" : null,
            File = input.ValueKind == JsonValueKind.Object ? String(input, "file_path") ?? String(input, "path") ?? String(input, "notebook_path") : null,
            Data = Data(("claude_session", claudeSession), ("tool_use_id", toolUseId),
                ("command", input.ValueKind == JsonValueKind.Object ? String(input, "command") : null)),
        };
    }

    /// <summary>Tool-use ids name the marker files: only ids that cannot reach outside logs/.hooks/ are used.</summary>
    private static bool IsSafeId(string? id) =>
        id is { Length: > 0 and <= 128 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static Dictionary<string, object?> Data(params (string Key, object? Value)[] pairs)
    {
        // A loop, not LINQ: each generic instantiation over the tuple would be compiled at start-up of every hook process.
        var data = new Dictionary<string, object?>(pairs.Length, StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
            if (value is not null) data[key] = value;
        return data;
    }
}
