using static TierStorage.Engine.Ingest.JsonFields;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Ingest;

/// <summary>What one hook call recorded.</summary>
public sealed record HookOutcome(string HookEvent, string SessionId, int EventsRecorded, bool SessionCompleted);

/// <summary>
/// `tierstorage hook`: one Claude Code hook payload (JSON on stdin) into the workspace, so a user's sessions are tracked
/// live with no code of their own. SessionStart starts a session (unless one is active), PreToolUse notes the start time
/// of the tool call (a tiny file under logs/.hooks/, keyed by tool_use_id), PostToolUse / PostToolUseFailure record the
/// tool_call with its measured duration, SubagentStop and Stop an agent_invocation, UserPromptSubmit a prompt's size
/// (never its text), SessionEnd completes the session. Quick by design: one parse, one append, no network.
/// </summary>
public static class ClaudeHookRecorder
{
    private const string Agent = "claude-code";

    public static async Task<HookOutcome> RecordAsync(TierWorkspace workspace, string payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(payload);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidData, $"The hook payload is not JSON ({ex.Message}).", null, ex);
        }
        if (root.ValueKind != JsonValueKind.Object || String(root, "hook_event_name") is not { Length: > 0 } hook)
            throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidData, "The hook payload has no hook_event_name: is this a Claude Code hook?", null);

        var claudeSession = String(root, "session_id");
        var agent = String(root, "agent_type") is { Length: > 0 } subagent ? subagent : Agent;
        var now = workspace.Now;
        var pending = Path.Combine(workspace.Layout.LogsDirectory, ".hooks");

        var active = await ActiveSessionAsync(workspace, cancellationToken).ConfigureAwait(false);
        if (hook == "SessionStart")
        {
            var session = active ?? await workspace.StartSessionAsync(new StartSessionRequest(), cancellationToken).ConfigureAwait(false);
            await workspace.AppendEventsAsync([new SessionEvent
            {
                Timestamp = now, Type = SessionEventType.AgentInvocation, Agent = Agent, Task = "session start",
                Data = Data(("claude_session", claudeSession), ("source", String(root, "source"))),
            }], session.SessionId, cancellationToken).ConfigureAwait(false);
            return new HookOutcome(hook, session.SessionId, 1, false);
        }

        active ??= await workspace.StartSessionAsync(new StartSessionRequest(), cancellationToken).ConfigureAwait(false);
        SessionEvent? recorded = hook switch
        {
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
        var count = 0;
        if (recorded is not null)
        {
            await workspace.AppendEventsAsync([recorded], active.SessionId, cancellationToken).ConfigureAwait(false);
            count = 1;
        }
        if (hook == "SessionEnd")
        {
            await workspace.CompleteSessionAsync(active.SessionId, cancellationToken).ConfigureAwait(false);
            return new HookOutcome(hook, active.SessionId, count, true);
        }
        return new HookOutcome(hook, active.SessionId, count, false);
    }

    private static async Task<SessionInfo?> ActiveSessionAsync(TierWorkspace workspace, CancellationToken cancellationToken)
    {
        await foreach (var s in workspace.GetSessionsAsync(new SessionFilter { State = SessionState.Active }, cancellationToken).ConfigureAwait(false))
            return s;
        return null;
    }

    /// <summary>The PreToolUse fast path, for a process that has not opened the workspace: only the start time is noted
    /// (a file under logs/.hooks/), so the hook before every tool call costs no policy load and no database.
    /// Returns false for any other hook (or a payload without a usable tool_use_id).</summary>
    public static bool TryNoteToolStart(string workspaceRoot, string payload, DateTimeOffset now)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || String(root, "hook_event_name") != "PreToolUse" || !Directory.Exists(Path.Combine(workspaceRoot, "logs")))
                return false;
            var toolUseId = String(root, "tool_use_id");
            if (!IsSafeId(toolUseId)) return false;
            NoteStart(Path.Combine(workspaceRoot, "logs", ".hooks"), toolUseId, now);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static SessionEvent? NoteStart(string pending, string? toolUseId, DateTimeOffset now)
    {
        if (!IsSafeId(toolUseId)) return null;
        Directory.CreateDirectory(pending);
        File.WriteAllText(Path.Combine(pending, toolUseId!), now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return null;
    }

    private static SessionEvent ToolCall(JsonElement root, string hook, string agent, string? claudeSession, string pending, DateTimeOffset now)
    {
        var toolUseId = String(root, "tool_use_id");
        long? duration = null;
        if (IsSafeId(toolUseId) && Path.Combine(pending, toolUseId!) is var marker && File.Exists(marker))
        {
            if (long.TryParse(File.ReadAllText(marker), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var startedMs))
                duration = Math.Max(0, now.ToUnixTimeMilliseconds() - startedMs);
            File.Delete(marker);
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

    private static Dictionary<string, object?> Data(params (string Key, object? Value)[] pairs) =>
        pairs.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
