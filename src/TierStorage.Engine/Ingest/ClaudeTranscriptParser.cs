using static TierStorage.Engine.Ingest.JsonFields;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Ingest;

/// <summary>A transcript line that could not be turned into events: its 1-based number (counted from where the read started),
/// the byte offset it starts at, and why.</summary>
public sealed record MalformedLine(long LineNumber, long ByteOffset, string Reason);

/// <summary>A tool use still waiting for its result: kept between imports (a transcript read while Claude Code is still writing it),
/// and written as a tool_call without duration or outcome once its session is finished and no result came.</summary>
public sealed record PendingToolUse(string Id, string Name, string? File, string? SubagentType, string? Description, string? PromptHash,
    string? Agent, string? Model, DateTimeOffset StartedAt, long Order)
{
    /// <summary>The tool_call, and for a Task call the agent_invocation of the subagent it ran (its agent id once the result names it).</summary>
    public IEnumerable<SessionEvent> ToEvents(long? duration, bool? success, string? errorType, string? agentId = null)
    {
        var toolCall = new SessionEvent
        {
            Timestamp = StartedAt,
            Type = SessionEventType.ToolCall,
            Agent = Agent,
            Tool = Name,
            File = File,
            DurationMs = duration,
            Success = success,
            ErrorType = errorType,
            Data = new Dictionary<string, object?> { ["tool_use_id"] = Id },
        };
        yield return toolCall;
        if (SubagentType is null) yield break;
        var data = new Dictionary<string, object?> { ["tool_use_id"] = Id, ["source"] = "task" };
        if (agentId is not null) data["agent_id"] = agentId;
        yield return toolCall with { Type = SessionEventType.AgentInvocation, Agent = SubagentType, Tool = null, File = null, Task = Description, Data = data };
    }
}

/// <summary>A subagent's sidechain that no Task call accounts for (a Task call not imported, an old transcript): its agent_invocation
/// is written when its session is finished, timed from its first line to its last.</summary>
public sealed record SidechainRun(string Identity, string Agent, string? AgentId, DateTimeOffset FirstAt, DateTimeOffset LastAt)
{
    public SessionEvent ToEvent()
    {
        var data = new Dictionary<string, object?> { ["source"] = "sidechain" };
        if (AgentId is not null) data["agent_id"] = AgentId;
        return new SessionEvent
        {
            Timestamp = FirstAt, Type = SessionEventType.AgentInvocation, Agent = Agent,
            DurationMs = (long)(LastAt - FirstAt).TotalMilliseconds, Data = data,
        };
    }
}

/// <summary>
/// Turns Claude Code transcript lines (~/.claude/projects/&lt;project&gt;/&lt;sessionId&gt;.jsonl) into session events, one line at a time.
/// Assistant messages with usage become llm_call events; tool_use blocks become tool_call events once their tool_result arrives
/// (until then they are <see cref="Pending"/>, or flushed by <see cref="Complete"/>); Task/Agent tool uses become agent_invocation
/// events when their result arrives, sidechains no Task call accounts for (<see cref="Runs"/>) at <see cref="Complete"/>.
/// </summary>
public sealed partial class ClaudeTranscriptParser
{
    /// <summary>The data field an llm_call's 1-hour cache-write tokens are kept in (the review bills them at the 1-hour rate).</summary>
    public const string CacheWrite1hKey = "cache_write_1h_tokens";

    public const string SyntheticModel = "<synthetic>";
    private const string SidechainAgent = "sidechain";

    private readonly string? _agentName;
    private readonly bool _announceAgent;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingToolUse> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AgentLink> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SidechainRun> _runs = new(StringComparer.Ordinal);
    private readonly List<MalformedLine> _malformed = [];
    private long _order;

    /// <param name="agentName">Agent of every event, for a subagent transcript whose name is known.</param>
    /// <param name="announceAgent">Keep track of sidechains as <see cref="Runs"/>. False when the subagent's run is already
    /// counted by the agent_invocation of the Task call that started it.</param>
    public ClaudeTranscriptParser(string? agentName = null, bool announceAgent = true)
    {
        _agentName = agentName;
        _announceAgent = announceAgent;
    }

