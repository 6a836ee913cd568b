using Microsoft.Data.Sqlite;
using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Catalog;
using TierStorage.Tests.Ingest.Fixtures;
using TierStorage.Tests.Workspace;

namespace TierStorage.Tests.Ingest;

/// <summary>Migration 14: the ingest key stored in events.ingest_key by the insert instead of computed by SQLite for two expression
/// indexes. The key must be the one those indexes computed, for new rows, rows of an upgraded catalog and rows copied from an
/// analytics snapshot, or an import would store an event twice or skip one.</summary>
public sealed class IngestKeyColumnTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string SessionId = "claude_" + ClaudeFixtures.SessionId;
    private readonly CatalogFixture _fixture = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ts-ingest-key-" + Guid.NewGuid().ToString("N"));

    public IngestKeyColumnTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        _fixture.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static SessionEvent Event(SessionEventType type, Dictionary<string, object?>? data, int second) =>
        new() { Timestamp = CatalogFixture.T0.AddSeconds(second), Type = type, Data = data };

    /// <summary>Every shape of data an event can carry: ids as strings, as other JSON values, missing, nested, on events of other types.</summary>
    private static List<SessionEvent> Shapes()
    {
        var shapes = new List<Dictionary<string, object?>?>
        {
            null,
            new() { ["tool_use_id"] = "toolu_1" },
            new() { ["tool_use_id"] = "toolu_2", ["agent_id"] = "a1", ["source"] = "task" },
            new() { ["message_id"] = "msg_1", ["request_id"] = "req_1" },
            new() { ["message_id"] = "msg_2" },
            new() { ["message_id"] = "msg_3", ["request_id"] = null },
            new() { ["message_id"] = "msg_4", ["request_id"] = 7L },
            new() { ["agent_id"] = "a2", ["source"] = "sidechain" },
            new() { ["source"] = "sidechain" },
            new() { ["tool_use_id"] = 5L, ["message_id"] = "msg_5", ["request_id"] = "req_5" },
            new() { ["tool_use_id"] = null, ["agent_id"] = "a3" },
            new() { ["tool_use_id"] = true },
            new() { ["nested"] = new Dictionary<string, object?> { ["tool_use_id"] = "toolu_nested" } },
            new() { ["tool_use_id"] = "toolu \"quoted\" \u00e9\u4e2d|x" },
        };
        var events = new List<SessionEvent>();
        var second = 0;
        foreach (var type in new[] { SessionEventType.LlmCall, SessionEventType.ToolCall, SessionEventType.AgentInvocation, SessionEventType.Error, SessionEventType.SessionStart })
            foreach (var data in shapes)
                events.Add(Event(type, data, second++));
        return events;
    }

    private static List<object?[]> Rows(SqliteConnection connection, string sql) => CatalogFixture.Rows(connection, sql);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task The_stored_key_is_the_key_computed_from_the_data_and_the_key_of_migrations_8_and_12_for_string_ids()
    {
        var events = Shapes();
        await using (var db = await _fixture.OpenWithSessionAsync())
        {
            await db.AddEventsAsync("session_a", events, 0, None);
        }
        using var raw = _fixture.RawConnection();
        var rows = Rows(raw, $"""
            SELECT ingest_key, {IngestKeys.Sql()},
                   CASE WHEN {Migrations.IngestKeyFilterSql} THEN {Migrations.IngestKeySql} END, type, data
            FROM events ORDER BY event_id
            """);
        Assert.Equal(events.Count, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var (stored, sql, legacy) = (rows[i][0] as string, rows[i][1] as string, rows[i][2] as string);
            Assert.True(stored == IngestKeys.Of(events[i]), $"row {i} ({rows[i][3]} {rows[i][4]}): stored {stored}, computed {IngestKeys.Of(events[i])}");
            Assert.True(stored == sql, $"row {i} ({rows[i][3]} {rows[i][4]}): stored {stored}, SQL {sql}");
            // Transcripts carry their ids as strings: there the key is the one the expression indexes computed.
            var stringIds = events[i].Data is { } d && new[] { "tool_use_id", "message_id", "request_id", "agent_id" }.All(k => !d.TryGetValue(k, out var v) || v is null or string);
            if (stringIds) Assert.True(stored == legacy, $"row {i} ({rows[i][3]} {rows[i][4]}): stored {stored}, migrations 8/12 {legacy}");
        }
        Assert.Contains(rows, r => r[0] is "tool_call:toolu_1");
        Assert.Contains(rows, r => r[0] is "llm_call:msg_2|");
        Assert.Contains(rows, r => r[0] is "agent_invocation:a2");
    }

    /// <summary>Turns a catalog of this version back into the schema migrations 1 to 13 give (the column dropped, the two expression
    /// indexes back), as a catalog written by the release before migration 14 has it.</summary>
    private static void DowngradeTo13(string path, bool forgetOffsets)
    {
        using var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        raw.Open();
        Execute(raw, $"""
            BEGIN;
            DROP INDEX ix_sessions_origin;
            ALTER TABLE sessions DROP COLUMN machine;
            ALTER TABLE sessions DROP COLUMN user_name;
            DELETE FROM schema_migrations WHERE version IN (15, 16);
            DROP INDEX ix_events_ingest_key;
            ALTER TABLE events DROP COLUMN ingest_key;
            CREATE INDEX ix_events_ingest_key ON events(session_id, {Migrations.IngestKeySql}) WHERE {Migrations.IngestKeyFilterSql};
            CREATE INDEX ix_events_ingest_key_any ON events({Migrations.IngestKeySql}, session_id) WHERE {Migrations.IngestKeyFilterSql};
            DELETE FROM schema_migrations WHERE version = 14;
            {(forgetOffsets ? "DELETE FROM ingest_offsets;" : "")}
            PRAGMA user_version = 13;
            COMMIT;
            """);
    }

    private static List<string> Schema(string path)
    {
        using var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        raw.Open();
        return Rows(raw, """
            SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master WHERE tbl_name = 'events' AND type <> 'table'
            UNION ALL SELECT 'column ' || name || ' ' || type FROM pragma_table_info('events')
            ORDER BY 1
            """).Select(r => (string)r[0]!).ToList();
    }

    [Fact]
    public async Task A_version_13_catalog_of_imported_transcripts_is_upgraded_and_a_rerun_from_the_start_stores_nothing_twice()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var project = Path.Combine(_dir, "projects", "-my-app");
        var main = Path.Combine(project, ClaudeFixtures.SessionId + ".jsonl");
        Directory.CreateDirectory(project);
        File.WriteAllText(main, ClaudeFixtures.Text(ClaudeFixtures.Main));
        long events, rollups;
        await using (var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = t.Root, Time = t.Time }, None))
        {
            await foreach (var _ in ClaudeProjectImporter.ImportAsync(ws, main, null, null, null, new CompletionOptions { Force = true }, None)) { }
            events = (await ws.Catalog.GetSessionAsync(SessionId, None))!.EventCount;
        }
        var catalog = t.Layout.CatalogPath;
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = catalog, Pooling = false }.ToString()))
        {
            raw.Open();
            rollups = (long)CatalogFixture.Scalar(raw, "SELECT COUNT(*) FROM session_rollups")!;
        }
        Assert.True(events > 5);
        Assert.Equal(1, rollups);
        var keysBefore = KeysOf(catalog);
        // The offsets forgotten: the rerun reads the transcript from its first line, as after a kill -9 between the events' commit
        // and the offset's, and only the keys can tell what is stored already.
        DowngradeTo13(catalog, forgetOffsets: true);

        // What migrations 1 to 13 create, exactly (columns, indexes and triggers of events).
        var fresh13 = Path.Combine(_dir, "fresh13.db");
        await using (var _ = await CatalogDatabase.OpenAsync(fresh13, 13, None)) { }
        Assert.Equal(Schema(fresh13), Schema(catalog));

        await using (var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = t.Root, Time = t.Time }, None))
        {
            Assert.Equal(Migrations.Latest, ws.Catalog.SchemaVersion);
            var results = new List<ClaudeImportResult>();
            await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, main, null, null, null, new CompletionOptions { Force = true }, None)) results.Add(r);
            var result = Assert.Single(results);
            Assert.Equal(new FileInfo(main).Length, result.BytesRead);
            Assert.Equal(0, result.EventsImported);
            Assert.True(result.DuplicatesSkipped > 0);
            Assert.Equal(events, (await ws.Catalog.GetSessionAsync(SessionId, None))!.EventCount);
        }
        Assert.Equal(keysBefore, KeysOf(catalog));
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = catalog, Pooling = false }.ToString()))
        {
            raw.Open();
            // The backfill changed no figure: the session's rollup stayed.
            Assert.Equal(rollups, (long)CatalogFixture.Scalar(raw, "SELECT COUNT(*) FROM session_rollups")!);
            Assert.Equal(0L, (long)CatalogFixture.Scalar(raw, $"SELECT COUNT(*) FROM events WHERE ingest_key IS NOT ({IngestKeys.Sql()})")!);
            Assert.Equal(["ix_events_ingest_key"], Rows(raw, "SELECT name FROM sqlite_master WHERE name LIKE 'ix_events_ingest_key%'").Select(r => (string)r[0]!));
        }
    }

    private static List<string> KeysOf(string catalog)
    {
        using var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = catalog, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        raw.Open();
        return Rows(raw, $"SELECT event_id || ' ' || coalesce({IngestKeys.Sql()}, '-') FROM events ORDER BY event_id").Select(r => (string)r[0]!).ToList();
    }

    [Fact]
    public async Task Keys_of_events_copied_from_an_analytics_snapshot_are_computed_not_taken_from_the_file()
    {
        var events = Shapes();
        await using (var db = await _fixture.OpenWithSessionAsync())
            await db.AddEventsAsync("session_a", events, 0, None);
        var forged = Path.Combine(_dir, "forged.db");
        var old = Path.Combine(_dir, "old.db");
        CatalogExtract.WriteSession(_fixture.DbPath, forged, "session_a", 1);
        CatalogExtract.WriteSession(_fixture.DbPath, old, "session_a", 1);
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = forged, Pooling = false }.ToString()))
        {
            raw.Open();
            Execute(raw, "UPDATE events SET ingest_key = 'llm_call:forged|' WHERE ingest_key IS NOT NULL; UPDATE events SET ingest_key = 'tool_call:made_up' WHERE ingest_key IS NULL;");
        }
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = old, Pooling = false }.ToString()))
        {
            raw.Open();
            // A session extract carries no secondary index (CatalogExtract.WriteSession), so the column drops alone.
            Execute(raw, "ALTER TABLE events DROP COLUMN ingest_key;");
        }

        foreach (var extract in new[] { forged, old })
        {
            var target = Path.Combine(_dir, "target-" + Path.GetFileName(extract));
            await using (var db = await CatalogDatabase.OpenAsync(target, None))
            {
                await db.InsertSessionAsync(new SessionRecord { SessionId = "session_a", Phase = 1, StartedAt = CatalogFixture.T0, State = SessionState.Completed }, None);
                Assert.Equal(events.Count, await db.ImportSessionEventsAsync(extract, "session_a", None));
                Assert.Equal(["tool_call:toolu_1"], await db.FindIngestKeysAsync("session_a", ["tool_call:toolu_1", "llm_call:forged|", "tool_call:made_up"], None));
            }
            using var check = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Pooling = false }.ToString());
            check.Open();
            Assert.Equal(events.Select(IngestKeys.Of).ToList(), Rows(check, "SELECT ingest_key FROM events ORDER BY event_id").Select(r => r[0] as string).ToList());
        }
    }
}
