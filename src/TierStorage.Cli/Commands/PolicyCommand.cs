using System.CommandLine;
using System.Globalization;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage policy show|test</c>: Get-TierPolicy and Test-TierPolicy.</summary>
internal static class PolicyCommand
{
    public static Command Create(CliContext context) =>
        new("policy", "Show or check the lifecycle policy (tierstorage.yaml)") { CreateShow(context), CreateTest(context) };

    private static Command CreateShow(CliContext context)
    {
        var command = new Command("show", "Show the effective policy (defaults filled in)");
        command.SetAction((parseResult, cancellationToken) =>
        {
            // Reads the policy without opening the catalog, so it also works before `init`.
            var policy = PolicyLoader.Load(ResolvePolicyPath(context, parseResult));
            if (context.IsJson(parseResult)) context.WriteJson(policy, CliJson.Context.TierPolicy);
            else WriteSummary(context.Stdout, policy);
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command CreateTest(CliContext context)
    {
        var file = new Argument<string?>("file") { Description = "Policy file to check (default: the policy the workspace uses)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("test", "Check a policy file; prints every finding as file:line:col and exits 1 on any error") { file };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file) ?? ResolvePolicyPath(context, parseResult);
            var findings = PolicyLoader.Test(path);
            foreach (var finding in findings)
            {
                if (context.IsJson(parseResult)) context.WriteJson(finding, CliJson.Context.PolicyFinding);
                else context.Stdout.WriteLine(CliContext.FormatFinding(finding));
            }

            var failed = findings.Any(f => f.Severity == FindingSeverity.Error);
            if (!failed && !context.IsJson(parseResult)) context.Stdout.WriteLine($"{path ?? PolicyLoader.EmbeddedSource}: policy is valid.");
            return Task.FromResult(failed ? ExitCodes.Failed : ExitCodes.Success);
        });
        return command;
    }

    private static string? ResolvePolicyPath(CliContext context, ParseResult parseResult) =>
        TierWorkspace.ResolvePolicyPath(
            TierWorkspace.ResolveWorkspacePath(parseResult.GetValue(context.Workspace)),
            parseResult.GetValue(context.Policy));

    private static void WriteSummary(TextWriter writer, TierPolicy policy)
    {
        var retention = policy.Retention;
        writer.WriteLine($"Policy:     {policy.Source} (version {policy.Version})");
        writer.WriteLine($"Retention:  {retention.LocalSessions} sessions local, {retention.BackupPhases} phases on backup, " +
                         $"archive {(retention.ArchiveDays is { } days ? $"{days} days" : "forever")}");
        writer.WriteLine($"Backup:     on session complete {Display.YesNo(policy.Backup.OnSessionComplete)}, compression level {policy.Backup.CompressionLevel}");
        writer.WriteLine($"Redaction:  {(policy.Redaction.UseDefaults ? "built-in patterns" : "no built-in patterns")} + {policy.Redaction.Patterns.Count} custom");
        writer.WriteLine($"Pricing:    {policy.Pricing.Models.Count} models ({policy.Pricing.Currency})");
        var budget = policy.Review.Budget;
        var limits = new[] { ("phase", budget.PhaseUsd), ("task", budget.TaskUsd), ("day", budget.DailyUsd) }
            .Where(b => b.Item2 is not null).Select(b => $"{b.Item2!.Value.ToString("0.##", CultureInfo.InvariantCulture)} {policy.Pricing.Currency} per {b.Item1}").ToList();
        writer.WriteLine($"Review:     p95 targets {string.Join(", ", policy.Review.LatencyTargetsMs.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} {t.Value.ToString(CultureInfo.InvariantCulture)} ms"))}; " +
                         $"budget {(limits.Count == 0 ? "none" : string.Join(", ", limits))}");
        writer.WriteLine();

        new TableFormatter(
                new TableColumn("TIER"), new TableColumn("LEVEL"), new TableColumn("KIND"), new TableColumn("LOCATION", Width: 50),
                new TableColumn("CAPACITY", ColumnAlignment.Right), new TableColumn("WARN", ColumnAlignment.Right),
                new TableColumn("CRITICAL", ColumnAlignment.Right), new TableColumn("PER GB-MONTH", ColumnAlignment.Right))
            .Write(writer, policy.Tiers.Select(t => new[]
            {
                t.Name, $"{(int)t.Level} {t.Level}", t.Kind.ToString(), Location(t),
                t.CapacityBytes is { } capacity ? Display.Bytes(capacity) : "unbounded",
                Percent(t.WarnPercent), Percent(t.CriticalPercent), t.PricePerGbMonth.ToString(CultureInfo.InvariantCulture),
            }));

        if (policy.Lifecycle.Count == 0) return;
        writer.WriteLine();
        new TableFormatter(
                new TableColumn("DATA CLASS"), new TableColumn("CORE DAYS", ColumnAlignment.Right), new TableColumn("MAIN DAYS", ColumnAlignment.Right),
                new TableColumn("ARCHIVE AFTER", ColumnAlignment.Right), new TableColumn("DELETE AFTER", ColumnAlignment.Right))
            .Write(writer, policy.Lifecycle.Select(r => new[]
            {
                r.DataClass, Display.Number(r.CoreDays), Display.Number(r.MainDays), Display.Number(r.ArchiveAfterDays), Display.Number(r.DeleteAfterDays),
            }));
    }

    private static string Location(TierDefinition tier) => tier.Kind switch
    {
        TierKind.GoogleDrive => $"My Drive/{tier.RootFolder}",
        TierKind.S3 => $"s3://{tier.Bucket}/{tier.Prefix}",
        _ => tier.Path ?? "",
    };

    private static string Percent(double value) => value.ToString("0.#", CultureInfo.InvariantCulture) + "%";
}
