using System.Buffers.Binary;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TierStorage.Engine.Catalog.Postgres;

/// <summary>
/// PostgreSQL: each step's transaction first takes a transaction-level advisory lock (released by its commit or
/// rollback, or when the connection dies), so two machines opening a new shared catalog at once apply each step once,
/// the second waiting and then finding the step recorded; the version is the largest in schema_migrations. Works on
/// any open ADO.NET connection to PostgreSQL (the engine takes no Npgsql dependency for it). Applies the step's text in
/// <see cref="PostgresMigrations.Sql"/>, which every step must have.
/// </summary>
internal sealed class PostgresMigrationDialect : IMigrationDialect
{
    public static readonly PostgresMigrationDialect Instance = new();

    /// <summary>The advisory lock key of the migration runner.</summary>
    public static readonly long MigrationLockKey = AdvisoryLockKey("migrate");

    /// <summary>A 64-bit advisory lock key for a TierStorage lock name: the first 8 bytes of SHA-256("tierstorage/" + name).</summary>
    public static long AdvisoryLockKey(string name) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("tierstorage/" + name)));

    public Task LockAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        MigrationRunner.ExecuteAsync(connection, transaction,
            $"SELECT pg_advisory_xact_lock({MigrationLockKey.ToString(CultureInfo.InvariantCulture)}); {SchemaMigrationsTable}", cancellationToken);

    public Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        MigrationRunner.ScalarIntAsync(connection, transaction, "SELECT COALESCE(max(version), 0) FROM schema_migrations", cancellationToken);

    // Created under the lock (LockAsync), before the version is read from it; applied_at is unix milliseconds: bigint.
    public string SchemaMigrationsTable => """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at bigint NOT NULL
        );
        """;

    public string SqlOf(Migration migration) =>
        PostgresMigrations.Sql.TryGetValue(migration.Version, out var sql) ? sql
            : throw new InvalidOperationException($"Catalog migration {migration.Version} ({migration.Name}) has no PostgreSQL text.");

    public Task SetVersionAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken) => Task.CompletedTask;
}
