using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Ingest;

public sealed record ImportOptions
{
    /// <summary>TierStorage session to import into; default "claude_" + the Claude session id.</summary>
    public string? SessionId { get; init; }
    /// <summary>Phase of a newly created session; default the phase of the latest session.</summary>
    public int? Phase { get; init; }
    /// <summary>Agent of every event (a subagent transcript whose name the caller knows). Default: the subagent_type of the
    /// Task call that started the subagent, for a subagent's transcript whose parent was imported first.</summary>
    public string? AgentName { get; init; }
}

/// <summary>When an imported session counts as finished (Claude Code writes no end marker into its transcripts).</summary>
public sealed record CompletionOptions
{
    public static readonly TimeSpan DefaultIdleTime = TimeSpan.FromMinutes(30);

    /// <summary>Finished once its last transcript line is this old.</summary>
    public TimeSpan IdleTime { get; init; } = DefaultIdleTime;
    /// <summary>Finished now, whatever the age of its last line (-Complete, --complete).</summary>
    public bool Force { get; init; }
}

public sealed record ImportResult
{
    public string TranscriptPath { get; init; } = "";
    public string SessionId { get; init; } = "";
    public string? ClaudeSessionId { get; init; }
    public long EventsImported { get; init; }
    public long DuplicatesSkipped { get; init; }
    public IReadOnlyList<MalformedLine> MalformedLines { get; init; } = [];
    public long BytesRead { get; init; }
    /// <summary>Lines parsed: only those past the remembered offset.</summary>
    public long LinesRead { get; init; }
    /// <summary>The agent the transcript's events were attributed to: for a subagent's transcript, the subagent_type of the Task call
    /// that started it (else the agentType of its .meta.json, or "compaction"); null for a main transcript.</summary>
    public string? Agent { get; init; }
    /// <summary>Offset the import started from (0 on a first import or after the file was replaced).</summary>
    public long StartOffset { get; init; }
    /// <summary>The file no longer matched what was imported before (shorter, or another first line): read again from the start.</summary>
    public bool Restarted { get; init; }
    /// <summary>The models of the model calls this import stored (to report those without a price).</summary>
    public IReadOnlySet<string> Models { get; init; } = new HashSet<string>();
}