    /// <summary>The Claude session id of the first line that carried one.</summary>
    public string? ClaudeSessionId { get; private set; }
    public long DuplicatesSkipped { get; private set; }
    public IReadOnlyList<MalformedLine> Malformed => _malformed;
    public DateTimeOffset? FirstTimestamp { get; private set; }
    public DateTimeOffset? LastTimestamp { get; private set; }
    /// <summary>Non-empty lines handed to <see cref="ParseLine"/>: what an incremental import had to read.</summary>
    public long LinesParsed { get; private set; }

    /// <summary>Tool uses still waiting for their result, oldest first.</summary>
    public IReadOnlyList<PendingToolUse> Pending => _pending.Values.OrderBy(p => p.Order).ToList();

    /// <summary>Sidechains no Task call accounts for, first and last line so far.</summary>
    public IReadOnlyList<SidechainRun> Runs => _runs.Values.OrderBy(r => r.FirstAt).ToList();

    /// <summary>Task calls seen in this read: started (with the hash of their prompt) or answered (with the subagent's agent id).</summary>
    public IReadOnlyCollection<AgentLink> Links => _links.Values;

    /// <summary>Takes back the tool uses an earlier import left waiting, so their results in the lines read now complete them.</summary>
    public void Restore(IEnumerable<PendingToolUse> pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        foreach (var tool in pending)
        {
            _pending[tool.Id] = tool;
            _seen.Add(ToolKey(tool.Id));
            _order = Math.Max(_order, tool.Order + 1);
        }
    }

    /// <summary>Takes back the sidechain runs an earlier import left open, so the lines read now extend them.</summary>
    public void Restore(IEnumerable<SidechainRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        foreach (var run in runs) _runs[run.Identity] = run;
    }

    private static string CallKey(string messageId, string? requestId) => "call:" + messageId + "|" + requestId;
    private static string ToolKey(string toolUseId) => "tool:" + toolUseId;

    /// <summary>What makes an imported event the same as one imported before: the key stored in events.ingest_key
    /// (<see cref="IngestKeys"/>), or null for events that have none.</summary>
    public static string? KeyOf(SessionEvent e) => IngestKeys.Of(e);

    /// <summary>The key a tool use's tool_call will have (<see cref="KeyOf"/>).</summary>
    public static string ToolCallKey(string toolUseId) => "tool_call:" + toolUseId;

