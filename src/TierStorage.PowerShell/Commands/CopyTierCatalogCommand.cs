using System.Globalization;
using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Catalog.Transfer;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Copies the workspace's catalog into another catalog (a PostgreSQL database, or an SQLite file), checks the copy, and moves the policy to PostgreSQL once they match.</summary>
/// <remarks>
/// <para>Copy-TierCatalog -To copies every table of the workspace's catalog into the target, then compares the two (as Test-TierCatalog does) and writes one comparison per table. The target is a PostgreSQL connection string (Host=...;Database=...;Username=..., never a password: name the variable holding it with -PasswordEnv, or use ~/.pgpass or PGPASSWORD) or the path of an SQLite file; an empty database or a missing file becomes a new catalog, and a database or file that holds anything else is refused untouched. When the workspace's catalog is PostgreSQL (provider: postgres), -To with a file path is the reverse export: a portable SQLite catalog for a laptop or a bug report.</para>
/// <para>The copy is safe to interrupt and to rerun: it commits 5,000 rows at a time, a rerun goes on from what is there and writes only rows that are missing or changed, and it never duplicates a row. Events and backup runs are matched per session in order (their ids are the target's own). session_rollups is not copied: it is a cache keyed by event ids, and the next phase review rebuilds it. Rows the target holds differently from another machine (a session id it already has with another start or from another machine) are left as they are, each a non-terminating error (CatalogConflict) naming it.</para>
/// <para>Copied into a team's catalog (one another workspace created), the workspace joins it as one more machine: its sessions go in beside the others', stamped with this machine and user where they had no origin; the team's identity and phases are kept (a phase the team names differently is a warning); the comparison then covers only this workspace's rows (Shared); and -DualWrite then makes the team's catalog the workspace's catalog at once (provider: postgres) when every row of this workspace is there, with no dual-write period, since what the workspace backed up meanwhile would lie under its own namespace. The workspace then backs up and archives under the team's namespace. A workspace with objects on its backup or archive tiers under a namespace of its own is refused before anything is written (CatalogConflict), because the team's catalog would look for them under the team's namespace.</para>
/// <para>-DualWrite then records in the policy catalog: { provider: sqlite, connection: ..., password_env: ..., dual_write: true }: the SQLite catalog stays the workspace's catalog and is mirrored into the connection after every command that changes it. -Cutover compares the workspace's catalog with the policy's connection and, only when every table matches, rewrites the catalog section to provider: postgres; otherwise it refuses (CatalogMismatch) listing the differences and changes nothing. Both edits touch only the catalog block of the policy file, and ask first (-WhatIf, -Confirm). -WhatIf reads the target's identity first (without writing or migrating anything) and says which it would be: a copy into a new catalog and the dual-write edit, or a join of a team's catalog and the switch to it.</para>
/// </remarks>
/// <example>
/// <code>Copy-TierCatalog -To 'Host=db.example;Database=tierstorage;Username=me' -PasswordEnv TS_PG_PASSWORD -DualWrite</code>
/// <para>Copies the catalog into PostgreSQL, shows the comparison, and keeps mirroring the SQLite catalog into it.</para>
/// </example>
/// <example>
/// <code>Copy-TierCatalog -Cutover</code>
/// <para>Makes the policy's PostgreSQL connection the catalog, once Test-TierCatalog finds no difference.</para>
/// </example>
/// <example>
/// <code>Copy-TierCatalog -To ./catalog-export.db | Where-Object -not Match</code>
/// <para>Writes the catalog to a portable SQLite file and lists any table that does not match.</para>
/// </example>
[Cmdlet(VerbsCommon.Copy, "TierCatalog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CopySet)]
[OutputType(typeof(CatalogTableComparison))]
public sealed class CopyTierCatalogCommand : WorkspaceCmdlet
{
    private const string CopySet = "Copy";
    private const string CutoverSet = "Cutover";
    private const int ProgressId = 1;

    /// <summary>The catalog to copy into: a PostgreSQL connection string without a password, or an SQLite file path.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = CopySet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CatalogTargetCompleter))]
    public string To { get; set; } = "";

    /// <summary>The environment variable holding the PostgreSQL password (default: Npgsql's own PGPASSWORD or ~/.pgpass).</summary>
    [Parameter(ParameterSetName = CopySet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.EnvironmentVariableCompleter))]
    public string? PasswordEnv { get; set; }

    /// <summary>After the copy, record the target in the policy as a dual-write mirror of the SQLite catalog.</summary>
    [Parameter(ParameterSetName = CopySet)]
    public SwitchParameter DualWrite { get; set; }

    /// <summary>With -DualWrite: replace a catalog connection the policy already names.</summary>
    [Parameter(ParameterSetName = CopySet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Compare with the policy's catalog connection and, when every table matches, make it the workspace's catalog.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CutoverSet)]
    public SwitchParameter Cutover { get; set; }

    protected override void ProcessRecord()
    {
        var migration = RunTerminating(WorkspacePath, () => new CatalogMigration(
            TierWorkspace.ResolveWorkspacePath(ResolvePath(WorkspacePath), CurrentDirectory), ResolveEffectivePolicyPath()));
        if (Cutover) CutoverToPolicyConnection(migration);
        else CopyTo(migration);
    }

    private void CopyTo(CatalogMigration migration)
    {
        var target = RunTerminating(null, () => CatalogLocation.LooksLikeConnectionString(To)
            ? CatalogLocation.Postgres(To, PasswordEnv) : CatalogLocation.Sqlite(ResolvePath(To)!));
        var source = RunTerminating(null, () => migration.Source);
        var edit = DualWrite ? RunTerminating(target.Describe(), () => migration.PlanDualWrite(target, Force)) : null;
        // Whether the copy would join a team's catalog is said before anything is done (-WhatIf, -Confirm): read-only.
        var joins = RunTerminating(target.Describe(), () => Await(migration.TeamOfAsync(target, CancellationToken)));
        var copyText = CatalogMigration.CopyText(source, target, joins);
        var sentence = char.ToUpperInvariant(copyText[0]) + copyText[1..];
        if (!ShouldProcess(sentence + ".", sentence + "?", "Confirm", out var reason))
        {
            // -WhatIf says what the policy edit would be too (the copy is never run, so it is never reached below).
            if (reason == ShouldProcessReason.WhatIf && edit is not null)
            {
                var shown = migration.PlanPreview(edit, joins);
                ShouldProcess(shown.PolicyPath, shown.Description);
            }
            return;
        }
        var activity = $"Copying the catalog to {target.Describe()}";
        var progress = PipelineProgress<CatalogCopyProgress>(p => new ProgressRecord(ProgressId, activity,
            string.Create(CultureInfo.InvariantCulture, $"{p.Table}: {p.RowsDone:N0} of {p.RowsTotal:N0} rows"))
        {
            PercentComplete = (int)Math.Min(100, (p.TableIndex * 100L + (p.RowsTotal > 0 ? p.RowsDone * 100 / p.RowsTotal : 100)) / Math.Max(1, p.TableCount)),
        });
        var copied = RunTerminating(target.Describe(), () => Await(migration.CopyAsync(target, new CatalogCopyOptions { Progress = progress }, CancellationToken)));
        CompleteProgress(ProgressId, activity);
        WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Copied {copied.RowsWritten:N0} rows into {target.Describe()} in {copied.Duration.TotalSeconds:N1} s."));
        foreach (var conflict in copied.Conflicts)
        {
            WriteError(CreateErrorRecord(new TierStorageException(ErrorIds.CatalogConflict, TierErrorKind.InvalidData,
                $"Not copied: {conflict.Table} {conflict.Key}: {conflict.Reason}", conflict.Key), conflict.Key));
        }
        foreach (var kept in copied.Kept) WriteWarning($"Kept the team's {kept.Table} {kept.Key}: {kept.Reason}");
        if (copied.Joined is { } team) WriteVerbose(CatalogMigration.JoinedText(target, team));
        var comparison = RunTerminating(target.Describe(), () => Await(migration.CompareAsync(target, CancellationToken)));
        foreach (var table in comparison) WriteObject(table);
        if (edit is null) return;
        if (copied.Conflicts.Count > 0)
        {
            WriteError(CreateErrorRecord(new TierStorageException(ErrorIds.CatalogConflict, TierErrorKind.InvalidOperation,
                $"The policy was not changed: {target.Describe()} holds rows this workspace cannot use as its own (see the errors above)."), target.Describe()));
            return;
        }
        if (copied.Joined is not null) edit = RunTerminating(target.Describe(), () => migration.PlanJoin(edit, comparison));
        if (ShouldProcess(edit.PolicyPath, edit.Description)) ProcessItem(edit.PolicyPath, () => Await(migration.ApplyAsync(edit, CancellationToken)));
    }

    private void CutoverToPolicyConnection(CatalogMigration migration)
    {
        var target = RunTerminating(migration.PolicyPath, () => migration.DefaultTarget);
        var comparison = RunTerminating(target.Describe(), () => Await(migration.CompareAsync(target, CancellationToken)));
        foreach (var table in comparison) WriteObject(table);
        var edit = RunTerminating(target.Describe(), () => migration.PlanCutover(comparison));
        if (ShouldProcess(edit.PolicyPath, edit.Description)) RunTerminating(edit.PolicyPath, () => { Await(migration.ApplyAsync(edit, CancellationToken)); return true; });
    }
}