/// <summary>Imports Claude Code transcripts into workspace sessions, incrementally: only complete lines past the remembered offset.</summary>
public static class ClaudeImporter
{
    public static async Task<ImportResult> ImportAsync(TierWorkspace workspace, string transcriptPath, ImportOptions options, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(workspace, transcriptPath, options, cancellationToken).ConfigureAwait(false);
        prepared.Parse(cancellationToken);
        return await prepared.StoreAsync(workspace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One transcript's import in its three steps: <see cref="PrepareAsync"/> reads what the catalog knows of it (its offset,
    /// session, open tool uses, the Task call that started it), <see cref="Parse"/> reads its new lines (no catalog, no workspace: it
    /// may run on another thread while the catalog stores another transcript) and <see cref="StoreAsync"/> stores them.</summary>
    internal sealed class PreparedImport
    {
        private readonly string _path;
        private readonly string? _headHash;
        private readonly long _start;
        private readonly bool _restarted;
        private readonly int? _phase;
        private readonly string? _agent;
        private readonly ClaudeTranscriptParser _parser;
        private readonly TierWorkspace _workspace;
        private readonly List<SessionEvent> _events = [];
        private IReadOnlyList<ImportedEvent> _prepared = [];
        private long _end;
        private bool _parsed;

        internal PreparedImport(TierWorkspace workspace, string path, string? headHash, long start, bool restarted, string sessionId, int? phase, string? agent,
            ClaudeTranscriptParser parser)
        {
            (_workspace, _path, _headHash, _start, _restarted, SessionId, _phase, _agent, _parser, _end) = (workspace, path, headHash, start, restarted, sessionId, phase, agent, parser, start);
        }

        /// <summary>The TierStorage session the transcript goes to.</summary>
        public string SessionId { get; }

        /// <summary>Parses the complete lines past the remembered offset, and readies their events for the catalog and the log
        /// (redacted, encoded: <see cref="TierWorkspace.PrepareImported"/>).</summary>
        public void Parse(CancellationToken cancellationToken)
        {
            if (_parsed) throw new InvalidOperationException("The transcript was parsed already.");
            _parsed = true;
            long lineNumber = 0;
            foreach (var line in TranscriptLines.Read(_path, _start))
            {
                cancellationToken.ThrowIfCancellationRequested();
                lineNumber++;
                _events.AddRange(_parser.ParseLine(line.Utf8, lineNumber, line.EndOffset - line.Utf8.Length - 1));
                _end = line.EndOffset;
            }
            cancellationToken.ThrowIfCancellationRequested();
            _prepared = _workspace.PrepareImported(SessionId, _events);
        }

        /// <summary>Stores what <see cref="Parse"/> read, under the workspace's write lock.</summary>
        public Task<ImportResult> StoreAsync(TierWorkspace workspace, CancellationToken cancellationToken)
        {
            if (!_parsed) throw new InvalidOperationException("The transcript was not parsed yet.");
            if (!ReferenceEquals(workspace, _workspace)) throw new InvalidOperationException("The transcript was prepared for another workspace.");
            return StoreParsedAsync(workspace, _path, _headHash, _start, _restarted, SessionId, _phase, _agent, _parser, _prepared, _end, cancellationToken);
        }
    }

    /// <summary>The first step of <see cref="ImportAsync"/>: what the catalog knows of the transcript. Throws as ImportAsync throws
    /// for a file that is missing, empty or not a transcript.</summary>
    internal static async Task<PreparedImport> PrepareAsync(TierWorkspace workspace, string transcriptPath, ImportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SessionId is not null) SessionIds.Validate(options.SessionId);
        var path = Path.GetFullPath(transcriptPath);
        if (!File.Exists(path))
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, $"No Claude Code transcript at '{path}'.", path);
        // Pipes and devices report no length, and opening a pipe waits for a writer that may never come: only a regular
        // file with content is read.
        if (new FileInfo(path).Length == 0)
            throw new TierStorageException(ErrorIds.InvalidTranscript, TierErrorKind.InvalidData,
                $"'{path}' is empty or is not a regular file (a pipe or a device); nothing was imported.", path);

        var headHash = HeadHash(path);
        var previous = await workspace.Catalog.GetIngestOffsetAsync(path, cancellationToken).ConfigureAwait(false);
        var length = new FileInfo(path).Length;
        var restarted = previous is { Offset: > 0 } && (previous.Offset > length || previous.HeadHash != headHash);
        var start = previous is null || restarted ? 0 : previous.Offset;

        var head = Peek(path);
        // Any other file (a --path typo such as /etc/passwd) would otherwise become a session of malformed lines.
        if (head.Entries == 0 && start == 0)
            throw new TierStorageException(ErrorIds.InvalidTranscript, TierErrorKind.InvalidData,
                $"'{path}' is not a Claude Code transcript: none of its first lines is a JSON object with a \"type\"; nothing was imported.", path);
        var sessionId = options.SessionId ?? previous?.SessionId ?? SessionFor(head.SessionId ?? Path.GetFileNameWithoutExtension(path));
        var exists = await workspace.Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is not null;
        var linked = options.AgentName is null && exists ? await LinkedAgentAsync(workspace, sessionId, path, head, cancellationToken).ConfigureAwait(false) : null;
        // Claude Code's context compaction runs as a subagent no Task call started: its calls cost tokens, but it is not a task.
        var compaction = head.AgentId?.StartsWith(CompactionAgentPrefix, StringComparison.Ordinal) == true;
        // A subagent started by a Task call is counted by that call's agent_invocation; its own transcript only tags its events.
        var agent = options.AgentName ?? linked ?? (compaction ? CompactionAgent : SidecarAgentType(path));
        var parser = new ClaudeTranscriptParser(agent, announceAgent: linked is null && !compaction);
        if (exists)
        {
            var (openTools, openRuns) = ReadPending(await workspace.Catalog.GetPendingAsync(sessionId, path, cancellationToken).ConfigureAwait(false));
            parser.Restore(openTools);
            parser.Restore(openRuns);
        }

        return new PreparedImport(workspace, path, headHash, start, restarted, sessionId, options.Phase, agent, parser);
    }