    /// <summary>SHA-256 of a subagent's prompt: the Task call's input.prompt is the first user message of the subagent's transcript,
    /// which links the two while the subagent still runs (before the Task result names its agent id).</summary>
    public static string PromptHash(string prompt) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(prompt.Trim())));

    /// <summary>Events of one line. Malformed lines are recorded in <see cref="Malformed"/> and yield nothing.</summary>
    public IReadOnlyList<SessionEvent> ParseLine(string line, long lineNumber, long byteOffset = 0)
    {
        if (string.IsNullOrWhiteSpace(line)) return [];
        LinesParsed++;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            return Bad(lineNumber, byteOffset, "not valid JSON: " + ex.Message);
        }
        using (document) return Events(document, lineNumber, byteOffset);
    }

    /// <summary>As <see cref="ParseLine(string, long, long)"/>, for the line's UTF-8 bytes as read from the file (without its line
    /// break): parsed where they are, without decoding them to a string first. A line that is not plain valid UTF-8 JSON (blank,
    /// invalid UTF-8, a byte order mark, not JSON) takes the string path, so every line gives the same result either way.</summary>
    public IReadOnlyList<SessionEvent> ParseLine(ReadOnlyMemory<byte> utf8, long lineNumber, long byteOffset = 0)
    {
        var span = utf8.Span;
        JsonDocument? document = null;
        if (!span.StartsWith(Utf8Bom) && System.Text.Unicode.Utf8.IsValid(span))
        {
            try
            {
                document = JsonDocument.Parse(utf8);
            }
            catch (JsonException)
            {
                // Blank or not JSON: reported (or skipped) by the string path, with its message.
            }
        }
        if (document is null) return ParseLine(Encoding.UTF8.GetString(span), lineNumber, byteOffset);
        LinesParsed++;
        using (document) return Events(document, lineNumber, byteOffset);
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private List<SessionEvent> Events(JsonDocument document, long lineNumber, long byteOffset)
    {
        var events = new List<SessionEvent>();
        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Bad(lineNumber, byteOffset, $"a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object");
            var type = String(root, "type");
            if (type is not ("assistant" or "user")) return []; // summary, system, file-history-snapshot, queue-operation: no events
            if (!root.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
                return Bad(lineNumber, byteOffset, $"a {type} line without a message object");
            if (String(root, "timestamp") is not { } text || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
                return Bad(lineNumber, byteOffset, $"a {type} line without a valid timestamp");
            timestamp = timestamp.ToUniversalTime();
            ClaudeSessionId ??= String(root, "sessionId");
            if (FirstTimestamp is null || timestamp < FirstTimestamp) FirstTimestamp = timestamp;
            if (LastTimestamp is null || timestamp > LastTimestamp) LastTimestamp = timestamp;

            var agent = AgentOf(root, timestamp);
            if (type == "assistant") ParseAssistant(root, message, timestamp, agent, events);
            else ParseUser(root, message, timestamp, events);
        }
        catch (InvalidOperationException ex)
        {
            // A field of an unexpected JSON kind (a string where a number belongs).
            return Bad(lineNumber, byteOffset, "unexpected field type: " + ex.Message);
        }
        catch (FormatException ex)
        {
            return Bad(lineNumber, byteOffset, "unexpected field value: " + ex.Message);
        }
        return events;
    }

    /// <summary>The end of the transcript: tool uses still waiting for their result, as tool_call events without a duration or
    /// outcome, and the agent_invocation of each sidechain run.</summary>
    public IReadOnlyList<SessionEvent> Complete()
    {
        var events = Pending.SelectMany(p => p.ToEvents(null, null, null)).Concat(Runs.Select(r => r.ToEvent())).ToList();
        _pending.Clear();
        _runs.Clear();
        return events;
    }

    private List<SessionEvent> Bad(long lineNumber, long byteOffset, string reason)
    {
        _malformed.Add(new MalformedLine(lineNumber, byteOffset, reason));
        return [];
    }

    /// <summary>Who speaks on this line: the subagent for sidechain lines (whose run it extends), else the main agent (null).</summary>
    private string? AgentOf(JsonElement root, DateTimeOffset timestamp)
    {
        var sidechain = root.TryGetProperty("isSidechain", out var s) && s.ValueKind == JsonValueKind.True;
        if (!sidechain) return _agentName;
        var agentId = String(root, "agentId");
        // A sidechain inside the main transcript belongs to the Task call still running; the newest one if several run.
        var running = _pending.Values.Where(p => p.SubagentType is not null).OrderByDescending(p => p.Order).FirstOrDefault();
        var name = _agentName ?? running?.SubagentType ?? (agentId is null ? SidechainAgent : "agent-" + agentId);
        var identity = running is not null && _agentName is null ? "task:" + running.Id : "agent:" + (agentId ?? name);
        if (_announceAgent && (running is null || _agentName is not null))
        {
            _runs[identity] = _runs.TryGetValue(identity, out var run)
                ? run with { FirstAt = timestamp < run.FirstAt ? timestamp : run.FirstAt, LastAt = timestamp > run.LastAt ? timestamp : run.LastAt }
                : new SidechainRun(identity, name, agentId, timestamp, timestamp);
        }
        return name;
    }

    private void ParseAssistant(JsonElement root, JsonElement message, DateTimeOffset timestamp, string? agent, List<SessionEvent> events)
    {
        var model = String(message, "model");
        if (model == SyntheticModel) return; // Claude Code's own placeholder replies (interruptions, errors): no model was called
        var messageId = String(message, "id");
        var requestId = String(root, "requestId");

        if (message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            // Claude Code writes one line per content block of a response, each repeating the response's usage.
            if (messageId is not null && !_seen.Add(CallKey(messageId, requestId)))
            {
                DuplicatesSkipped++;
            }
            else
            {
                var data = new Dictionary<string, object?>();
                if (messageId is not null) data["message_id"] = messageId;
                if (requestId is not null) data["request_id"] = requestId;
                if (usage.TryGetProperty("cache_creation", out var creation) && creation.ValueKind == JsonValueKind.Object)
                {
                    if (Long(creation, "ephemeral_5m_input_tokens") is { } m5) data["cache_write_5m_tokens"] = m5;
                    if (Long(creation, "ephemeral_1h_input_tokens") is { } h1) data[CacheWrite1hKey] = h1;
                }
                if (root.TryGetProperty("costUSD", out var cost) && cost.ValueKind == JsonValueKind.Number) data["cost_usd"] = cost.GetDouble();
                events.Add(new SessionEvent
                {
                    Timestamp = timestamp,
                    Type = SessionEventType.LlmCall,
                    Agent = agent,
                    Model = model,
                    Success = true,
                    Tokens = new TokenUsage
                    {
                        Input = Long(usage, "input_tokens") ?? 0,
                        Output = Long(usage, "output_tokens") ?? 0,
                        CacheWrite = Long(usage, "cache_creation_input_tokens") ?? 0,
                        CacheRead = Long(usage, "cache_read_input_tokens") ?? 0,
                    },
                    Data = data,
                });
            }
        }

        if (!message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array) return;
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || String(block, "type") != "tool_use") continue;
            var id = String(block, "id");
            var name = String(block, "name") ?? "unknown";
            if (id is null) continue;
            if (!_seen.Add(ToolKey(id)))
            {
                DuplicatesSkipped++;
                continue;
            }
            block.TryGetProperty("input", out var input);
            var isObject = input.ValueKind == JsonValueKind.Object;
            var file = isObject ? String(input, "file_path") ?? String(input, "notebook_path") ?? String(input, "path") : null;
            var subagent = isObject && name is "Task" or "Agent" ? String(input, "subagent_type") ?? "general-purpose" : null;
            var description = isObject && subagent is not null ? String(input, "description") : null;
            var prompt = subagent is not null && String(input, "prompt") is { } text ? PromptHash(text) : null;
            _pending[id] = new PendingToolUse(id, name, file, subagent, description, prompt, agent, model, timestamp, _order++);
            if (subagent is not null) _links[id] = new AgentLink(id, subagent, prompt, null);
        }
    }

    private void ParseUser(JsonElement root, JsonElement message, DateTimeOffset timestamp, List<SessionEvent> events)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array) return;
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || String(block, "type") != "tool_result") continue;
            if (String(block, "tool_use_id") is not { } id || !_pending.Remove(id, out var pending)) continue;
            var failed = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
            var duration = (long)Math.Max(0, (timestamp - pending.StartedAt).TotalMilliseconds);
            var errorType = failed ? ErrorTypeOf(block, root) : null;
            var agentId = pending.SubagentType is null ? null : AgentIdOf(block, root);
            if (pending.SubagentType is not null) _links[id] = new AgentLink(id, pending.SubagentType, pending.PromptHash, agentId);
            events.AddRange(pending.ToEvents(duration, !failed, errorType, agentId));
        }
    }

    /// <summary>A short, stable classification of a failed tool result, from its text.</summary>
    private static string ErrorTypeOf(JsonElement block, JsonElement root)
    {
        var text = TextOf(block) ?? String(root, "toolUseResult");
        if (string.IsNullOrWhiteSpace(text)) return "tool_error";
        if (text.Contains("rejected", StringComparison.OrdinalIgnoreCase) || text.Contains("doesn't want to proceed", StringComparison.OrdinalIgnoreCase)) return "user_rejected";
        if (text.Contains("timed out", StringComparison.OrdinalIgnoreCase) || text.Contains("timeout", StringComparison.OrdinalIgnoreCase)) return "timeout";
        if (text.Contains("does not exist", StringComparison.OrdinalIgnoreCase) || text.Contains("not found", StringComparison.OrdinalIgnoreCase)) return "not_found";
        if (text.Contains("Exit code", StringComparison.OrdinalIgnoreCase)) return "nonzero_exit";
        return "tool_error";
    }

    /// <summary>The agent id Claude Code gave a Task's subagent: toolUseResult.agentId, or the "agentId: …" line of the result text.</summary>
    private static string? AgentIdOf(JsonElement block, JsonElement root)
    {
        if (root.TryGetProperty("toolUseResult", out var result) && result.ValueKind == JsonValueKind.Object && String(result, "agentId") is { } id) return id;
        var text = TextOf(block);
        return text is not null && AgentIdLine().Match(text) is { Success: true } match ? match.Groups[1].Value : null;
    }

    private static string? TextOf(JsonElement block) => block.TryGetProperty("content", out var c) ? c.ValueKind switch
    {
        JsonValueKind.String => c.GetString(),
        JsonValueKind.Array => string.Join(" ", c.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Object).Select(x => String(x, "text"))),
        _ => null,
    } : null;

    [GeneratedRegex(@"\bagent_?[iI]d:\s*([A-Za-z0-9_@.\-]+)")]
    private static partial Regex AgentIdLine();
}
