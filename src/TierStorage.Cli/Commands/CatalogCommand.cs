using System.CommandLine;
using System.Globalization;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Catalog.Transfer;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage catalog copy|test</c>: the twins of Copy-TierCatalog and Test-TierCatalog.</summary>
internal static class CatalogCommand
{
    private static Option<string?> PasswordEnvOption() => new("--password-env")
    {
        Description = "Environment variable holding the PostgreSQL password (default: PGPASSWORD or ~/.pgpass)",
        HelpName = "NAME",
    };

    private static CatalogMigration Migration(CliContext context, ParseResult parseResult)
    {
        var root = context.ResolveWorkspacePath(parseResult);
        return new CatalogMigration(root, TierWorkspace.ResolvePolicyPath(root, parseResult.GetValue(context.Policy)));
    }

    private static CatalogLocation Location(string text, string? passwordEnv) =>
        CatalogLocation.LooksLikeConnectionString(text) ? CatalogLocation.Postgres(text, passwordEnv) : CatalogLocation.Sqlite(text);

    public static Command CreateCopy(CliContext context)
    {
        var to = new Option<string?>("--to") { Description = "Catalog to copy into: a PostgreSQL connection string without a password, or an SQLite file", HelpName = "CONNECTION|FILE" };
        var passwordEnv = PasswordEnvOption();
        var dualWrite = new Option<bool>("--dual-write") { Description = "Then record the target in the policy as a mirror of the SQLite catalog (catalog: dual_write: true)" };
        var force = new Option<bool>("--force") { Description = "With --dual-write: replace a catalog connection the policy already names" };
        var cutover = new Option<bool>("--cutover") { Description = "Compare with the policy's catalog connection; when every table matches, make it the catalog (provider: postgres)" };
        var whatIf = new Option<bool>("--what-if") { Description = "Say what would be copied or changed; change nothing" };
        var command = new Command("copy",
            "Copy the workspace's catalog into PostgreSQL or an SQLite file (resumable; a rerun duplicates nothing; session_rollups, a cache, is rebuilt by the next review), then compare the two")
        {
            to, passwordEnv, dualWrite, force, cutover, whatIf,
        };
        command.Validators.Add(result =>
        {
            var given = ValueParsers.IsGiven(result, to);
            if (given == result.GetValue(cutover)) result.AddError("Give either --to or --cutover.");
            if (result.GetValue(cutover) && (ValueParsers.IsGiven(result, passwordEnv) || result.GetValue(dualWrite) || result.GetValue(force)))
                result.AddError("--cutover takes the connection and password variable from the policy's catalog section.");
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var migration = Migration(context, parseResult);
            if (parseResult.GetValue(cutover))
            {
                var policyTarget = migration.DefaultTarget;
                var before = await migration.CompareAsync(policyTarget, cancellationToken).ConfigureAwait(false);
                WriteComparison(context, parseResult, before);
                var cut = migration.PlanCutover(before);
                if (parseResult.GetValue(whatIf))
                {
                    context.Stdout.WriteLine($"What if: {cut.Description} in {cut.PolicyPath}.");
                    return ExitCodes.Success;
                }
                await migration.ApplyAsync(cut, cancellationToken).ConfigureAwait(false);
                if (!context.IsJson(parseResult)) context.Stdout.WriteLine($"{cut.Description}: {cut.PolicyPath} updated.");
                return ExitCodes.Success;
            }
            var target = Location(parseResult.GetValue(to)!, parseResult.GetValue(passwordEnv));
            var edit = parseResult.GetValue(dualWrite) ? migration.PlanDualWrite(target, parseResult.GetValue(force)) : null;
            if (parseResult.GetValue(whatIf))
            {
                var joins = await migration.TeamOfAsync(target, cancellationToken).ConfigureAwait(false);
                context.Stdout.WriteLine($"What if: {CatalogMigration.CopyText(migration.Source, target, joins)}.");
                if (edit is not null)
                {
                    var shown = migration.PlanPreview(edit, joins);
                    context.Stdout.WriteLine($"What if: {shown.Description} in {shown.PolicyPath}.");
                }
                return ExitCodes.Success;
            }
            var copied = await migration.CopyAsync(target, new CatalogCopyOptions(), cancellationToken).ConfigureAwait(false);
            foreach (var conflict in copied.Conflicts) context.WriteError(ErrorIds.CatalogConflict, $"Not copied: {conflict.Table} {conflict.Key}: {conflict.Reason}");
            foreach (var kept in copied.Kept) context.Warn($"Kept the team's {kept.Table} {kept.Key}: {kept.Reason}");
            if (copied.Joined is { } team && !context.IsJson(parseResult)) context.Stderr.WriteLine(CatalogMigration.JoinedText(target, team));
            if (!context.IsJson(parseResult))
                context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Copied {copied.RowsWritten:N0} rows into {target.Describe()} in {copied.Duration.TotalSeconds:N1} s."));
            var comparison = await migration.CompareAsync(target, cancellationToken).ConfigureAwait(false);
            WriteComparison(context, parseResult, comparison);
            if (copied.Conflicts.Count > 0)
            {
                if (edit is not null) context.WriteError(ErrorIds.CatalogConflict, $"The policy was not changed: {target.Describe()} holds rows this workspace cannot use as its own.");
                return ExitCodes.InvalidData;
            }
            if (edit is not null)
            {
                if (copied.Joined is not null) edit = migration.PlanJoin(edit, comparison);
                await migration.ApplyAsync(edit, cancellationToken).ConfigureAwait(false);
                if (!context.IsJson(parseResult)) context.Stdout.WriteLine($"{edit.Description}: {edit.PolicyPath} updated.");
            }
            return comparison.All(c => c.Match) ? ExitCodes.Success : ExitCodes.Failed;
        });
        return command;
    }