    private static async Task<ImportResult> StoreParsedAsync(TierWorkspace workspace, string path, string? headHash, long start, bool restarted, string sessionId,
        int? phase, string? agent, ClaudeTranscriptParser parser, IReadOnlyList<ImportedEvent> events, long end, CancellationToken cancellationToken)
    {
        var pending = parser.Pending;
        var runs = parser.Runs;
        var offset = new IngestOffset(path, end, headHash ?? "", sessionId, workspace.Now);
        var links = parser.Links.ToList();
        IReadOnlyList<ImportedEvent> fresh = [];
        List<PendingRow> pendingRows = [];
        long duplicates = 0;
        // Replays of what earlier imports stored (a replaced file read again, lines Claude Code repeats, another import of the same
        // lines at the same time), asked of the catalog key by key under the write lock.
        async Task<IReadOnlyList<ImportedEvent>> FreshLockedAsync(CancellationToken ct)
        {
            var (notStored, stored) = await WithoutStoredAsync(workspace, sessionId, events, e => e.Parsed,
                pending.Select(p => ClaudeTranscriptParser.ToolCallKey(p.Id)).Concat(runs.Select(r => ClaudeTranscriptParser.KeyOf(r.ToEvent())).OfType<string>()), ct).ConfigureAwait(false);
            // A resumed conversation's transcript repeats the calls of the session it continues: each (message id, request id) is one
            // API call, counted once across sessions as ccusage counts it. Calls without a request id stay per session.
            var calls = notStored.Where(e => e.Parsed.Type == SessionEventType.LlmCall).Select(e => ClaudeTranscriptParser.KeyOf(e.Parsed))
                .OfType<string>().Where(k => !k.EndsWith('|')).ToList();
            if (calls.Count > 0 && await workspace.Catalog.FindIngestKeysElsewhereAsync(sessionId, calls, ct).ConfigureAwait(false) is { Count: > 0 } copied)
                notStored = [.. notStored.Where(e => e.Parsed.Type != SessionEventType.LlmCall || ClaudeTranscriptParser.KeyOf(e.Parsed) is not { } key || !copied.Contains(key))];
            pendingRows = [.. pending.Where(p => !stored.Contains(ClaudeTranscriptParser.ToolCallKey(p.Id))).Select(p => ToRow(path, p)),
                .. runs.Where(r => ClaudeTranscriptParser.KeyOf(r.ToEvent()) is not { } key || !stored.Contains(key)).Select(r => ToRow(path, r))];
            duplicates = parser.DuplicatesSkipped + events.Count - notStored.Count + pending.Count + runs.Count - pendingRows.Count;
            return fresh = notStored;
        }
        await workspace.AppendImportedAsync(sessionId, phase, FreshLockedAsync, parser.FirstTimestamp, parser.LastTimestamp,
            // What stays open between imports is transcript text too (a Task's description and subagent type, a tool's file):
            // redacted like the events it becomes, or the catalog would keep the secrets the events do not (issue 11 #19).
            ct => workspace.Catalog.SaveIngestStateAsync(offset,
                [.. pendingRows.Select(r => r with { State = workspace.Redaction.Document(r.State) })],
                [.. links.Select(l => l with { SubagentType = workspace.Redaction.Document(l.SubagentType) })], parser.Malformed.Count, ct), cancellationToken).ConfigureAwait(false);

        return new ImportResult
        {
            TranscriptPath = path,
            SessionId = sessionId,
            ClaudeSessionId = parser.ClaudeSessionId,
            EventsImported = fresh.Count,
            DuplicatesSkipped = duplicates,
            MalformedLines = parser.Malformed,
            BytesRead = end - start,
            LinesRead = parser.LinesParsed,
            Agent = agent,
            StartOffset = start,
            Restarted = restarted,
            Models = fresh.Select(e => e.Parsed.Model).OfType<string>().ToHashSet(StringComparer.Ordinal),
        };
    }

