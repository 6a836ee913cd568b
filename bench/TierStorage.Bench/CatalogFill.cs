using System.Globalization;
using Npgsql;

namespace TierStorage.Bench;

/// <summary>
/// Fills a migrated PostgreSQL catalog with many events quickly, on the server (<c>INSERT ... SELECT generate_series</c>),
/// for the query bench (`catalog-queries`) and the plan test (PostgresCatalogScaleTests, which compiles this file in):
/// <see cref="Phases"/> phases, sessions of <c>eventsPerSession</c> events each, later sessions in later phases and later
/// hours, events of the hook's mix of types, 50 agents, 8 tools on tool calls, 4 models on LLM calls.
/// The events' secondary indexes are dropped for the insert and built again after it (a sort per index, several times
/// faster than keeping seven indexes up to date row by row), foreign-key checks are skipped for the session
/// (session_replication_role = replica: the sessions are inserted first, so they hold), then the tables are analysed.
/// Needs a superuser connection (the test server's role and the bench's are).
/// </summary>
internal static class CatalogFill
{
    public const int Phases = 20;

    /// <summary>2026-12-01T00:00Z in unix ms: session s starts s hours later, its events one second apart.</summary>
    public const long BaseTs = 1_795_996_800_000;

    /// <summary>The session of writer <paramref name="writer"/> in the catalog-writers bench (CatalogWritersBench).</summary>
    public static string WriterSessionOf(int writer) => $"session_w{writer:000}";

    /// <summary>The Id (event_key) of a writer's event <paramref name="sequence"/>: which writer sent it, and in what order.</summary>
    public static string WriterEventIdOf(int writer, int sequence) => $"w{writer:000}-{sequence:000000}";

    public static string SessionOf(long session) => "session_f" + session.ToString("0000000", CultureInfo.InvariantCulture);

    public static long SessionCount(long events, int eventsPerSession) => (events + eventsPerSession - 1) / eventsPerSession;

    public static async Task FillAsync(NpgsqlConnection connection, long events, int eventsPerSession, CancellationToken cancellationToken)
    {
        var sessions = SessionCount(events, eventsPerSession);
        var indexes = new List<(string Name, string Definition)>();
        await using (var list = new NpgsqlCommand("""
            SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = 'events' AND indexname <> 'events_pkey'
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) indexes.Add((reader.GetString(0), reader.GetString(1)));
        }

        var sql = new List<string>
        {
            "SET session_replication_role = replica",
            "SET synchronous_commit = off",
            "SET maintenance_work_mem = '256MB'",
            $"""
            INSERT INTO phases(number, name, started_at) SELECT p, 'phase ' || p, {BaseTs} FROM generate_series(1, {Phases}) p
            ON CONFLICT (number) DO NOTHING
            """,
            $"""
            INSERT INTO sessions(session_id, phase, started_at, ended_at, state, log_indexed_bytes, event_count)
            SELECT 'session_f' || lpad(s::text, 7, '0'), 1 + (s - 1) * {Phases} / {sessions}, {BaseTs} + s * 3600000,
                   {BaseTs} + s * 3600000 + {eventsPerSession} * 1000, 'Completed', 0, least({eventsPerSession}, {events} - (s - 1) * {eventsPerSession})
            FROM generate_series(1::bigint, {sessions}) s
            """,
        };
        sql.AddRange(indexes.Select(i => $"DROP INDEX {i.Name}"));
        sql.Add($"""
            INSERT INTO events(session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens, cache_read_tokens,
                               cache_write_tokens, model, success, error_type, file, data, event_key)
            SELECT 'session_f' || lpad((g / {eventsPerSession} + 1)::text, 7, '0'),
                   {BaseTs} + (g / {eventsPerSession} + 1) * 3600000 + (g % {eventsPerSession}) * 1000,
                   t.type,
                   'agent-' || (g % 50),
                   CASE WHEN t.type = 'tool_call' THEN (ARRAY['Read','Edit','Bash','Grep','Write','Glob','Task','WebFetch'])[1 + g % 8] END,
                   'task-' || (g % 40),
                   g % 997,
                   CASE WHEN t.type = 'llm_call' THEN g % 5000 END, CASE WHEN t.type = 'llm_call' THEN g % 900 END,
                   CASE WHEN t.type = 'llm_call' THEN g % 20000 END, CASE WHEN t.type = 'llm_call' THEN g % 300 END,
                   CASE WHEN t.type = 'llm_call' THEN (ARRAY['claude-opus-4','claude-sonnet-4','claude-haiku-4','gpt-5'])[1 + g % 4] END,
                   CASE WHEN t.type = 'tool_call' THEN (g % 17 <> 0)::int END,
                   CASE WHEN t.type = 'error' THEN 'timeout' END,
                   'src/file' || (g % 300) || '.cs',
                   json_build_object('g', g)::text,
                   'f' || g
            FROM generate_series(0::bigint, {events - 1}) g
            CROSS JOIN LATERAL (SELECT (ARRAY['tool_call','tool_call','tool_call','tool_call','tool_call','llm_call','llm_call',
                                              'file_operation','decision','error'])[1 + (g * 7) % 10] AS type) t
            """);
        sql.AddRange(indexes.Select(i => i.Definition));
        sql.Add("ANALYZE phases");
        sql.Add("ANALYZE sessions");
        sql.Add("ANALYZE events");
        sql.Add("RESET session_replication_role");
        foreach (var statement in sql)
        {
            await using var command = new NpgsqlCommand(statement, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
