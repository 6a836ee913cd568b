using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Catalog.Transfer;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Compares the workspace's catalog with another catalog, table by table: row counts, a content hash, and the first rows that differ.</summary>
/// <remarks>
/// <para>Test-TierCatalog writes one record per catalog table: the rows on each side, a SHA-256 over the rows in a canonical form (ordered by key; events and backup runs per session in order, without their ids, which each database assigns itself), Match, and up to five Differences (Missing: only here, Extra: only there, Changed: both, with other values), each naming the row's key (events: session_id=...,#n, the n-th event of the session).</para>
/// <para>Without -Against it compares with the policy's catalog connection (the PostgreSQL catalog being dual-written), or, once the policy's provider is postgres, with the SQLite file left in the workspace: that comparison runs from the file's side (Source is the file), asking whether every row of the old catalog is in PostgreSQL, which may be a team's and hold other machines' rows too. session_rollups is not compared: it is a cache each catalog rebuilds. -Quiet returns only $true when every table matches.</para>
/// <para>Against a catalog shared with other machines (a team's: one another workspace created, or one that holds sessions of machines this one has none of), Shared is $true and only this workspace's rows are compared: every one of them must be there, the same; the other machines' rows are not differences, and TargetRows counts the rows there of this workspace's keys and sessions. The team's phases count as there when the team has their number.</para>
/// </remarks>
/// <example>
/// <code>Test-TierCatalog | Where-Object -not Match | Select-Object -ExpandProperty Differences</code>
/// <para>Every row that differs between the workspace's catalog and the policy's connection.</para>
/// </example>
/// <example>
/// <code>if (Test-TierCatalog -Against ./export.db -Quiet) { 'same' }</code>
/// <para>Checks an exported catalog file.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "TierCatalog")]
[OutputType(typeof(CatalogTableComparison))]
public sealed class TestTierCatalogCommand : WorkspaceCmdlet
{
    /// <summary>The catalog to compare with: a PostgreSQL connection string without a password, or an SQLite file path; default the policy's catalog connection.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CatalogTargetCompleter))]
    public string? Against { get; set; }

    /// <summary>The environment variable holding the PostgreSQL password (default: Npgsql's own PGPASSWORD or ~/.pgpass).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.EnvironmentVariableCompleter))]
    public string? PasswordEnv { get; set; }

    /// <summary>Return only $true when every table matches, else $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        var migration = RunTerminating(WorkspacePath, () => new CatalogMigration(
            TierWorkspace.ResolveWorkspacePath(ResolvePath(WorkspacePath), CurrentDirectory), ResolveEffectivePolicyPath()));
        var target = RunTerminating(null, () => Against is null ? migration.DefaultTarget
            : CatalogLocation.LooksLikeConnectionString(Against) ? CatalogLocation.Postgres(Against, PasswordEnv) : CatalogLocation.Sqlite(ResolvePath(Against)!));
        var comparison = RunTerminating(target.Describe(), () => Await(migration.CompareAsync(target, CancellationToken)));
        if (Quiet) WriteObject(comparison.All(c => c.Match));
        else foreach (var table in comparison) WriteObject(table);
    }
}
