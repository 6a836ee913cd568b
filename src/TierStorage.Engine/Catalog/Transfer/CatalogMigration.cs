using System.Data.Common;
using System.Globalization;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>A planned edit of the policy's catalog section: the file, its text before (to refuse a file changed since) and after.</summary>
public sealed record CatalogPolicyEdit(string PolicyPath, string Before, string After, CatalogPolicySection Section, string Description);

/// <summary>
/// Moving a workspace's catalog between providers (Copy-TierCatalog, Test-TierCatalog, tierstorage catalog copy|test):
/// the copy, the comparison, and the policy edits that start dual-writing and cut over. Works on the workspace's files
/// without opening the workspace, so it runs whatever the policy's catalog section says.
/// </summary>
public sealed class CatalogMigration
{
    private readonly WorkspaceLayout _layout;

    /// <param name="workspaceRoot">The workspace folder (already resolved).</param>
    /// <param name="policyPath">The policy file in use, or null for the embedded default (which has no catalog section).</param>
    public CatalogMigration(string workspaceRoot, string? policyPath)
    {
        _layout = new WorkspaceLayout(workspaceRoot);
        PolicyPath = policyPath;
        if (!Directory.Exists(_layout.AnalyticsDirectory))
            throw new TierStorageException(ErrorIds.WorkspaceNotFound, TierErrorKind.ObjectNotFound,
                $"No TierStorage workspace at '{_layout.Root}'. Create one with Initialize-TierWorkspace (tierstorage init), or point to one with -WorkspacePath.", _layout.Root);
        Section = policyPath is not null && File.Exists(policyPath) ? CatalogPolicyFile.Read(File.ReadAllText(policyPath), policyPath) : null;
    }

    public string? PolicyPath { get; }

    /// <summary>The policy's local tier (the workspace itself), whose objects lie in no namespace.</summary>
    private string LocalTier => PolicyLoader.Load(PolicyPath).GetTier(TierLevel.Local)?.Name ?? "local";

    /// <summary>The policy's catalog section, or null.</summary>
    public CatalogPolicySection? Section { get; }

    /// <summary>The workspace's catalog: the policy's PostgreSQL one when its provider is postgres, else the SQLite file.</summary>
    public CatalogLocation Source => Section is { Provider: CatalogPolicySection.Postgres } section
        ? section.ConnectionLocation ?? throw PolicyProblem("provider is postgres but no connection is given")
        : CatalogLocation.Sqlite(_layout.CatalogPath);