    /// <summary>"claude_" + the Claude session id, with characters a session id cannot hold replaced by '-'.</summary>
    public static string SessionFor(string claudeSessionId)
    {
        var safe = new string(claudeSessionId.Select(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' ? c : '-').ToArray());
        var id = "claude_" + safe;
        return id.Length > SessionIds.MaxLength ? id[..SessionIds.MaxLength] : id;
    }

    /// <summary>
    /// Completes an imported session once it is finished: <paramref name="completion"/> forces it, or its last transcript line is older
    /// than the idle time. Tool uses still waiting then become tool_call events without an outcome (no result will come), and the
    /// session gets its session_end and handoff note as Complete-Session gives a native one. A finished session is completed again
    /// only when <paramref name="changed"/> (new lines arrived since), which rewrites its handoff without a second session_end.
    /// </summary>
    /// <returns>Whether the session is (now) completed this way.</returns>
    public static async Task<bool> CompleteIfFinishedAsync(TierWorkspace workspace, string sessionId, CompletionOptions completion, bool changed,
        CancellationToken cancellationToken) =>
        (await CompleteIfFinishedAsync(workspace, sessionId, completion, changed, rollUp: true, cancellationToken).ConfigureAwait(false)).Completed;

    /// <summary>As <see cref="CompleteIfFinishedAsync(TierWorkspace, string, CompletionOptions, bool, CancellationToken)"/>; without
    /// <paramref name="rollUp"/> the caller folds and stores the review rollup of a session completed <c>Now</c>.</summary>
    internal static async Task<(bool Completed, bool Now)> CompleteIfFinishedAsync(TierWorkspace workspace, string sessionId, CompletionOptions completion, bool changed,
        bool rollUp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(completion);
        var record = await workspace.Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        // An active session is a native one (Start-Session, the hook) that an import was pointed at: only its own end completes it.
        if (record is null || record.State == SessionState.Active) return (false, false);
        if (record.State > SessionState.Completed || (record.HandoffPath is not null && !changed)) return (record.HandoffPath is not null, false);
        var lastLine = record.EndedAt ?? record.StartedAt;
        if (!completion.Force && workspace.Now - lastLine < completion.IdleTime) return (false, false);

        async Task<IReadOnlyList<SessionEvent>> UnansweredLockedAsync(CancellationToken ct)
        {
            var (tools, runs) = ReadPending(await workspace.Catalog.GetPendingAsync(sessionId, null, ct).ConfigureAwait(false));
            var unanswered = tools.SelectMany(p => p.ToEvents(null, null, null)).Concat(runs.Select(r => r.ToEvent())).OrderBy(e => e.Timestamp).ToList();
            return (await WithoutStoredAsync(workspace, sessionId, unanswered, e => e, [], ct).ConfigureAwait(false)).Fresh;
        }
        var completed = await workspace.CompleteImportedAsync(sessionId, UnansweredLockedAsync,
            ct => workspace.Catalog.DeletePendingAsync(sessionId, ct), cancellationToken, rollUp).ConfigureAwait(false);
        return (completed, completed);
    }

    /// <summary>The events an earlier import did not store yet (by <see cref="ClaudeTranscriptParser.KeyOf"/>), and which of their keys and
    /// <paramref name="alsoAsk"/> the session's events already hold.</summary>
    private static async Task<(IReadOnlyList<T> Fresh, IReadOnlySet<string> Stored)> WithoutStoredAsync<T>(TierWorkspace workspace, string sessionId,
        IReadOnlyList<T> events, Func<T, SessionEvent> parsed, IEnumerable<string> alsoAsk, CancellationToken cancellationToken)
    {
        // A session the catalog does not know holds no events (events.session_id references sessions): nothing to look up, which
        // spares a first import one index seek per event.
        var keys = await workspace.Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is null
            ? []
            : events.Select(e => ClaudeTranscriptParser.KeyOf(parsed(e))).OfType<string>().Concat(alsoAsk).ToList();
        IReadOnlySet<string> stored = keys.Count > 0
            ? await workspace.Catalog.FindIngestKeysAsync(sessionId, keys, cancellationToken).ConfigureAwait(false)
            : new HashSet<string>();
        if (stored.Count == 0) return (events, stored);
        return (events.Where(e => ClaudeTranscriptParser.KeyOf(parsed(e)) is not { } key || !stored.Contains(key)).ToList(), stored);
    }

    private const string ToolItem = "tool:";
    private const string RunItem = "run:";

    private static PendingRow ToRow(string path, PendingToolUse tool) => new(path, ToolItem + tool.Id, JsonSerializer.Serialize(tool, PendingJson.Default.PendingToolUse));

    private static PendingRow ToRow(string path, SidechainRun run) => new(path, RunItem + run.Identity, JsonSerializer.Serialize(run, PendingJson.Default.SidechainRun));

    /// <summary>The tool uses and sidechain runs of ingest_pending rows.</summary>
    private static (List<PendingToolUse> Tools, List<SidechainRun> Runs) ReadPending(IReadOnlyList<PendingRow> rows)
    {
        var tools = new List<PendingToolUse>();
        var runs = new List<SidechainRun>();
        foreach (var row in rows)
        {
            try
            {
                if (row.Item.StartsWith(ToolItem, StringComparison.Ordinal)) tools.Add(JsonSerializer.Deserialize(row.State, PendingJson.Default.PendingToolUse) ?? throw new JsonException("null"));
                else if (row.Item.StartsWith(RunItem, StringComparison.Ordinal)) runs.Add(JsonSerializer.Deserialize(row.State, PendingJson.Default.SidechainRun) ?? throw new JsonException("null"));
                else throw new JsonException("an item of unknown kind");
            }
            catch (JsonException ex)
            {
                throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                    $"The catalog's open item '{row.Item}' of '{row.Path}' (table ingest_pending) cannot be read: {ex.Message}", row.Path, ex);
            }
        }
        return (tools, runs);
    }

    /// <summary>What the first lines of a transcript say: the Claude session id (subagent files name their parent's session), the
    /// subagent's agent id, and the first user prompt.</summary>
    /// <param name="Entries">Lines of the head that are JSON objects with a "type", as every transcript line is.</param>
    private sealed record TranscriptHead(string? SessionId, string? AgentId, string? Prompt, int Entries);

    private static TranscriptHead Peek(string path)
    {
        string? sessionId = null, agentId = null, prompt = null;
        var entries = 0;
        foreach (var (line, _) in ActivityLog.ReadLines(path, 0).Take(50))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object) continue;
                if (JsonFields.String(root, "type") is not null) entries++;
                sessionId ??= JsonFields.String(root, "sessionId");
                agentId ??= JsonFields.String(root, "agentId");
                if (prompt is null && JsonFields.String(root, "type") == "user" && root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
                    prompt = message.TryGetProperty("content", out var content) ? content.ValueKind switch
                    {
                        JsonValueKind.String => content.GetString(),
                        JsonValueKind.Array => string.Concat(content.EnumerateArray().Where(b => b.ValueKind == JsonValueKind.Object && JsonFields.String(b, "type") == "text")
                            .Select(b => JsonFields.String(b, "text"))),
                        _ => null,
                    } : null;
                if (sessionId is not null && prompt is not null) break;
            }
            catch (JsonException)
            {
                // Reported by the parser with its line number.
            }
        }
        var name = Path.GetFileNameWithoutExtension(path);
        if (agentId is null && name.StartsWith("agent-", StringComparison.Ordinal)) agentId = name["agent-".Length..];
        return new TranscriptHead(sessionId, agentId, prompt, entries);
    }

    /// <summary>Agent ids of Claude Code's automatic context compaction (subagents/agent-acompact-&lt;id&gt;.jsonl).</summary>
    private const string CompactionAgentPrefix = "acompact";
    public const string CompactionAgent = "compaction";

    /// <summary>The agentType of the agent-&lt;id&gt;.meta.json file Claude Code writes beside a subagent's transcript, if any.</summary>
    private static string? SidecarAgentType(string path)
    {
        var meta = Path.ChangeExtension(path, ".meta.json");
        if (!File.Exists(meta)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(meta));
            return document.RootElement.ValueKind == JsonValueKind.Object ? JsonFields.String(document.RootElement, "agentType") : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null; // A helper file only: the transcript still imports, under the agent id.
        }
    }

    /// <summary>The subagent_type of the Task call that started this subagent transcript: by the agent id its result named, else (the
    /// subagent still running) by its prompt. Null for a main transcript or a subagent whose Task call was not imported.</summary>
    private static async Task<string?> LinkedAgentAsync(TierWorkspace workspace, string sessionId, string path, TranscriptHead head, CancellationToken cancellationToken)
    {
        if (head.AgentId is null && !Path.GetFileName(Path.GetDirectoryName(path) ?? "").Equals("subagents", StringComparison.Ordinal)) return null;
        var links = await workspace.Catalog.GetAgentLinksAsync(sessionId, cancellationToken).ConfigureAwait(false);
        var promptHash = head.Prompt is null ? null : ClaudeTranscriptParser.PromptHash(head.Prompt);
        return (links.LastOrDefault(l => head.AgentId is not null && l.AgentId == head.AgentId)
            ?? links.LastOrDefault(l => promptHash is not null && l.PromptHash == promptHash && (l.AgentId is null || l.AgentId == head.AgentId)))?.SubagentType;
    }

    /// <summary>SHA-256 of the first complete line; null while the file has none.</summary>
    private static string? HeadHash(string path)
    {
        foreach (var (line, _) in ActivityLog.ReadLines(path, 0))
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(line)));
        return null;
    }
}

/// <summary>The open items of ingest_pending as JSON, by a source-generated serializer: the same text as the reflection
/// one's defaults, without building its accessors at run time (issue 12: start-up; a NativeAOT build cannot run it).</summary>
[JsonSerializable(typeof(PendingToolUse))]
[JsonSerializable(typeof(SidechainRun))]
internal sealed partial class PendingJson : JsonSerializerContext;
