using TierStorage.Tests.Catalog.Postgres;
using TierStorage.Tests.Workspace;

namespace TierStorage.Tests.Backup;

/// <summary>
/// Workspace tests that run on both catalog providers: the class itself on the workspace's SQLite file, and a
/// Postgres... subclass, in the PostgreSQL collection, with the workspace's catalog a new database on a real PostgreSQL.
/// </summary>
public abstract class CatalogProviderTests(PostgresServerFixture? postgres)
{
    /// <summary>The server the catalogs are on, or null for SQLite.</summary>
    protected PostgresServerFixture? Postgres { get; } = postgres;

    /// <summary>BackupTestBed.CreateAsync, on this class's catalog provider.</summary>
    private protected Task<BackupTestBed> CreateAsync(int localSessions = 2, string? tierYaml = null, string extraYaml = "", int? backupPhases = null) =>
        BackupTestBed.CreateAsync(localSessions, tierYaml, extraYaml, backupPhases, Postgres);

    /// <summary>A test workspace on the embedded default policy, on this class's catalog provider.</summary>
    private protected Task<TestWorkspace> CreateWorkspaceAsync() => TestWorkspace.CreateAsync(null, Postgres);
}
