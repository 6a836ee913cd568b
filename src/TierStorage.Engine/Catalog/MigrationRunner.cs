using System.Data.Common;
using System.Globalization;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// What differs between catalog providers when the numbered migrations are applied: how a step's transaction keeps a
/// second opener out, where the schema version lives, the text of each step. The order, the one-step-per-transaction
/// rule and schema_migrations are <see cref="MigrationRunner"/>'s and the same on every provider.
/// </summary>
internal interface IMigrationDialect
{
    /// <summary>Runs first in each step's transaction: after it, no other process can apply a step until this one commits.</summary>
    Task LockAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>The schema version the catalog is at (0 for a new one), read under the lock.</summary>
    Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>CREATE TABLE IF NOT EXISTS schema_migrations (version, name, applied_at) in this provider's types.</summary>
    string SchemaMigrationsTable { get; }

    /// <summary>The step's SQL on this provider; empty when the step has nothing to do here.</summary>
    string SqlOf(Migration migration);

    /// <summary>Records the version wherever this provider reads it from besides schema_migrations (SQLite: user_version).</summary>
    Task SetVersionAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken);
}

/// <summary>
/// Applies <see cref="Migrations.All"/> up to a target version, one step per transaction, each recorded in
/// schema_migrations in the transaction that applied it: a crash leaves the catalog at a step's boundary, and a rerun
/// goes on from there. Two processes opening a new catalog at once apply each step once (the dialect's lock).
/// </summary>
internal static class MigrationRunner
{
    /// <param name="catalog">Names the catalog in errors (a file path, or host and database: never a password).</param>
    /// <returns>The version the catalog is at afterwards.</returns>
    public static async Task<int> MigrateAsync(DbConnection connection, IMigrationDialect dialect, string catalog, int targetVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(dialect);
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await dialect.LockAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            var version = await dialect.ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            CatalogDatabase.ThrowIfTooNew(catalog, version);
            var next = Migrations.All.FirstOrDefault(m => m.Version > version && m.Version <= targetVersion);
            if (next is null)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return version;
            }
            await ExecuteAsync(connection, transaction, dialect.SchemaMigrationsTable, cancellationToken).ConfigureAwait(false);
            if (dialect.SqlOf(next) is { Length: > 0 } sql) await ExecuteAsync(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations(version, name, applied_at) VALUES (@v, @n, @at)";
                record.Parameters.Add(Parameter(record, "@v", next.Version));
                record.Parameters.Add(Parameter(record, "@n", next.Name));
                record.Parameters.Add(Parameter(record, "@at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await dialect.SetVersionAsync(connection, transaction, next.Version, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<int> ScalarIntAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static DbParameter Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        return parameter;
    }
}

/// <summary>SQLite: the write lock of BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default), and the version in the file
/// header's user_version, which is read before anything writes to tell a foreign file from a catalog.</summary>
internal sealed class SqliteMigrationDialect : IMigrationDialect
{
    public static readonly SqliteMigrationDialect Instance = new();

    // BEGIN IMMEDIATE already took the write lock before the version is read, so when two processes open a fresh file
    // together the second waits, then sees the first one's work and skips it.
    public Task LockAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        MigrationRunner.ScalarIntAsync(connection, transaction, "PRAGMA user_version;", cancellationToken);

    public string SchemaMigrationsTable => """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        );
        """;

    public string SqlOf(Migration migration) => migration.Sql;

    // PRAGMA takes no parameters; the value is our own integer constant.
    public Task SetVersionAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken) =>
        MigrationRunner.ExecuteAsync(connection, transaction, $"PRAGMA user_version = {version.ToString(CultureInfo.InvariantCulture)};", cancellationToken);
}
