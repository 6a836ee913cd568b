using Npgsql;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Catalog.Postgres;
using Xunit;

namespace TierStorage.Tests.Catalog.Postgres;

/// <summary>
/// The numbered catalog migrations applied to a real PostgreSQL through the same runner as SQLite's
/// (<see cref="MigrationRunner"/> with <see cref="PostgresMigrationDialect"/>): one schema history on both providers.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMigrationTests(PostgresServerFixture server)
{
    [Fact]
    public void Every_step_has_a_PostgreSQL_text()
    {
        Assert.Equal(Migrations.All.Select(m => m.Version), PostgresMigrations.Sql.Keys.Order());
    }

    [Fact]
    public async Task New_database_reaches_the_latest_version_with_every_step_recorded()
    {
        await using var connection = await OpenAsync(await server.CreateDatabaseAsync("migrate"));
        Assert.Equal(Migrations.Latest, await MigrateAsync(connection, Migrations.Latest));

        var recorded = await RowsAsync(connection, "SELECT version, name FROM schema_migrations ORDER BY version");
        Assert.Equal(Migrations.All.Select(m => $"{m.Version} {m.Name}"), recorded.Select(r => $"{r[0]} {r[1]}"));
    }

    [Fact]
    public async Task Tables_columns_indexes_and_triggers_are_the_SQLite_catalogs()
    {
        await using var connection = await OpenAsync(await server.CreateDatabaseAsync("schema"));
        await MigrateAsync(connection, Migrations.Latest);
        var postgres = new SortedSet<string>(StringComparer.Ordinal);
        // rowid is SQLite's own column, which PostgreSQL names where the catalog reads a table in insertion order.
        foreach (var row in await RowsAsync(connection, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name <> 'rowid'"))
            postgres.Add($"column {row[0]}.{row[1]}");
        // Primary keys are indexes PostgreSQL names itself; SQLite's are its autoindexes, left out the same way.
        foreach (var row in await RowsAsync(connection, "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'"))
            postgres.Add($"index {row[0]}.{row[1]}");
        foreach (var row in await RowsAsync(connection, "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"))
            postgres.Add($"trigger {row[0]}.{row[1]}");

        using var catalog = new CatalogFixture();
        await (await catalog.OpenAsync()).DisposeAsync();
        using var sqlite = catalog.RawConnection();
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in CatalogFixture.Rows(sqlite, "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"))
            expected.Add($"column {row[0]}.{row[1]}");
        foreach (var row in CatalogFixture.Rows(sqlite, "SELECT type, tbl_name, name FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"))
            expected.Add($"{row[0]} {row[1]}.{row[2]}");

        Assert.Equal(expected, postgres);
    }

    [Fact]
    public async Task Four_openers_of_a_new_database_at_once_apply_each_step_once()
    {
        var database = await server.CreateDatabaseAsync("race");
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 4; i++) connections.Add(await OpenAsync(database));
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var openers = connections.Select(c => Task.Run(async () =>
            {
                await go.Task;
                return await MigrateAsync(c, Migrations.Latest);
            })).ToArray();
            go.SetResult();
            Assert.All(await Task.WhenAll(openers), version => Assert.Equal(Migrations.Latest, version));
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }

        await using var check = await OpenAsync(database);
        Assert.Equal(Migrations.All.Select(m => m.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (await RowsAsync(check, "SELECT version::text FROM schema_migrations ORDER BY schema_migrations.version")).Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task Migrating_in_two_goes_applies_the_rest_and_a_rerun_applies_nothing()
    {
        await using var connection = await OpenAsync(await server.CreateDatabaseAsync("steps"));
        Assert.Equal(9, await MigrateAsync(connection, 9));
        Assert.Equal(9L, await ScalarAsync(connection, "SELECT count(*) FROM schema_migrations"));
        Assert.Equal(Migrations.Latest, await MigrateAsync(connection, Migrations.Latest));
        var applied = await RowsAsync(connection, "SELECT version, applied_at FROM schema_migrations ORDER BY version");

        Assert.Equal(Migrations.Latest, await MigrateAsync(connection, Migrations.Latest));
        Assert.Equal(applied.Select(r => $"{r[0]} {r[1]}"), (await RowsAsync(connection, "SELECT version, applied_at FROM schema_migrations ORDER BY version")).Select(r => $"{r[0]} {r[1]}"));
    }

    [Fact]
    public async Task A_catalog_of_a_newer_version_is_refused_and_left_as_it_is()
    {
        await using var connection = await OpenAsync(await server.CreateDatabaseAsync("newer"));
        await MigrateAsync(connection, Migrations.Latest);
        await ExecuteAsync(connection, $"INSERT INTO schema_migrations VALUES ({Migrations.Latest + 1}, 'from a newer TierStorage', 0)");

        var refused = await Assert.ThrowsAsync<TierStorageException>(() => MigrateAsync(connection, Migrations.Latest));
        Assert.Equal(ErrorIds.CatalogTooNew, refused.ErrorId);
        Assert.Equal((long)Migrations.Latest + 1, await ScalarAsync(connection, "SELECT count(*) FROM schema_migrations"));
    }

    /// <summary>What the catalog code relies on from the schema, beyond names: tier names compare without case (NOCASE),
    /// an event id sent again is left out without an error, and changing or deleting an event drops its session's rollup.</summary>
    [Fact]
    public async Task The_schema_behaves_as_the_SQLite_one()
    {
        await using var connection = await OpenAsync(await server.CreateDatabaseAsync("behaviour"));
        await MigrateAsync(connection, Migrations.Latest);
        await ExecuteAsync(connection, """
            INSERT INTO phases(number, started_at) VALUES (1, 0);
            INSERT INTO sessions(session_id, phase, started_at, state) VALUES ('s1', 1, 0, 'Completed');
            INSERT INTO objects(tier, key, size_bytes, stored_at) VALUES ('Backup', 'k', 1, 0);
            """);

        await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "INSERT INTO objects(tier, key, size_bytes, stored_at) VALUES ('backup', 'k', 2, 0)"));
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM objects WHERE tier = 'BACKUP'"));
        // As the catalog asks: the tier a text parameter (with citext this compared with case and found nothing).
        await using (var byParameter = new NpgsqlCommand("SELECT count(*) FROM objects WHERE tier = @tier", connection))
        {
            byParameter.Parameters.AddWithValue("tier", "BACKUP");
            Assert.Equal(1L, await byParameter.ExecuteScalarAsync());
        }

        const string insert = """
            INSERT INTO events(session_id, ts, type, event_key) VALUES ('s1', 1, 'decision', 'id-1')
            ON CONFLICT (session_id, event_key) WHERE event_key IS NOT NULL DO NOTHING RETURNING event_id
            """;
        Assert.NotNull(await ScalarAsync(connection, insert));
        Assert.Null(await ScalarAsync(connection, insert));

        const string rollup = "INSERT INTO session_rollups VALUES ('s1', 1, 1, 1, 1, 'p', 0, '\\x00')";
        await ExecuteAsync(connection, rollup);
        await ExecuteAsync(connection, "UPDATE events SET task = 't' WHERE session_id = 's1'");
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM session_rollups"));
        await ExecuteAsync(connection, rollup);
        await ExecuteAsync(connection, "DELETE FROM events WHERE session_id = 's1'");
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM session_rollups"));
    }

    private static Task<int> MigrateAsync(NpgsqlConnection connection, int target) =>
        MigrationRunner.MigrateAsync(connection, PostgresMigrationDialect.Instance, connection.Database, target, CancellationToken.None);

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task<List<object?[]>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }
}
