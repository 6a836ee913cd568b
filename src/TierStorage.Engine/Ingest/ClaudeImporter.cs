using System.Security.Cryptography;
using System.Text;
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
    /// <summary>Agent of every event (a subagent transcript whose name the caller knows).</summary>
    public string? AgentName { get; init; }
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
    /// <summary>Offset the import started from (0 on a first import or after the file was replaced).</summary>
    public long StartOffset { get; init; }
    /// <summary>The file no longer matched what was imported before (shorter, or another first line): read again from the start.</summary>
    public bool Restarted { get; init; }
}

/// <summary>Imports Claude Code transcripts into workspace sessions, incrementally: only complete lines past the remembered offset.</summary>
public static class ClaudeImporter
{
    public static async Task<ImportResult> ImportAsync(TierWorkspace workspace, string transcriptPath, ImportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SessionId is not null) SessionIds.Validate(options.SessionId);
        var path = Path.GetFullPath(transcriptPath);
        if (!File.Exists(path))
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, $"No Claude Code transcript at '{path}'.", path);

        var head = HeadHash(path);
        var previous = await workspace.Catalog.GetIngestOffsetAsync(path, cancellationToken).ConfigureAwait(false);
        var length = new FileInfo(path).Length;
        var restarted = previous is { Offset: > 0 } && (previous.Offset > length || previous.HeadHash != head);
        var start = previous is null || restarted ? 0 : previous.Offset;

        var parser = new ClaudeTranscriptParser(options.AgentName);
        var sessionId = options.SessionId ?? previous?.SessionId ?? SessionFor(PeekClaudeSessionId(path) ?? Path.GetFileNameWithoutExtension(path));
        await MarkImportedAsync(workspace, parser, sessionId, cancellationToken).ConfigureAwait(false);

        var events = new List<SessionEvent>();
        long end = start, lineNumber = 0;
        foreach (var (line, lineEnd) in ActivityLog.ReadLines(path, start))
        {
            cancellationToken.ThrowIfCancellationRequested();
            lineNumber++;
            events.AddRange(parser.ParseLine(line, lineNumber, lineEnd - Encoding.UTF8.GetByteCount(line) - 1));
            end = lineEnd;
        }
        events.AddRange(parser.Complete());

        var now = workspace.Now;
        var startedAt = parser.FirstTimestamp ?? now;
        var endedAt = parser.LastTimestamp ?? startedAt;
        var offset = new IngestOffset(path, end, head ?? "", sessionId, now);
        await workspace.AppendImportedAsync(sessionId, options.Phase, events, startedAt, endedAt,
            ct => workspace.Catalog.SaveIngestOffsetAsync(offset, ct), cancellationToken).ConfigureAwait(false);

        return new ImportResult
        {
            TranscriptPath = path,
            SessionId = sessionId,
            ClaudeSessionId = parser.ClaudeSessionId,
            EventsImported = events.Count,
            DuplicatesSkipped = parser.DuplicatesSkipped,
            MalformedLines = parser.Malformed,
            BytesRead = end - start,
            StartOffset = start,
            Restarted = restarted,
        };
    }

    /// <summary>"claude_" + the Claude session id, with characters a session id cannot hold replaced by '-'.</summary>
    public static string SessionFor(string claudeSessionId)
    {
        var safe = new string(claudeSessionId.Select(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' ? c : '-').ToArray());
        var id = "claude_" + safe;
        return id.Length > SessionIds.MaxLength ? id[..SessionIds.MaxLength] : id;
    }

    /// <summary>Model calls and tool uses already in the session are not imported twice (replayed lines, a replaced file read again).</summary>
    private static async Task MarkImportedAsync(TierWorkspace workspace, ClaudeTranscriptParser parser, string sessionId, CancellationToken cancellationToken)
    {
        if (await workspace.Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is null) return;
        await foreach (var e in workspace.GetEventsAsync(new SessionEventQuery { SessionId = sessionId }, cancellationToken).ConfigureAwait(false))
        {
            if (e.Data is not { } data) continue;
            if (e.Type == SessionEventType.LlmCall && data.TryGetValue("message_id", out var m) && m is string messageId)
                parser.MarkSeen(ClaudeTranscriptParser.CallKey(messageId, data.TryGetValue("request_id", out var r) ? r as string : null));
            if (e.Type == SessionEventType.ToolCall && data.TryGetValue("tool_use_id", out var t) && t is string toolUseId)
                parser.MarkSeen(ClaudeTranscriptParser.ToolKey(toolUseId));
        }
    }

    /// <summary>The Claude session id named by the first lines (subagent files name their parent's session).</summary>
    private static string? PeekClaudeSessionId(string path)
    {
        foreach (var (line, _) in ActivityLog.ReadLines(path, 0).Take(50))
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(line);
                if (document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                    && document.RootElement.TryGetProperty("sessionId", out var id) && id.ValueKind == System.Text.Json.JsonValueKind.String)
                    return id.GetString();
            }
            catch (System.Text.Json.JsonException)
            {
                // Reported by the parser with its line number.
            }
        }
        return null;
    }

    /// <summary>SHA-256 of the first complete line; null while the file has none.</summary>
    private static string? HeadHash(string path)
    {
        foreach (var (line, _) in ActivityLog.ReadLines(path, 0))
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(line)));
        return null;
    }
}
