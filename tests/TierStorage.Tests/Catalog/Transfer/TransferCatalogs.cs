using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using TierStorage.Engine.Catalog;
using CatalogLocation = TierStorage.Engine.Catalog.CatalogLocation;
using TierStorage.Engine.Catalog.Transfer;
using TierStorage.Tests.Catalog.Postgres;

namespace TierStorage.Tests.Catalog.Transfer;

/// <summary>Catalogs for the transfer tests: SQLite files in a temp folder filled with every kind of row, and
/// PostgreSQL databases on the test server reached the way a user reaches them (no password in the string).</summary>
public sealed class TransferCatalogs : IDisposable
{
    public const string PasswordVariable = "TIERSTORAGE_TEST_CATALOG_PASSWORD";

    public TransferCatalogs()
    {
        Directory = Path.Combine(Path.GetTempPath(), "ts-transfer-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public CatalogLocation SqlitePath(string name) => CatalogLocation.Sqlite(Path.Combine(Directory, name, "analytics", "agent_metrics.db"));

    /// <summary>A new database on the server, as a location whose password comes from <see cref="PasswordVariable"/>.</summary>
    public static async Task<CatalogLocation> PostgresAsync(PostgresServerFixture server, string prefix)
    {
        var builder = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync(prefix));
        Environment.SetEnvironmentVariable(PasswordVariable, builder.Password);
        builder.Password = null;
        builder.MaxPoolSize = 100;
        return CatalogLocation.Postgres(builder.ConnectionString, PasswordVariable);
    }

    /// <summary>A workspace catalog of one machine: phases, sessions (ids prefixed by <paramref name="machine"/>), events with
    /// event and ingest keys (one key deduplicated away), snapshots, objects, backup runs, upload states, the queue, thaws,
    /// ingest offsets/pending/links, the identity and a rollup. Values include NULL and '' and non-ASCII text.</summary>
    public static async Task<CatalogLocation> FillAsync(CatalogLocation location, string machine, int sessions, int eventsPerSession)
    {
        await using (await CatalogDatabase.OpenAsync(location.Target, CancellationToken.None)) { }
        await using var connection = new SqliteConnection($"Data Source={location.Target};Pooling=False");
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        void Run(string sql, params object?[] values)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < values.Length; i++) command.Parameters.AddWithValue("@p" + i.ToString(CultureInfo.InvariantCulture), values[i] ?? DBNull.Value);
            command.ExecuteNonQuery();
        }
        const long t0 = 1_795_000_000_000;
        Run("INSERT INTO workspace_identity VALUES (1, @p0, @p1, @p2, @p3)", "ws-" + machine, "ns-" + machine, "/home/" + machine + "/proj", t0);
        Run("INSERT INTO phases (number, name, started_at, ended_at, reviewed_at, archive_expired_at) VALUES (0, 'setup', @p0, @p1, NULL, NULL), (1, 'build ✓', @p1, NULL, NULL, NULL)", t0, t0 + 1000);
        for (var s = 0; s < sessions; s++)
        {
            var id = $"session_{machine}_{s:D3}";
            var started = t0 + s * 60_000;
            Run("INSERT INTO sessions (session_id, phase, started_at, ended_at, state, log_path, handoff_path, log_indexed_bytes, event_count, rejected_lines) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, NULL, @p6, @p7, 0)",
                id, s % 2, started, s == sessions - 1 ? null : started + 50_000, s == sessions - 1 ? "Active" : "Completed", $"logs/{id}.jsonl", eventsPerSession * 100L, (long)eventsPerSession);
            for (var e = 0; e < eventsPerSession; e++)
            {
                var keyed = e % 3 == 0;
                Run("INSERT INTO events (session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, model, success, error_type, file, data, event_key, ingest_key) " +
                    "VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, NULL, NULL, @p9, @p10, @p11, @p12, @p13, @p14, @p15)",
                    id, started + e * 10, e % 5 == 0 ? "llm_call" : "tool_call", e % 4 == 0 ? "" : "main", e % 5 == 0 ? null : "Bash", "t" + (e % 7),
                    (long)(e % 97), (long)e * 3, (long)e, e % 5 == 0 ? "claude-opus" : null, e % 11 == 0 ? 0L : 1L, e % 11 == 0 ? "exit" : null,
                    e % 13 == 0 ? "src/été.cs" : null, $"{{\"n\":{e},\"text\":\"ünïcode \\\"quoted\\\"\"}}", keyed ? $"k{e}" : null, keyed ? $"tool_call:tu_{machine}_{s}_{e}" : null);
            }
            // A key written twice is one row: the second insert is the deduplicated event.
            Run("INSERT INTO events (session_id, ts, type, data, event_key) VALUES (@p0, @p1, 'note', '{}', 'k0') ON CONFLICT DO NOTHING", id, started);
            Run("INSERT INTO snapshots VALUES (@p0, 1, @p1, @p2, 120, 400, @p3)", id, started + 5, $"state/{id}_snap001.json.gz", new string('a', 64));
            Run("INSERT INTO objects VALUES ('backup', @p0, @p1, @p2, 1000, @p3, NULL, @p4, @p5)", $"{machine}/s/{id}/activity.jsonl.gz", id, (long)(s % 2), "md5" + s, started + 60_000, s % 2 == 0 ? started + 61_000 : null);
            Run("INSERT INTO backup_runs (session_id, tier, started_at, ended_at, status, bytes_sent, error) VALUES (@p0, 'backup', @p1, @p2, 'Succeeded', 1000, NULL), (@p0, 'Backup', @p1, NULL, 'Failed', 0, 'timeout')", id, started + 60_000, started + 61_000);
            Run("INSERT INTO ingest_agent_links VALUES (@p0, @p1, 'Explore', NULL, @p2)", id, "tu_" + s, s % 2 == 0 ? "agent" + s : null);
            Run("INSERT INTO ingest_pending VALUES (@p0, 'item1', @p1, 'waiting')", $"/home/{machine}/.claude/{id}.jsonl", id);
        }
        var first = $"session_{machine}_000";
        Run("INSERT INTO upload_states VALUES ('backup', @p0, 'https://upload/x?id=1', 1024, 4096, 'abc==', @p1)", $"{machine}/big.tar.gz", t0);
        Run("INSERT INTO backup_queue VALUES (@p0, 'backup', @p1, 2, 'offline')", first, t0);
        Run("INSERT INTO thaw_requests VALUES ('archive', @p0, @p1, 'Bulk', @p2, '0.0125')", $"{machine}/Phase_0.tar.gz", t0, t0 + 3_600_000);
        Run("INSERT INTO ingest_offsets VALUES (@p0, 4096, 'h1', @p1, @p2)", $"/home/{machine}/.claude/{first}.jsonl", first, t0);
        Run("INSERT INTO session_rollups VALUES (@p0, 1, 1, 1, 1, '{}', @p1, X'00FF')", first, t0);
        await transaction.CommitAsync();
        return location;
    }

    public static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public static Task<DbConnection> OpenAsync(CatalogLocation location, bool create = true) => CatalogConnections.OpenAsync(location, create, CancellationToken.None);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
