using Microsoft.Data.Sqlite;
using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Review;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Catalog;
using TierStorage.Tests.PowerShell;
using TierStorage.Tests.Workspace;

namespace TierStorage.Tests.Ingest;

/// <summary>
/// Issue 12, the import's store path: a transcript's events are redacted and encoded (catalog data, ingest key, log line) on the
/// thread that parsed them, the replay lookups run on prepared statements, and the review rollups of completed sessions are folded
/// on other threads while the next session is stored. Each must store exactly what the plain path stores.
/// </summary>
public sealed class ImportStorePathTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string Parity = Path.Combine(ModulePaths.RepoRoot, "tests", "TierStorage.Tests", "Ingest", "Fixtures", "ccusage-parity");
    private readonly CatalogFixture _fixture = new();
    private readonly string _config = Path.Combine(Path.GetTempPath(), "ts-store-path-" + Guid.NewGuid().ToString("N"));

    public ImportStorePathTests()
    {
        foreach (var file in Directory.EnumerateFiles(Parity, "*.jsonl", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(_config, Path.GetRelativePath(Parity, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }

    public void Dispose()
    {
        _fixture.Dispose();
        Directory.Delete(_config, recursive: true);
    }

    private static List<SessionEvent> Events(string sessionId) =>
    [
        new() { Timestamp = CatalogFixture.T0, SessionId = sessionId, Type = SessionEventType.SessionStart, Data = new Dictionary<string, object?> { ["phase"] = 1L } },
        new()
        {
            Timestamp = CatalogFixture.T0.AddSeconds(1), SessionId = sessionId, Type = SessionEventType.LlmCall, Model = "claude-sonnet-4-5",
            Tokens = new TokenUsage { Input = 3, Output = 4, CacheRead = 5, CacheWrite = 6 },
            Data = new Dictionary<string, object?> { ["message_id"] = "msg_1", ["request_id"] = "req_1", ["note"] = "caf\u00e9 \"quoted\"\n\u4e2d" },
        },
        new()
        {
            Timestamp = CatalogFixture.T0.AddSeconds(2), SessionId = sessionId, Type = SessionEventType.ToolCall, Tool = "Read", File = "/src/a.cs",
            DurationMs = 12, Success = true, Id = "evt-1",
            Data = new Dictionary<string, object?> { ["tool_use_id"] = "toolu_1", ["nested"] = new Dictionary<string, object?> { ["n"] = 1.5 }, ["list"] = new List<object?> { "x", 2L, null } },
        },
        new() { Timestamp = CatalogFixture.T0.AddSeconds(3), SessionId = sessionId, Type = SessionEventType.Error, ErrorType = "Timeout", Success = false },
    ];

    [Fact]
    public void Events_encoded_ahead_carry_the_data_key_and_log_lines_the_plain_path_writes()
    {
        var events = Events("s1");
        var encoded = EncodedEvent.Encode(events);

        Assert.Equal(events.Select(e => EventJson.SerializeData(e.Data)), encoded.Select(e => e.Data));
        Assert.Equal(events.Select(IngestKeys.Of), encoded.Select(e => e.IngestKey));
        Assert.Equal(events.Select(e => EventJson.Serialize(e) + "\n"), encoded.Select(e => System.Text.Encoding.UTF8.GetString(e.Line.Span)));
        var plain = EventLines.Encode(events).ToArray();
        Assert.Equal(plain, EncodedEvent.Lines(encoded).ToArray());
        // Mixed: events encoded for the catalog only get their lines encoded where the batch is written, in order.
        EncodedEvent[] mixed = [EncodedEvent.ForCatalog(events[0]), encoded[1], EncodedEvent.ForCatalog(events[2]), EncodedEvent.ForCatalog(events[3])];
        Assert.True(mixed[0].Line.IsEmpty);
        Assert.Equal(plain, EncodedEvent.Lines(mixed).ToArray());
    }

    [Fact]
    public async Task The_replay_lookups_find_every_stored_key_of_more_keys_than_one_statement_holds()
    {
        await using var db = await _fixture.OpenWithSessionAsync("session_a");
        await db.InsertSessionAsync(new SessionRecord { SessionId = "session_b", Phase = 1, StartedAt = CatalogFixture.T0, State = SessionState.Active }, None);
        // 1,234 calls in session_a, every third of them also in session_b: more than two statements' worth of keys.
        SessionEvent Call(string session, int i) => new()
        {
            Timestamp = CatalogFixture.T0.AddSeconds(i), SessionId = session, Type = SessionEventType.LlmCall,
            Data = new Dictionary<string, object?> { ["message_id"] = $"msg_{i}", ["request_id"] = $"req_{i}" },
        };
        await db.AddEventsAsync("session_a", [.. Enumerable.Range(0, 1234).Select(i => Call("session_a", i))], 0, None);
        await db.AddEventsAsync("session_b", [.. Enumerable.Range(0, 1234).Where(i => i % 3 == 0).Select(i => Call("session_b", i))], 0, None);
        string Key(int i) => $"llm_call:msg_{i}|req_{i}";
        // Asked: every stored key, each twice, and 300 that are not stored.
        var asked = Enumerable.Range(0, 1534).Concat(Enumerable.Range(0, 1234)).Select(Key).ToList();

        Assert.Equal(Enumerable.Range(0, 1234).Select(Key).ToHashSet(), (await db.FindIngestKeysAsync("session_a", asked, None)).ToHashSet());
        Assert.Equal(Enumerable.Range(0, 1234).Where(i => i % 3 == 0).Select(Key).ToHashSet(), (await db.FindIngestKeysAsync("session_b", asked, None)).ToHashSet());
        Assert.Equal(Enumerable.Range(0, 1234).Where(i => i % 3 == 0).Select(Key).ToHashSet(), (await db.FindIngestKeysElsewhereAsync("session_a", asked, None)).ToHashSet());
        Assert.Equal(Enumerable.Range(0, 1234).Select(Key).ToHashSet(), (await db.FindIngestKeysElsewhereAsync("session_b", asked, None)).ToHashSet());
        Assert.Empty(await db.FindIngestKeysElsewhereAsync("session_a", [], None));
        Assert.Empty(await db.FindIngestKeysAsync("session_c", asked.Take(10).ToList(), None));
        // Inside a transaction of the connection, the lookup sees what the transaction wrote.
        await db.AddEventsAsync("session_b", [Call("session_b", 5000)], _ =>
        {
            Assert.Equal([Key(5000)], db.FindIngestKeysAsync("session_b", [Key(5000)], None).Result);
            return 0;
        }, 0, None);
    }

    /// <summary>Migration 16 keys ix_events_ingest_key by the last 12 characters of each key only: a catalog of version 15 answers
    /// its lookups from the old index, is upgraded to the compact one, and then gives the same answers; keys that share a tail are
    /// told apart by the row's whole key and session.</summary>
    [Fact]
    public async Task The_compact_key_index_of_migration_16_answers_as_the_old_one_did_and_tells_keys_with_one_tail_apart()
    {
        SessionEvent Call(string session, string message, int second) => new()
        {
            Timestamp = CatalogFixture.T0.AddSeconds(second), SessionId = session, Type = SessionEventType.LlmCall,
            Data = new Dictionary<string, object?> { ["message_id"] = message, ["request_id"] = "req_shared_tail_0001" },
        };
        // Every key ends in the same request id, whose last 12 characters ("ed_tail_0001") are the tail: one tail for all of them.
        string Key(string message) => $"llm_call:{message}|req_shared_tail_0001";
        // In session_a, in session_b, in every session but session_a.
        async Task<string[]> AnswersAsync(CatalogDatabase db)
        {
            string[] asked = [Key("msg_1"), Key("msg_2"), Key("msg_3"), Key("msg_9")];
            static string Joined(IEnumerable<string> keys) => string.Join(" ", keys.Order(StringComparer.Ordinal));
            return [Joined(await db.FindIngestKeysAsync("session_a", asked, None)), Joined(await db.FindIngestKeysAsync("session_b", asked, None)),
                Joined(await db.FindIngestKeysElsewhereAsync("session_a", asked, None))];
        }
        string[] expected = [$"{Key("msg_1")} {Key("msg_2")}", $"{Key("msg_2")} {Key("msg_3")}", $"{Key("msg_2")} {Key("msg_3")}"];

        await using (var old = await CatalogDatabase.OpenAsync(_fixture.DbPath, 15, None))
        {
            foreach (var session in new[] { "session_a", "session_b" })
                await old.InsertSessionAsync(new SessionRecord { SessionId = session, Phase = 1, StartedAt = CatalogFixture.T0, State = SessionState.Active }, None);
            await old.AddEventsAsync("session_a", [Call("session_a", "msg_1", 1), Call("session_a", "msg_2", 2)], 0, None);
            await old.AddEventsAsync("session_b", [Call("session_b", "msg_2", 3), Call("session_b", "msg_3", 4)], 0, None);
            Assert.Equal(expected, await AnswersAsync(old));
        }
        await using var upgraded = await CatalogDatabase.OpenAsync(_fixture.DbPath, None);
        Assert.Equal(16, upgraded.SchemaVersion);
        using (var raw = _fixture.RawConnection())
            Assert.Contains("substr(ingest_key, -12)", (string)CatalogFixture.Scalar(raw, "SELECT sql FROM sqlite_master WHERE name = 'ix_events_ingest_key'")!);
        Assert.Equal(expected, await AnswersAsync(upgraded));
        await upgraded.AddEventsAsync("session_a", [Call("session_a", "msg_9", 5)], 0, None);
        Assert.Contains(Key("msg_9"), await upgraded.FindIngestKeysAsync("session_a", [Key("msg_9")], None));
        Assert.Empty(await upgraded.FindIngestKeysAsync("session_b", [Key("msg_9")], None));
    }

    [Fact]
    public async Task Every_session_an_import_completes_has_its_rollup_stored_when_the_import_ends_and_it_holds_the_figures_of_its_events()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var results = new List<ClaudeImportResult>();
        await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, null, null, _config, 4, new CompletionOptions { Force = true }, allProjects: true, null, None))
            results.Add(r);
        var sessions = results.Select(r => r.SessionId).Distinct().Count();
        Assert.Equal(4, sessions);
        Assert.All(results, r => Assert.True(r.SessionCompleted));

        var (stored, use) = await PhaseReviewer.ReviewWithUseAsync(ws.Catalog, ws.Policy, 4, None);
        Assert.Equal(new PhaseReviewer.RollupUse(sessions, 0), use);

        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = ws.Catalog.Path, Pooling = false }.ToString()))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = "DELETE FROM session_rollups;";
            command.ExecuteNonQuery();
        }
        var (folded, again) = await PhaseReviewer.ReviewWithUseAsync(ws.Catalog, ws.Policy, 4, None);
        Assert.Equal(new PhaseReviewer.RollupUse(0, sessions), again);
        Assert.Equal(folded.Total, stored.Total);
        Assert.Equal(folded.Tokens, stored.Tokens);
        Assert.Equal(folded.EventCount, stored.EventCount);
    }

    [Fact]
    public async Task A_rerun_of_an_import_stores_nothing_and_rewrites_no_rollup()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await foreach (var _ in ClaudeProjectImporter.ImportAsync(ws, null, null, _config, 4, new CompletionOptions { Force = true }, allProjects: true, null, None)) { }
        var before = await RollupTimesAsync(ws);

        var again = new List<ClaudeImportResult>();
        await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, null, null, _config, 4, new CompletionOptions { Force = true }, allProjects: true, null, None))
            again.Add(r);

        Assert.All(again, r => Assert.Equal(0, r.EventsImported));
        Assert.Equal(before, await RollupTimesAsync(ws));
    }

    /// <summary>Regression: kill -9 after an import appended a transcript's lines to the session's log but before the catalog committed
    /// them; the rerun asked the catalog which events it held before indexing those lines, and stored every one of them twice.</summary>
    [Fact]
    public async Task A_rerun_after_a_kill_between_the_log_append_and_the_commit_stores_each_event_once()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var transcript = Directory.EnumerateFiles(_config, "aaaa.jsonl", SearchOption.AllDirectories).Single();
        var first = await ClaudeImporter.ImportAsync(ws, transcript, new ImportOptions { Phase = 4 }, None);
        var events = await EventRowsAsync(ws, first.SessionId);
        var log = ws.Layout.RetainedLogPath(first.SessionId);
        var lines = File.ReadAllLines(log);
        Assert.True(events.Count > 1);
        Assert.Equal(events.Count, lines.Length);

        // What the kill leaves: the log holds every line, the catalog only the session_start, and no offset for the transcript.
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = ws.Catalog.Path, Pooling = false }.ToString()))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = $"""
                DELETE FROM events WHERE session_id = $s AND type <> 'session_start';
                UPDATE sessions SET log_indexed_bytes = {System.Text.Encoding.UTF8.GetByteCount(lines[0]) + 1}, event_count = 1 WHERE session_id = $s;
                DELETE FROM ingest_offsets; DELETE FROM ingest_pending; DELETE FROM ingest_agent_links;
                """;
            command.Parameters.AddWithValue("$s", first.SessionId);
            command.ExecuteNonQuery();
        }

        var again = await ClaudeImporter.ImportAsync(ws, transcript, new ImportOptions { Phase = 4 }, None);

        Assert.Equal(0, again.EventsImported);
        Assert.Equal(events, await EventRowsAsync(ws, first.SessionId));
        Assert.Equal(lines, File.ReadAllLines(log));
    }

    /// <summary>Regression: kill -9 after an import created the session's row but before its first events were committed; the rerun
    /// found the session and never wrote its session_start.</summary>
    [Fact]
    public async Task A_rerun_after_a_kill_between_creating_the_session_and_its_first_commit_writes_its_session_start()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var transcript = Directory.EnumerateFiles(_config, "aaaa.jsonl", SearchOption.AllDirectories).Single();
        var first = await ClaudeImporter.ImportAsync(ws, transcript, new ImportOptions { Phase = 4 }, None);
        var events = await EventRowsAsync(ws, first.SessionId);
        var log = ws.Layout.RetainedLogPath(first.SessionId);
        var lines = File.ReadAllLines(log);
        Assert.StartsWith("{\"timestamp\"", lines[0]);
        Assert.Contains("\"type\":\"session_start\"", lines[0]);

        // What the kill leaves: the session's row, without events, log or offset.
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = ws.Catalog.Path, Pooling = false }.ToString()))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = """
                DELETE FROM events WHERE session_id = $s;
                UPDATE sessions SET log_indexed_bytes = 0, event_count = 0 WHERE session_id = $s;
                DELETE FROM ingest_offsets; DELETE FROM ingest_pending; DELETE FROM ingest_agent_links;
                """;
            command.Parameters.AddWithValue("$s", first.SessionId);
            command.ExecuteNonQuery();
        }
        File.Delete(log);

        await ClaudeImporter.ImportAsync(ws, transcript, new ImportOptions { Phase = 4 }, None);

        Assert.Equal(events, await EventRowsAsync(ws, first.SessionId));
        Assert.Equal(lines, File.ReadAllLines(log));
    }

    private static async Task<List<string>> EventRowsAsync(TierWorkspace ws, string sessionId)
    {
        var rows = new List<string>();
        await foreach (var e in ws.GetEventsAsync(new SessionEventQuery { SessionId = sessionId }, None))
            rows.Add(EventJson.Serialize(e with { EventId = 0 }));
        return rows;
    }

    private static async Task<List<(string, long)>> RollupTimesAsync(TierWorkspace ws)
    {
        await Task.Yield();
        using var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = ws.Catalog.Path, Pooling = false }.ToString());
        raw.Open();
        return [.. CatalogFixture.Rows(raw, "SELECT session_id, built_at FROM session_rollups ORDER BY session_id").Select(r => ((string)r[0]!, (long)r[1]!))];
    }
}