    public static Command CreateTest(CliContext context)
    {
        var against = new Option<string?>("--against") { Description = "Catalog to compare with (default: the policy's catalog connection)", HelpName = "CONNECTION|FILE" };
        var passwordEnv = PasswordEnvOption();
        var command = new Command("test", "Compare the workspace's catalog with another, table by table: rows, a content hash, the first differing keys (exit 1 when any differs)")
        {
            against, passwordEnv,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var migration = Migration(context, parseResult);
            var target = parseResult.GetValue(against) is { } text ? Location(text, parseResult.GetValue(passwordEnv)) : migration.DefaultTarget;
            var comparison = await migration.CompareAsync(target, cancellationToken).ConfigureAwait(false);
            WriteComparison(context, parseResult, comparison);
            return comparison.All(c => c.Match) ? ExitCodes.Success : ExitCodes.Failed;
        });
        return command;
    }

    private static void WriteComparison(CliContext context, ParseResult parseResult, IReadOnlyList<CatalogTableComparison> comparison)
    {
        if (context.IsJson(parseResult))
        {
            foreach (var table in comparison) context.WriteJson(table, CliJson.Context.CatalogTableComparison);
            return;
        }
        new TableFormatter(new TableColumn("TABLE"), new TableColumn("MATCH"), new TableColumn("SOURCE", ColumnAlignment.Right), new TableColumn("TARGET", ColumnAlignment.Right), new TableColumn("SHARED"), new TableColumn("DIFFERENCES"))
            .Write(context.Stdout, comparison.Select(c => new[]
            {
                c.Table, c.Match ? "yes" : "NO", c.SourceRows.ToString(CultureInfo.InvariantCulture), c.TargetRows.ToString(CultureInfo.InvariantCulture), c.Shared ? "yes" : "no",
                string.Join("; ", c.Differences.Select(d => $"{d.Kind} {d.Key}")) + (c.MoreDifferences ? "; ..." : ""),
            }).ToList());
    }
}
