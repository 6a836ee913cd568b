using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog.Postgres;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>
/// Opens a catalog for a copy or a comparison: an open DbConnection, migrated to this TierStorage's schema, after
/// checking that what is there is a TierStorage catalog (or empty, when <c>create</c> allows making one). The one place
/// that knows how to open each provider for the transfer code; CatalogDatabase.OpenAsync(CatalogLocation) can take its
/// place once it opens PostgreSQL too.
/// </summary>
public static class CatalogConnections
{
    /// <summary>Opens <paramref name="location"/>. With <paramref name="create"/> an empty database (or a missing file)
    /// becomes a new catalog; without it, ErrorIds.NotACatalog. A database that holds other tables is refused either way,
    /// before anything is written to it.</summary>
    public static async Task<DbConnection> OpenAsync(CatalogLocation location, bool create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Provider == CatalogProviderKind.Postgres
            ? await OpenPostgresAsync(location, create, cancellationToken).ConfigureAwait(false)
            : await OpenSqliteAsync(location, create, cancellationToken).ConfigureAwait(false);
    }

    public static CatalogProviderKind KindOf(DbConnection connection) =>
        connection is NpgsqlConnection ? CatalogProviderKind.Postgres : CatalogProviderKind.Sqlite;

    /// <summary>The schema version a catalog connection is at.</summary>
    public static Task<int> SchemaVersionAsync(DbConnection connection, CancellationToken cancellationToken) =>
        MigrationRunner.ScalarIntAsync(connection, null, KindOf(connection) == CatalogProviderKind.Postgres
            ? "SELECT COALESCE(max(version), 0) FROM schema_migrations" : "PRAGMA user_version;", cancellationToken);

