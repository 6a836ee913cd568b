using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Ingest.Fixtures;
using TierStorage.Tests.Workspace;

namespace TierStorage.Tests.Ingest;

/// <summary>Imports of transcripts Claude Code is still writing: results that arrive in a later import, subagents linked to the Task
/// call that started them, re-imports that read only the new lines, and sessions completed once they are finished.</summary>
public class ClaudeIncrementalImportTests : TierStorage.Tests.Backup.CatalogProviderTests, IDisposable
{
    public ClaudeIncrementalImportTests() : this(null) { }

    protected ClaudeIncrementalImportTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture? postgres) : base(postgres) => Directory.CreateDirectory(_dir);

    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string SessionId = "claude_" + ClaudeFixtures.SessionId;
    private static readonly CompletionOptions Waiting = new() { IdleTime = TimeSpan.FromDays(365) };
    private static readonly CompletionOptions Now = new() { Force = true };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ts-claude-inc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private string MainPath => Path.Combine(_dir, "projects", ClaudeTranscriptLocator.EscapeProjectPath(ProjectPath), ClaudeFixtures.SessionId + ".jsonl");
    private string ProjectPath => Path.Combine(_dir, "my_app");

    private string SubagentPath(string agentId) =>
        Path.Combine(Path.GetDirectoryName(MainPath)!, ClaudeFixtures.SessionId, "subagents", "agent-" + agentId + ".jsonl");

    private static void Write(string path, IEnumerable<string> lines)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, ClaudeFixtures.Text(lines));
    }

    private static void Append(string path, IEnumerable<string> lines) => File.AppendAllText(path, ClaudeFixtures.Text(lines));

    private static async Task<List<ClaudeImportResult>> ImportPathAsync(TierWorkspace ws, string path, CompletionOptions completion)
    {
        var results = new List<ClaudeImportResult>();
        await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, path, null, null, null, completion, None)) results.Add(r);
        return results;
    }

    private async Task<List<ClaudeImportResult>> ImportProjectAsync(TierWorkspace ws, CompletionOptions completion)
    {
        var results = new List<ClaudeImportResult>();
        await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, null, ProjectPath, _dir, null, completion, None)) results.Add(r);
        return results;
    }

    private static async Task<List<SessionEvent>> EventsAsync(TierWorkspace ws)
    {
        var list = new List<SessionEvent>();
        await foreach (var e in ws.GetEventsAsync(new SessionEventQuery { SessionId = SessionId }, None)) list.Add(e);
        return list;
    }

    private static async Task<SessionInfo> SessionAsync(TierWorkspace ws)
    {
        await foreach (var info in ws.GetSessionsAsync(new SessionFilter { SessionId = SessionId }, None)) return info;
        throw new InvalidOperationException("no session");
    }

    [Fact]
    public async Task A_tool_result_that_arrives_in_a_later_import_completes_the_tool_use_of_an_earlier_one()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..5]); // Read and Bash asked, no result yet

        var first = Assert.Single(await ImportPathAsync(ws, MainPath, Waiting));
        Assert.DoesNotContain(await EventsAsync(ws), e => e.Type == SessionEventType.ToolCall);
        Assert.False(first.SessionCompleted);

        await using (var reopened = await t.OpenAsync())
        {
            Append(MainPath, ClaudeFixtures.Main[5..7]); // both results
            await ImportPathAsync(reopened, MainPath, Waiting);

            var tools = (await EventsAsync(reopened)).Where(e => e.Type == SessionEventType.ToolCall).ToList();
            Assert.Equal(["Read", "Bash"], tools.Select(e => e.Tool));
            Assert.Equal(500L, tools[0].DurationMs);
            Assert.True(tools[0].Success);
            Assert.Equal(2000L, tools[1].DurationMs);
            Assert.False(tools[1].Success);
            Assert.Equal("nonzero_exit", tools[1].ErrorType);
        }
    }

    [Fact]
    public async Task A_tool_use_never_answered_becomes_one_tool_call_without_outcome_when_its_session_completes()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..4]); // Read asked; the session ended before its result

        await ImportPathAsync(ws, MainPath, Waiting);
        Assert.DoesNotContain(await EventsAsync(ws), e => e.Type == SessionEventType.ToolCall);

        Assert.True(Assert.Single(await ImportPathAsync(ws, MainPath, Now)).SessionCompleted);
        Assert.True(Assert.Single(await ImportPathAsync(ws, MainPath, Now)).SessionCompleted);
        Append(MainPath, [ClaudeFixtures.Main[3]]); // a replay of the tool use after completion
        await ImportPathAsync(ws, MainPath, Now);

        var events = await EventsAsync(ws);
        var read = Assert.Single(events, e => e.Type == SessionEventType.ToolCall);
        Assert.Equal("Read", read.Tool);
        Assert.Null(read.Success);
        Assert.Null(read.DurationMs);
        Assert.Single(events, e => e.Type == SessionEventType.SessionEnd);
    }

    [Fact]
    public async Task A_session_idle_past_the_threshold_is_completed_like_a_native_one_with_its_handoff()
    {
        await using var t = await CreateWorkspaceAsync();
        var lastLine = DateTimeOffset.Parse("2026-11-20T10:00:10Z", System.Globalization.CultureInfo.InvariantCulture);
        t.Time.Now = lastLine + TimeSpan.FromMinutes(29);
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main);

        Assert.False(Assert.Single(await ImportPathAsync(ws, MainPath, new CompletionOptions())).SessionCompleted);
        Assert.DoesNotContain(await EventsAsync(ws), e => e.Type == SessionEventType.SessionEnd);
        Assert.Null((await SessionAsync(ws)).HandoffPath);

        t.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(Assert.Single(await ImportPathAsync(ws, MainPath, new CompletionOptions())).SessionCompleted);

        var end = Assert.Single(await EventsAsync(ws), e => e.Type == SessionEventType.SessionEnd);
        Assert.Equal(lastLine, end.Timestamp);
        Assert.Equal(10_000L, end.DurationMs);
        var session = await SessionAsync(ws);
        Assert.Equal(SessionState.Completed, session.State);
        Assert.Equal(lastLine, session.EndedAt);
        Assert.NotNull(session.HandoffPath);
        var handoff = await File.ReadAllTextAsync(session.HandoffPath!);
        Assert.Contains("# Handoff: " + SessionId, handoff, StringComparison.Ordinal);
        Assert.Contains("code-reviewer", handoff, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transcript_still_being_imported_is_not_backed_up_or_moved_until_it_is_finished()
    {
        await using var bed = await Backup.BackupTestBed.CreateAsync(localSessions: 1);
        bed.Time.Now = DateTimeOffset.Parse("2026-11-20T10:05:00Z", System.Globalization.CultureInfo.InvariantCulture); // 5 minutes after its last line
        var ws = await bed.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..5]);
        await ImportPathAsync(ws, MainPath, Waiting);
        await bed.CompletedSessionAsync(ws); // newer: the imported one is beyond retention.local_sessions

        // The nightly run leaves it alone (no backup, no move off the local tier), and an explicit backup says why.
        var run = await ws.Lifecycle.RunPolicyAsync(new Engine.Lifecycle.PolicyRunOptions(), null, None);
        Assert.DoesNotContain(run.Backups, b => b.SessionId == SessionId);
        Assert.DoesNotContain(run.Moves, m => m.SessionId == SessionId);
        var refused = await Assert.ThrowsAsync<TierStorageException>(() => Backup.BackupTestBed.BackupAsync(ws, SessionId));
        Assert.Equal(ErrorIds.SessionStillActive, refused.ErrorId);
        Assert.Contains("-Complete", refused.Message, StringComparison.Ordinal);

        // More lines still import; once finished, the next run backs it up.
        Append(MainPath, ClaudeFixtures.Main[5..7]);
        await ImportPathAsync(ws, MainPath, Now);
        var after = await ws.Lifecycle.RunPolicyAsync(new Engine.Lifecycle.PolicyRunOptions(), null, None);
        Assert.Equal(BackupStatus.Succeeded, Assert.Single(after.Backups, b => b.SessionId == SessionId).Status);
        Assert.Equal(SessionState.BackedUp, (await SessionAsync(ws)).State);
    }

    [Fact]
    public async Task The_policy_run_finishes_an_imported_transcript_that_went_idle_and_backs_it_up_without_another_import()
    {
        await using var bed = await Backup.BackupTestBed.CreateAsync();
        var lastLine = DateTimeOffset.Parse("2026-11-20T10:00:10Z", System.Globalization.CultureInfo.InvariantCulture);
        bed.Time.Now = lastLine + TimeSpan.FromMinutes(10);
        var ws = await bed.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main);
        await ImportPathAsync(ws, MainPath, Waiting);

        var early = await ws.Lifecycle.RunPolicyAsync(new Engine.Lifecycle.PolicyRunOptions(), null, None);
        Assert.DoesNotContain(early.Backups, b => b.SessionId == SessionId);
        Assert.Null((await SessionAsync(ws)).HandoffPath);

        bed.Time.Now = lastLine + CompletionOptions.DefaultIdleTime + TimeSpan.FromMinutes(1);
        var later = await ws.Lifecycle.RunPolicyAsync(new Engine.Lifecycle.PolicyRunOptions(), null, None);

        Assert.Equal(BackupStatus.Succeeded, Assert.Single(later.Backups, b => b.SessionId == SessionId).Status);
        var session = await SessionAsync(ws);
        Assert.Equal((SessionState.BackedUp, lastLine), (session.State, session.EndedAt));
        Assert.NotNull(session.HandoffPath);
        Assert.Single(await EventsAsync(ws), e => e.Type == SessionEventType.SessionEnd);
    }

    [Fact]
    public async Task An_import_pointed_at_an_active_native_session_never_completes_it()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var active = await ws.StartSessionAsync(new StartSessionRequest(), None);
        Write(MainPath, ClaudeFixtures.Main[..3]);
        await ClaudeImporter.ImportAsync(ws, MainPath, new ImportOptions { SessionId = active.SessionId }, None);

        Assert.False(await ClaudeImporter.CompleteIfFinishedAsync(ws, active.SessionId, Now, changed: true, None));

        await foreach (var info in ws.GetSessionsAsync(new SessionFilter { SessionId = active.SessionId }, None))
            Assert.Equal(SessionState.Active, info.State);
    }

    /// <summary>The main transcript of <see cref="ClaudeFixtures.Main"/> whose Task result names the subagent's agent id, as Claude Code 2.x writes it.</summary>
    private static string[] MainNamingAgent(string agentId) =>
    [
        .. ClaudeFixtures.Main[..11],
        ClaudeFixtures.Main[11].Replace("\"timestamp\":", $"\"toolUseResult\":{{\"status\":\"completed\",\"agentId\":\"{agentId}\",\"totalDurationMs\":3900}},\"timestamp\":", StringComparison.Ordinal),
    ];

    [Fact]
    public async Task A_subagent_transcript_is_attributed_to_the_subagent_type_of_the_Task_call_that_named_its_agent_id()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, MainNamingAgent("7c1d"));
        Write(SubagentPath("7c1d"), ClaudeFixtures.Subagent);

        var results = await ImportProjectAsync(ws, Waiting);

        Assert.Equal([null, "code-reviewer"], results.Select(r => r.Agent));
        var events = await EventsAsync(ws);
        Assert.DoesNotContain(events, e => e.Agent == "agent-7c1d");
        var invocation = Assert.Single(events, e => e.Type == SessionEventType.AgentInvocation);
        Assert.Equal("code-reviewer", invocation.Agent);
        Assert.Equal(4000L, invocation.DurationMs);
        Assert.True(invocation.Success);
        Assert.Equal("7c1d", invocation.Data!["agent_id"]);
        // Tokens of the subagent's own calls count for it: the inline sidechain call (120) and its file's call (110).
        var tokens = events.Where(e => e.Agent == "code-reviewer" && e.Tokens is not null).Sum(e => e.Tokens!.Total);
        Assert.Equal(120 + 110, tokens);
        Assert.Equal("code-reviewer", Assert.Single(events, e => e.Tool == "Edit").Agent);
    }

    /// <summary>Issue 12: an import parses the next transcript of another session while it stores one. Here two other conversations
    /// come first, so the main transcript is parsed while the second of them is stored; its subagent's file must still wait for the
    /// main transcript's Task call to be stored, or it would not know its subagent type.</summary>
    [Fact]
    public async Task A_subagent_transcript_behind_transcripts_parsed_ahead_still_takes_its_Task_call_s_subagent_type()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        string[] others = ["0a000000-0000-4000-8000-000000000001", "0b000000-0000-4000-8000-000000000002"];
        foreach (var other in others)
            Write(Path.Combine(Path.GetDirectoryName(MainPath)!, other + ".jsonl"),
                ClaudeFixtures.Main[..3].Select(l => l.Replace(ClaudeFixtures.SessionId, other, StringComparison.Ordinal)));
        Write(MainPath, MainNamingAgent("7c1d"));
        Write(SubagentPath("7c1d"), ClaudeFixtures.Subagent);

        var results = await ImportProjectAsync(ws, Now);

        Assert.Equal([.. others.Select(ClaudeImporter.SessionFor), SessionId, SessionId], results.Select(r => r.SessionId));
        Assert.Equal([null, null, null, "code-reviewer"], results.Select(r => r.Agent));
        var events = await EventsAsync(ws);
        Assert.Equal("code-reviewer", Assert.Single(events, e => e.Type == SessionEventType.AgentInvocation).Agent);
        Assert.Equal("code-reviewer", Assert.Single(events, e => e.Tool == "Edit").Agent);
        Assert.All(results, r => Assert.True(r.SessionCompleted));
    }

    [Fact]
    public async Task A_subagent_still_running_is_linked_to_its_Task_call_by_its_prompt()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..9]); // the Task call, no result yet
        Write(SubagentPath("7c1d"), ClaudeFixtures.Subagent.Select(l => l.Replace("Find the TODOs", "Review the change for bugs", StringComparison.Ordinal)));

        await ImportProjectAsync(ws, Waiting);
        Append(MainPath, ClaudeFixtures.Main[9..12]);
        await ImportProjectAsync(ws, Waiting);

        var events = await EventsAsync(ws);
        Assert.All(events.Where(e => e.Model == "claude-haiku-4-5-20251001"), e => Assert.Equal("code-reviewer", e.Agent));
        var invocation = Assert.Single(events, e => e.Type == SessionEventType.AgentInvocation);
        Assert.Equal("code-reviewer", invocation.Agent);
        Assert.Equal(4000L, invocation.DurationMs);
    }

    [Fact]
    public async Task A_subagent_whose_Task_call_is_unknown_keeps_its_own_name_and_is_timed_from_its_first_line_to_its_last_across_imports()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..3]);
        Write(SubagentPath("7c1d"), ClaudeFixtures.Subagent[..2]);

        var results = await ImportProjectAsync(ws, Waiting);
        Assert.Null(results[1].Agent);
        Assert.DoesNotContain(await EventsAsync(ws), e => e.Type == SessionEventType.AgentInvocation); // still running
        Append(SubagentPath("7c1d"), ClaudeFixtures.Subagent[2..]);
        await ImportProjectAsync(ws, Now);
        await ImportProjectAsync(ws, Now);

        var invocation = Assert.Single(await EventsAsync(ws), e => e.Type == SessionEventType.AgentInvocation);
        Assert.Equal("agent-7c1d", invocation.Agent);
        Assert.Equal(940L, invocation.DurationMs);
        Assert.Equal("7c1d", invocation.Data!["agent_id"]);
    }

    [Fact]
    public async Task A_subagent_without_a_known_Task_call_takes_its_type_from_the_meta_file_beside_it()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..3]);
        Write(SubagentPath("7c1d"), ClaudeFixtures.Subagent);
        File.WriteAllText(Path.ChangeExtension(SubagentPath("7c1d"), ".meta.json"), """{"agentType":"Explore"}""");

        Assert.Equal("Explore", (await ImportProjectAsync(ws, Now))[1].Agent);

        var events = await EventsAsync(ws);
        Assert.Equal("Explore", Assert.Single(events, e => e.Type == SessionEventType.AgentInvocation).Agent);
        Assert.Equal("Explore", Assert.Single(events, e => e.Tool == "Edit").Agent);
    }

    [Fact]
    public async Task Context_compaction_calls_count_for_the_compaction_agent_without_being_a_task()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main[..3]);
        Write(SubagentPath("acompact-5e1"), ClaudeFixtures.Subagent.Select(l => l.Replace("\"agentId\":\"7c1d\"", "\"agentId\":\"acompact-5e1\"", StringComparison.Ordinal)));

        await ImportProjectAsync(ws, Waiting);

        var events = await EventsAsync(ws);
        Assert.DoesNotContain(events, e => e.Type == SessionEventType.AgentInvocation);
        Assert.Equal(ClaudeImporter.CompactionAgent, Assert.Single(events, e => e.Model == "claude-haiku-4-5-20251001").Agent);
    }

    [Fact]
    public async Task A_reimport_of_a_long_transcript_parses_only_the_appended_lines_and_still_drops_replays()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        var calls = Enumerable.Range(0, 5000).Select(i => Call(i)).ToList();
        Write(MainPath, calls);
        var first = Assert.Single(await ImportPathAsync(ws, MainPath, Waiting));
        Assert.Equal(5000, first.LinesRead);
        Assert.Equal(5000, first.EventsImported);

        Append(MainPath, [.. Enumerable.Range(5000, 9).Select(i => Call(i)), calls[17]]);
        var second = Assert.Single(await ImportPathAsync(ws, MainPath, Waiting));

        Assert.Equal(10, second.LinesRead);
        Assert.Equal(9, second.EventsImported);
        Assert.Equal(1, second.DuplicatesSkipped);
        Assert.Equal(5001 + 9, (await SessionAsync(ws)).EventCount);
    }

    [Fact]
    public async Task Two_imports_of_the_same_lines_at_once_store_them_once()
    {
        await using var t = await CreateWorkspaceAsync();
        Write(MainPath, ClaudeFixtures.Main);
        await using var one = await t.OpenAsync();
        await using var other = await t.OpenAsync();

        Task<ImportResult>[] imports;
        // Both read the same lines from the same offset while a third writer holds the lock, then store one after the other.
        using (await one.LockAsync(None))
        {
            imports = [ClaudeImporter.ImportAsync(one, MainPath, new ImportOptions(), None), ClaudeImporter.ImportAsync(other, MainPath, new ImportOptions(), None)];
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        var results = await Task.WhenAll(imports);

        Assert.Equal([0L, 0L], results.Select(r => r.StartOffset));
        Assert.Equal(9, results.Sum(r => r.EventsImported));
        Assert.Equal(10, (await SessionAsync(one)).EventCount);
    }

    [Fact]
    public async Task The_replay_lookup_is_answered_from_the_ingest_key_index()
    {
        await using var t = await CreateWorkspaceAsync();
        var ws = await t.OpenAsync();
        Write(MainPath, ClaudeFixtures.Main);
        await ImportPathAsync(ws, MainPath, Waiting);

        // The plans: SQLite's from EXPLAIN QUERY PLAN, PostgreSQL's (one = ANY(text[]) per chunk) from EXPLAIN ANALYZE over
        // 100,000 more imported events; the answers on both.
        if (Postgres is not null)
            await AssertPostgresLookupSeeksAsync(ws);
        else
        {
            var plan = await ws.Catalog.ExplainIngestKeyQueryAsync(SessionId, None);
            // Migration 16: the index is keyed by each key's tail (substr(ingest_key, -12)), which SQLite shows as <expr>.
            Assert.Contains(plan, line => line.Contains("SEARCH", StringComparison.Ordinal) && line.Contains("ix_events_ingest_key (<expr>=?)", StringComparison.Ordinal));
            // The lookup in other sessions (calls a resumed conversation repeats) seeks each key in the index keyed by it: a scan
            // would cost every re-import the whole catalog's imported events (re-import of 10 lines: 1.6 ms -> 8.9 ms at 100k events).
            var elsewhere = await ws.Catalog.ExplainIngestKeyQueryAsync(SessionId, None, elsewhere: true);
            Assert.Contains(elsewhere, line => line.Contains("SEARCH", StringComparison.Ordinal) && line.Contains("ix_events_ingest_key (<expr>=?)", StringComparison.Ordinal));
        }
        var found = await ws.Catalog.FindIngestKeysAsync(SessionId, ["llm_call:msg_01|req_01", "tool_call:toolu_B", "agent_invocation:toolu_T", "tool_call:toolu_X"], None);
        Assert.Equal(["agent_invocation:toolu_T", "llm_call:msg_01|req_01", "tool_call:toolu_B"], found.Order(StringComparer.Ordinal));
        Assert.Empty(await ws.Catalog.FindIngestKeysElsewhereAsync(SessionId, ["llm_call:msg_01|req_01"], None));
        Assert.Equal(["llm_call:msg_01|req_01"], await ws.Catalog.FindIngestKeysElsewhereAsync("claude_other", ["llm_call:msg_01|req_01", "llm_call:msg_99|req_99"], None));
    }

    /// <summary>PostgreSQL's lookups of a re-import, in this session and in every other, read ix_events_ingest_key by key:
    /// with 100,000 imported events of other sessions in the table, a scan would read them all.</summary>
    private static async Task AssertPostgresLookupSeeksAsync(Engine.Workspace.TierWorkspace ws)
    {
        var connection = (Npgsql.NpgsqlConnection)ws.Catalog.DbConnection;
        await using (var fill = new Npgsql.NpgsqlCommand("""
            INSERT INTO sessions (session_id, phase, started_at, state, event_count) SELECT 'claude_bulk_' || n, (SELECT min(phase) FROM sessions), 1795000000000 + n, 'Completed', 1000 FROM generate_series(1, 100) n;
            INSERT INTO events (session_id, ts, type, data, ingest_key) SELECT 'claude_bulk_' || (n % 100 + 1), 1795000000000 + n, 'llm_call', '{}', 'llm_call:bulk_' || n || '|r' FROM generate_series(1, 100000) n;
            ANALYZE events;
            """, connection))
            await fill.ExecuteNonQueryAsync(None);
        foreach (var elsewhere in new[] { false, true })
        {
            await using var explain = new Npgsql.NpgsqlCommand(
                $"EXPLAIN (ANALYZE, FORMAT JSON) SELECT DISTINCT ingest_key FROM events WHERE ingest_key = ANY(@keys) AND session_id {(elsewhere ? "<>" : "=")} @session", connection);
            explain.Parameters.AddWithValue("keys", new[] { "llm_call:msg_01|req_01", "tool_call:toolu_B", "llm_call:bulk_77|r" });
            explain.Parameters.AddWithValue("session", SessionId);
            var plan = (string)(await explain.ExecuteScalarAsync(None))!;
            // By an index (by key, or for this session by its session, whichever the planner prefers), reading a few rows of
            // the 100,000: what each read of events returned and threw away, over all its loops.
            var reads = Nodes(System.Text.Json.JsonDocument.Parse(plan).RootElement[0].GetProperty("Plan"))
                .Where(n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "events").ToList();
            Assert.NotEmpty(reads);
            // An index scan, an index-only scan, or a bitmap heap scan over a bitmap of an index: never the table itself.
            Assert.All(reads, n => Assert.True(n.GetProperty("Node Type").GetString() is "Index Scan" or "Index Only Scan" or "Bitmap Heap Scan", plan));
            var examined = reads.Sum(n => (n.GetProperty("Actual Rows").GetDouble()
                + (n.TryGetProperty("Rows Removed by Filter", out var removed) ? removed.GetDouble() : 0)
                + (n.TryGetProperty("Rows Removed by Index Recheck", out var rechecked) ? rechecked.GetDouble() : 0)) * n.GetProperty("Actual Loops").GetDouble());
            Assert.True(examined <= 100, $"{examined} events read: {plan}");
        }
    }

    private static IEnumerable<System.Text.Json.JsonElement> Nodes(System.Text.Json.JsonElement node) =>
        node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().SelectMany(Nodes).Prepend(node) : [node];

    internal static string Call(int i) =>
        $$$"""{"type":"assistant","sessionId":"{{{ClaudeFixtures.SessionId}}}","timestamp":"2026-11-20T10:{{{i / 6000 % 60:00}}}:{{{i / 100 % 60:00}}}.{{{i % 100:000}}}Z","requestId":"req_{{{i}}}","message":{"id":"msg_{{{i}}}","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"ok"}]}}""";
}

/// <summary>Every test of <see cref="ClaudeIncrementalImportTests"/> with the workspace's catalog on a real PostgreSQL.</summary>
[Collection(TierStorage.Tests.Catalog.Postgres.PostgresCollection.Name)]
public sealed class PostgresClaudeIncrementalImportTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture server) : ClaudeIncrementalImportTests(server);
