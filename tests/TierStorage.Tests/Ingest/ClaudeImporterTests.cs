using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Ingest.Fixtures;
using TierStorage.Tests.Workspace;

namespace TierStorage.Tests.Ingest;

public class ClaudeImporterTests : TierStorage.Tests.Backup.CatalogProviderTests, IDisposable
{
    public ClaudeImporterTests() : this(null) { }

    protected ClaudeImporterTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture? postgres) : base(postgres) => Directory.CreateDirectory(_dir);

    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ts-claude-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private string Transcript(params string[] lines)
    {
        var path = Path.Combine(_dir, ClaudeFixtures.SessionId + ".jsonl");
        File.WriteAllText(path, ClaudeFixtures.Text(lines));
        return path;
    }

    private static async Task<List<SessionEvent>> EventsAsync(Engine.Workspace.TierWorkspace ws, string sessionId)
    {
        var list = new List<SessionEvent>();
        await foreach (var e in ws.GetEventsAsync(new SessionEventQuery { SessionId = sessionId }, None)) list.Add(e);
        return list;
    }

    [Fact]
    public async Task An_imported_call_is_reviewed_at_its_cache_write_split_one_hour_tokens_at_the_one_hour_rate()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var path = Transcript("""{"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_01","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":10,"cache_creation_input_tokens":1000,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400},"output_tokens":5}},"requestId":"req_01","type":"assistant","uuid":"u-3","timestamp":"2026-11-20T10:00:01.000Z"}""");
        var imported = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions { Phase = 4 }, None);

        var review = await ws.ReviewPhaseAsync(4, None);

        // By hand, Sonnet 4.5 per million: 10 input x $3 + 5 output x $15 + 600 5-minute writes x $3.75 + 400 1-hour writes x $6
        // + 2,000 cache reads x $0.30 = $0.005355.
        Assert.Equal(1, imported.EventsImported);
        Assert.Equal(0.005355m, review.Total.CostUsd);
    }

    [Fact]
    public async Task A_file_that_is_not_a_transcript_is_refused_and_creates_no_session()
    {
        // Issue 11 #17: `import claude --path /etc/passwd` created a session of malformed lines.
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var path = Path.Combine(_dir, "passwd");
        File.WriteAllText(path, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");

        var error = await Assert.ThrowsAsync<TierStorageException>(() => ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None));

        Assert.Equal(ErrorIds.InvalidTranscript, error.ErrorId);
        Assert.Equal(TierErrorKind.InvalidData, error.Kind);
        var sessions = 0;
        await foreach (var _ in ws.GetSessionsAsync(new SessionFilter(), None)) sessions++;
        Assert.Equal(0, sessions);
    }

    [Fact]
    public async Task A_pipe_or_an_empty_file_given_as_the_transcript_is_refused_without_waiting_for_a_writer()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var empty = Path.Combine(_dir, "empty.jsonl");
        File.WriteAllText(empty, "");
        var paths = new List<string> { empty };
        if (!OperatingSystem.IsWindows())
        {
            var pipe = Path.Combine(_dir, "pipe.jsonl");
            ClaudeTranscriptLocatorTests.MakeFifo(pipe);
            paths.Add(pipe);
        }

        foreach (var path in paths)
        {
            var error = await Assert.ThrowsAsync<TierStorageException>(
                () => ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(ErrorIds.InvalidTranscript, error.ErrorId);
        }
    }

    [Fact]
    public async Task A_transcript_becomes_a_completed_session_with_its_own_log()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var path = Transcript(ClaudeFixtures.Main);

        var result = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None);

        var sessionId = "claude_" + ClaudeFixtures.SessionId;
        Assert.Equal(sessionId, result.SessionId);
        Assert.Equal(9, result.EventsImported);
        Assert.Equal(2, result.DuplicatesSkipped);
        Assert.Equal(ClaudeFixtures.MalformedLines, result.MalformedLines.Select(m => m.LineNumber));
        Assert.Equal(new FileInfo(path).Length, result.BytesRead);
        Assert.False(result.Restarted);

        var stored = await EventsAsync(ws, sessionId);
        Assert.Equal(10, stored.Count);
        Assert.Equal(SessionEventType.SessionStart, stored[0].Type);
        var tokens = stored.Where(e => e.Tokens is not null).Select(e => e.Tokens!).Aggregate((a, b) => a + b);
        Assert.Equal(new TokenUsage { Input = 118, Output = 72, CacheRead = 5000, CacheWrite = 1000 }, tokens);
        Assert.True(File.Exists(t.Layout.RetainedLogPath(sessionId)));

        await foreach (var info in ws.GetSessionsAsync(new Engine.Workspace.SessionFilter { SessionId = sessionId }, None))
        {
            Assert.Equal(SessionState.Completed, info.State);
            Assert.Equal(10, info.EventCount);
            Assert.Equal(DateTimeOffset.Parse("2026-11-20T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), info.StartedAt);
            Assert.Equal(t.Layout.RetainedLogPath(sessionId), info.LogPath);
        }
    }

    [Fact]
    public async Task A_reimport_reads_only_the_lines_appended_since()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var path = Transcript(ClaudeFixtures.Main);
        var first = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None);
        var firstLength = new FileInfo(path).Length;

        var unchanged = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None);
        Assert.Equal(0, unchanged.EventsImported);
        Assert.Equal(0, unchanged.BytesRead);

        // The continuation plus a partial line still being written: only complete lines count.
        File.AppendAllText(path, ClaudeFixtures.Text(ClaudeFixtures.Continuation) + """{"type":"assistant","mess""");
        var second = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None);

        Assert.Equal(first.SessionId, second.SessionId);
        Assert.Equal(firstLength, second.StartOffset);
        Assert.Equal(1, second.EventsImported);
        Assert.Equal(2, second.DuplicatesSkipped); // msg_02 replayed: its call and its tool use
        Assert.Empty(second.MalformedLines);
        Assert.Equal(ClaudeFixtures.Text(ClaudeFixtures.Continuation).Length, second.BytesRead);
        var stored = await EventsAsync(ws, first.SessionId);
        Assert.Equal(11, stored.Count);
        Assert.Equal("claude-opus-4-1-20250805", stored[^1].Model);
    }

    [Fact]
    public async Task A_replaced_or_truncated_transcript_is_read_again_without_duplicating_events()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var path = Transcript(ClaudeFixtures.Main);
        var first = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None);

        Transcript(ClaudeFixtures.Main[2..5]);
        var truncated = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions(), None);
        Assert.True(truncated.Restarted);
        Assert.Equal(0, truncated.StartOffset);
        // msg_01's call, msg_02's call on both of its lines, toolu_A and toolu_B: all imported the first time.
        Assert.Equal(5, truncated.DuplicatesSkipped);
        Assert.Equal(0, truncated.EventsImported);
        Assert.Equal(10, (await EventsAsync(ws, first.SessionId)).Count);

        Assert.Equal(first.SessionId, truncated.SessionId);
    }

    [Fact]
    public async Task A_caller_given_session_id_and_phase_are_used()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var path = Transcript(ClaudeFixtures.Subagent);

        var result = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions { SessionId = "review_1", Phase = 3, AgentName = "code-reviewer" }, None);

        Assert.Equal("review_1", result.SessionId);
        Assert.Equal(2, result.EventsImported); // the subagent's agent_invocation waits for the end of its run (the session's completion)
        var stored = await EventsAsync(ws, "review_1");
        Assert.All(stored.Skip(1), e => Assert.Equal("code-reviewer", e.Agent));
        await foreach (var info in ws.GetSessionsAsync(new Engine.Workspace.SessionFilter { SessionId = "review_1" }, None))
            Assert.Equal(3, info.Phase);
    }
}

/// <summary>Every test of <see cref="ClaudeImporterTests"/> with the workspace's catalog on a real PostgreSQL.</summary>
[Collection(TierStorage.Tests.Catalog.Postgres.PostgresCollection.Name)]
public sealed class PostgresClaudeImporterTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture server) : ClaudeImporterTests(server);