    /// <summary>The tables of the catalog (PostgreSQL: of the connection's current schema).</summary>
    public static async Task<IReadOnlyList<string>> TablesAsync(DbConnection connection, CancellationToken cancellationToken) =>
        (await ColumnQueryAsync(connection, KindOf(connection) == CatalogProviderKind.Postgres
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", null, cancellationToken).ConfigureAwait(false))
        .Select(r => (string)r[0]!).ToList();

    /// <summary>Column names and their declared type (PostgreSQL: udt_name such as int8, text, citext, bytea).</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ColumnsAsync(DbConnection connection, string table, CancellationToken cancellationToken)
    {
        var rows = await ColumnQueryAsync(connection, KindOf(connection) == CatalogProviderKind.Postgres
            ? "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t"
            : "SELECT name, type FROM pragma_table_info(@t)", table, cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => (string)r[0]!, r => ((string?)r[1] ?? "").ToLowerInvariant(), StringComparer.Ordinal);
    }

    private static async Task<List<object?[]>> ColumnQueryAsync(DbConnection connection, string sql, string? table, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (table is not null)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@t";
            parameter.Value = table;
            command.Parameters.Add(parameter);
        }
        var rows = new List<object?[]>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private static async Task<DbConnection> OpenPostgresAsync(CatalogLocation location, bool create, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(location.OpenString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ThrowIfNotACatalogAsync(connection, location, create, cancellationToken).ConfigureAwait(false);
            await MigrationRunner.MigrateAsync(connection, PostgresMigrationDialect.Instance, location.Describe(), Migrations.Latest, cancellationToken).ConfigureAwait(false);
            // Npgsql learns the server's types when it connects: citext, created by the first migration, is unknown to a
            // connection opened on the empty database until it reloads them.
            await connection.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (NpgsqlException ex) when (ex is not PostgresException { SqlState: "57014" })
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            // Npgsql's messages name host and database, never the password.
            throw new TierStorageException(ErrorIds.CatalogError, TierErrorKind.ConnectionError,
                $"The PostgreSQL catalog {location.Describe()} could not be opened: {ex.Message}", location.Describe(), ex);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The workspace identity (id, namespace) a catalog holds, read without creating, migrating or writing anything
    /// (what -WhatIf tells a copy into a new catalog from one that joins a team's by): null when there is no catalog there
    /// yet (no file, an empty database, no identity row). A server that cannot be reached fails as the copy would.</summary>
    public static async Task<(string Id, string? Namespace)?> PeekIdentityAsync(CatalogLocation location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        DbConnection connection;
        if (location.Provider == CatalogProviderKind.Postgres) connection = new NpgsqlConnection(location.OpenString());
        else
        {
            if (!File.Exists(location.Target)) return null;
            SqliteNative.EnsureInitialized();
            connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = location.Target, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        }
        await using (connection)
        {
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (!(await TablesAsync(connection, cancellationToken).ConfigureAwait(false)).Contains("workspace_identity")) return null;
                return await CatalogCopier.IdentityAsync(connection, cancellationToken).ConfigureAwait(false) is ({ } id, var ns) ? (id, ns) : null;
            }
            catch (NpgsqlException ex) when (ex is not PostgresException { SqlState: "57014" })
            {
                throw new TierStorageException(ErrorIds.CatalogError, TierErrorKind.ConnectionError,
                    $"The PostgreSQL catalog {location.Describe()} could not be opened: {ex.Message}", location.Describe(), ex);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is 11 or 26)
            {
                throw new TierStorageException(ErrorIds.NotACatalog, TierErrorKind.InvalidData,
                    $"'{location.Target}' is not a TierStorage catalog: it is not an SQLite database ({ex.Message}).", location.Target, ex);
            }
        }
    }

    private static async Task<DbConnection> OpenSqliteAsync(CatalogLocation location, bool create, CancellationToken cancellationToken)
    {
        SqliteNative.EnsureInitialized();
        var path = location.Target;
        if (!File.Exists(path) && !create)
            throw new TierStorageException(ErrorIds.NotACatalog, TierErrorKind.ObjectNotFound, $"There is no catalog at '{path}'.", path);
        if (Path.GetDirectoryName(path) is { } directory) Directory.CreateDirectory(directory);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // A pooled connection would keep the file open after the copy, blocking a move or a backup of it.
            Pooling = false,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await MigrationRunner.ExecuteAsync(connection, null, "PRAGMA busy_timeout = 10000;", cancellationToken).ConfigureAwait(false);
            await ThrowIfNotACatalogAsync(connection, location, create, cancellationToken).ConfigureAwait(false);
            await MigrationRunner.ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;", cancellationToken).ConfigureAwait(false);
            await MigrationRunner.MigrateAsync(connection, SqliteMigrationDialect.Instance, path, Migrations.Latest, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 11 or 26)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new TierStorageException(ErrorIds.NotACatalog, TierErrorKind.InvalidData,
                $"'{path}' is not a TierStorage catalog: it is not an SQLite database ({ex.Message}). Nothing was written to it.", path, ex);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A catalog has schema_migrations with our columns and a sessions table; an empty database may become one.
    /// Anything else (another application's tables, Rails' own schema_migrations) is refused untouched.</summary>
    private static async Task ThrowIfNotACatalogAsync(DbConnection connection, CatalogLocation location, bool create, CancellationToken cancellationToken)
    {
        var tables = await TablesAsync(connection, cancellationToken).ConfigureAwait(false);
        if (tables.Count == 0)
        {
            if (create) return;
            throw new TierStorageException(ErrorIds.NotACatalog, TierErrorKind.ObjectNotFound,
                $"{location.Describe()} holds no catalog (it is empty). Copy one there with Copy-TierCatalog -To (tierstorage catalog copy --to).", location.Describe());
        }
        var isCatalog = tables.Contains("schema_migrations") && tables.Contains("sessions") && tables.Contains("events");
        if (isCatalog)
        {
            var columns = await ColumnsAsync(connection, "schema_migrations", cancellationToken).ConfigureAwait(false);
            isCatalog = columns.ContainsKey("version") && columns.ContainsKey("name") && columns.ContainsKey("applied_at");
        }
        if (!isCatalog)
        {
            var shown = string.Join(", ", tables.Order(StringComparer.Ordinal).Take(5)) + (tables.Count > 5 ? string.Create(CultureInfo.InvariantCulture, $" and {tables.Count - 5} more") : "");
            throw new TierStorageException(ErrorIds.NotACatalog, TierErrorKind.InvalidData,
                $"{location.Describe()} is not a TierStorage catalog: it holds other tables ({shown}). Nothing was written to it; name an empty database or a TierStorage catalog.",
                location.Describe());
        }
    }
}