    /// <summary>What Test-TierCatalog compares with by default: while the SQLite catalog is primary, the policy's connection
    /// (the copy being dual-written); once PostgreSQL is, the SQLite file left behind.</summary>
    public CatalogLocation DefaultTarget => Section switch
    {
        { Provider: CatalogPolicySection.Postgres } => CatalogLocation.Sqlite(_layout.CatalogPath),
        { ConnectionLocation: { } location } => location,
        _ => throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
            $"The policy{(PolicyPath is null ? "" : $" '{PolicyPath}'")} names no catalog connection to compare with: give one with -Against (--against), or start with Copy-TierCatalog -To <connection> -DualWrite."),
    };

    public Task<CatalogCopyResult> CopyAsync(CatalogLocation target, CatalogCopyOptions options, CancellationToken cancellationToken) =>
        WithBothAsync(target, create: true, "copy", (source, destination) =>
            CatalogCopier.CopyAsync(source, Source.Describe(), destination, target.Describe(), options with { Origin = options.Origin ?? CatalogOrigin.Current, LocalTier = LocalTier }, cancellationToken), cancellationToken);

    /// <summary>Compares the workspace's catalog with <paramref name="target"/> (every row of the source there). Once the
    /// workspace's catalog is PostgreSQL, its own SQLite file is what it left behind, and the question is the other way
    /// round: is every row of that file in PostgreSQL, which may be a team's and hold other machines' rows as well (a
    /// machine that joined one saw every other machine's session as missing from its old file). So that comparison runs
    /// from the file's side, and says so (its Source is the file).</summary>
    public Task<IReadOnlyList<CatalogTableComparison>> CompareAsync(CatalogLocation target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var leftBehind = Source.Provider == CatalogProviderKind.Postgres && target.Provider == CatalogProviderKind.Sqlite && SameFile(target.Target, _layout.CatalogPath);
        return WithBothAsync(target, create: false, "comparison", (source, destination) => leftBehind
            ? CatalogComparer.CompareAsync(destination, target.Describe(), source, Source.Describe(), cancellationToken)
            : CatalogComparer.CompareAsync(source, Source.Describe(), destination, target.Describe(), cancellationToken), cancellationToken);
    }

    private async Task<T> WithBothAsync<T>(CatalogLocation target, bool create, string what, Func<DbConnection, DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        ThrowIfSame(target);
        try
        {
            await using var source = await CatalogConnections.OpenAsync(Source, create: false, cancellationToken).ConfigureAwait(false);
            await using var destination = await CatalogConnections.OpenAsync(target, create, cancellationToken).ConfigureAwait(false);
            return await work(source, destination).ConfigureAwait(false);
        }
        catch (DbException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Provider messages name tables, hosts and databases, never the password (it is not in the connection string we keep).
            throw new TierStorageException(ErrorIds.CatalogError, TierErrorKind.WriteError,
                $"The catalog {what} between {Source.Describe()} and {target.Describe()} failed: {ex.Message} What was committed stays; run the command again to go on.", target.Describe(), ex);
        }
    }

    /// <summary>The copy as -WhatIf and -Confirm name it: "copy the catalog A into B", and when B is a team's catalog, that.</summary>
    public static string CopyText(CatalogLocation source, CatalogLocation target, string? team)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        return team is null ? $"copy the catalog {source.Describe()} into {target.Describe()}"
            : $"copy the catalog {source.Describe()} into {target.Describe()}, a team's catalog (workspace {team}): this workspace's sessions would join the other machines', the team's identity and phases kept";
    }

    /// <summary>What joining a team's catalog means for the workspace (Copy-TierCatalog, tierstorage catalog copy).</summary>
    public static string JoinedText(CatalogLocation target, string team)
    {
        ArgumentNullException.ThrowIfNull(target);
        return $"{target.Describe()} is a team's catalog (workspace {team}): this workspace's sessions were added beside the other machines', and the team's identity and phases were kept. " +
            "With -DualWrite (--dual-write) the policy uses it at once when every row of this workspace is there: a joining workspace has no dual-write period. It then backs up and archives under the team's namespace, and its sessions' files stay where they are.";
    }

    /// <summary>The edit that keeps the SQLite catalog primary and mirrors it into <paramref name="target"/> after each command.</summary>
    public CatalogPolicyEdit PlanDualWrite(CatalogLocation target, bool force)
    {
        if (target.Provider != CatalogProviderKind.Postgres)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                "-DualWrite mirrors the workspace's SQLite catalog into a PostgreSQL one: give a PostgreSQL connection string with -To.");
        if (Section is { Provider: CatalogPolicySection.Postgres })
            throw PolicyProblem("the workspace's catalog is already PostgreSQL (provider: postgres); there is nothing to dual-write");
        if (!force && Section?.Connection is { Length: > 0 } other && other != target.Target)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"The policy already names another catalog connection ({Section.ConnectionLocation?.Describe()}); nothing was changed. Add -Force to replace it.");
        var section = new CatalogPolicySection(CatalogPolicySection.Sqlite, target.Target, target.PasswordEnv, DualWrite: true);
        return Plan(section, $"Record catalog dual-write into {target.Describe()} (provider: sqlite, dual_write: true)");
    }

    /// <summary>
    /// What -DualWrite becomes when the copy joined a team's catalog (<see cref="CatalogCopyResult.Joined"/>): the policy uses
    /// that catalog at once (provider: postgres), given a comparison in which every table matched (else CatalogMismatch, as
    /// for -Cutover). A joining workspace has no dual-write period: the team's catalog is in use already, and what this
    /// workspace backed up meanwhile would lie under its own namespace, where the team's catalog could not find it.
    /// </summary>
    public CatalogPolicyEdit PlanJoin(CatalogPolicyEdit dualWrite, IReadOnlyList<CatalogTableComparison> comparison)
    {
        ArgumentNullException.ThrowIfNull(dualWrite);
        ArgumentNullException.ThrowIfNull(comparison);
        var target = dualWrite.Section.ConnectionLocation!;
        ThrowIfDiffering(comparison, target,
            "This workspace's rows are not all in the team's catalog, so the policy was not changed. Settle the differences (a session id the team already has is named above) and run Copy-TierCatalog -To <connection> -DualWrite again.");
        return JoinEdit(dualWrite, $"Join the team's catalog {target.Describe()}: make it the workspace's catalog (provider: postgres) without a dual-write period, which would leave this workspace's backups under its own namespace");
    }

    /// <summary>What -DualWrite would do with <paramref name="target"/> before anything is copied (-WhatIf): the dual-write edit,
    /// or, when <paramref name="team"/> names the team whose catalog it is (<see cref="TeamOfAsync"/>), the join's.</summary>
    public CatalogPolicyEdit PlanPreview(CatalogPolicyEdit dualWrite, string? team)
    {
        ArgumentNullException.ThrowIfNull(dualWrite);
        return team is null ? dualWrite : JoinEdit(dualWrite,
            $"Join the team's catalog {dualWrite.Section.ConnectionLocation!.Describe()} (workspace {team}): once the copy holds every row of this workspace, make it the workspace's catalog (provider: postgres), with no dual-write period");
    }

    /// <summary>The team whose catalog <paramref name="target"/> is when a copy into it would join it (it holds another
    /// workspace's identity), else null (a new or empty catalog, or this workspace's own copy). Reads both identities
    /// without writing or migrating anything.</summary>
    public async Task<string?> TeamOfAsync(CatalogLocation target, CancellationToken cancellationToken)
    {
        ThrowIfSame(target);
        if (await CatalogConnections.PeekIdentityAsync(target, cancellationToken).ConfigureAwait(false) is not { } theirs) return null;
        var ours = await CatalogConnections.PeekIdentityAsync(Source, cancellationToken).ConfigureAwait(false);
        return ours is { } mine && mine.Id != theirs.Id ? theirs.Id : null;
    }

    private CatalogPolicyEdit JoinEdit(CatalogPolicyEdit dualWrite, string description) =>
        Plan(dualWrite.Section with { Provider = CatalogPolicySection.Postgres, DualWrite = false }, description);

    /// <summary>The edit that makes the policy's PostgreSQL connection the catalog, given a comparison in which every table matched.
    /// ErrorIds.CatalogMismatch, naming every difference, when one did not.</summary>
    public CatalogPolicyEdit PlanCutover(IReadOnlyList<CatalogTableComparison> comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        if (Section is not { Provider: CatalogPolicySection.Sqlite, ConnectionLocation: { } target })
            throw PolicyProblem("-Cutover switches a workspace from its SQLite catalog to the PostgreSQL connection its catalog section names; start with Copy-TierCatalog -To <connection> -DualWrite");
        ThrowIfDiffering(comparison, target,
            "The catalogs differ, so the policy still uses the SQLite catalog; nothing was changed. Run Copy-TierCatalog -To <connection> again (it carries what is missing), then -Cutover.");
        var section = new CatalogPolicySection(CatalogPolicySection.Postgres, target.Target, target.PasswordEnv, DualWrite: false);
        return Plan(section, $"Make {target.Describe()} the workspace's catalog (provider: postgres)");
    }

    private static void ThrowIfDiffering(IReadOnlyList<CatalogTableComparison> comparison, CatalogLocation target, string what)
    {
        var differing = comparison.Where(c => !c.Match).ToList();
        if (differing.Count == 0 && comparison.Count > 0) return;
        var text = new StringBuilder($"{what} Differences with {target.Describe()}:");
        foreach (var table in differing)
        {
            text.Append(CultureInfo.InvariantCulture, $" {table.Table} ({table.SourceRows} rows here, {table.TargetRows} there");
            if (table.Differences.Count > 0) text.Append(": ").AppendJoin(", ", table.Differences.Select(d => $"{d.Kind} {d.Key}"));
            text.Append(table.MoreDifferences ? ", ...);" : ");");
        }
        throw new TierStorageException(ErrorIds.CatalogMismatch, TierErrorKind.InvalidOperation, text.ToString().TrimEnd(';') + ".", target.Describe());
    }

    /// <summary>Writes a planned edit (whole file or nothing). ErrorIds.PolicyInvalid when the file changed since the plan.</summary>
    public async Task ApplyAsync(CatalogPolicyEdit edit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(edit);
        if (await File.ReadAllTextAsync(edit.PolicyPath, cancellationToken).ConfigureAwait(false) != edit.Before)
            throw new TierStorageException(ErrorIds.PolicyInvalid, TierErrorKind.InvalidOperation,
                $"The policy '{edit.PolicyPath}' changed while the catalog was being copied; nothing was written. Run the command again.", edit.PolicyPath);
        await AtomicFile.WriteAllTextAsync(edit.PolicyPath, edit.After, overwrite: true, cancellationToken).ConfigureAwait(false);
    }

    private CatalogPolicyEdit Plan(CatalogPolicySection section, string description)
    {
        if (PolicyPath is null || !File.Exists(PolicyPath))
            throw new TierStorageException(ErrorIds.PolicyNotFound, TierErrorKind.ObjectNotFound,
                $"The workspace uses the embedded default policy, so there is no file to record the catalog in. Write one with Initialize-TierWorkspace -Force (tierstorage init --force) or name one with -PolicyPath, then run the command again.");
        var before = File.ReadAllText(PolicyPath);
        return new CatalogPolicyEdit(PolicyPath, before, CatalogPolicyFile.WithSection(before, section), section, description);
    }

    private void ThrowIfSame(CatalogLocation target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var source = Source;
        var same = source.Provider == target.Provider && (source.Provider == CatalogProviderKind.Sqlite
            ? SameFile(source.Target, target.Target)
            : source.Describe() == target.Describe());
        if (same)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"{target.Describe()} is the workspace's own catalog; name another one.", target.Describe());
    }

    private static bool SameFile(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    private TierStorageException PolicyProblem(string what) =>
        new(ErrorIds.PolicyInvalid, TierErrorKind.InvalidData, $"Invalid policy '{PolicyPath}': catalog: {what}.", PolicyPath);
}
