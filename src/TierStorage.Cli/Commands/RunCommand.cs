using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage run</c> (Invoke-TierPolicy, the scheduled job) and <c>tierstorage move</c> (Move-DataTier).</summary>
internal static class RunCommand
{
    public static IEnumerable<Command> Create(CliContext context) => [CreateRun(context), CreateMove(context)];

    private static Command CreateRun(CliContext context)
    {
        var force = new Option<bool>("--force") { Description = "Accept Deep Archive's early-deletion charge for archives the policy expires" };
        var command = new Command("run",
            "The scheduled job: back up completed sessions, drain the queue, move data between tiers by the policy, report usage. " +
            "Exit 0 ok, 1 a step failed or a tier is critical, 5 a tier unreachable (work queued) or another run in progress") { force };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var result = await workspace.Lifecycle.RunPolicyAsync(new PolicyRunOptions { Force = parseResult.GetValue(force) }, null, cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(result);
            else Write(context, result);
            return result.Status switch
            {
                PolicyRunStatus.Succeeded => ExitCodes.Success,
                PolicyRunStatus.Failed => ExitCodes.Failed,
                PolicyRunStatus.AlreadyRunning => ExitCodes.Unavailable,
                _ => result.Backups.Any(b => b.Status == BackupStatus.Queued) ? ExitCodes.Unavailable : ExitCodes.Success,
            };
        });
        return command;
    }

    private static void Write(CliContext context, PolicyRunResult result)
    {
        var output = context.Stdout;
        output.WriteLine($"Policy run {result.Status} in {Display.Duration(result.Duration)}.");
        output.WriteLine($"  backups: {result.Backups.Count(b => b.Status == BackupStatus.Succeeded)} sent, {result.Backups.Count(b => b.Status == BackupStatus.Skipped)} already there, " +
                         $"{result.Backups.Count(b => b.Status == BackupStatus.Queued)} queued, {result.Backups.Count(b => b.Status == BackupStatus.Failed)} failed");
        foreach (var m in result.Moves)
            output.WriteLine($"  {m.State,-7} {m.Action,-7} {m.Subject} {m.From}{(m.To is null ? "" : " -> " + m.To)}  ({m.Rule}){(m.Message is null ? "" : ": " + m.Message)}");
        if (result.AbortedUploads > 0) output.WriteLine($"  aborted {result.AbortedUploads} abandoned upload(s)");
        new TableFormatter(new TableColumn("TIER"), new TableColumn("USED", ColumnAlignment.Right), new TableColumn("CAPACITY", ColumnAlignment.Right),
                new TableColumn("PCT", ColumnAlignment.Right), new TableColumn("STATUS"), new TableColumn("OBJECTS", ColumnAlignment.Right), new TableColumn("USD/MO", ColumnAlignment.Right))
            .Write(output, result.Usage.Select(u => new[]
            {
                u.Tier, Display.Bytes(u.UsedBytes), u.CapacityBytes is { } c ? Display.Bytes(c) : "unlimited", u.Percent is { } p ? $"{p:0.#}%" : "",
                u.Status.ToString(), Display.Number<long>(u.ObjectCount), $"{u.MonthlyCostUsd:0.00}",
            }).ToList());
        foreach (var alert in result.Alerts) context.Warn(alert);
    }

    private static Command CreateMove(CliContext context)
    {
        var whatIf = new Option<bool>("--what-if") { Description = "Print the plan; change nothing" };
        var force = new Option<bool>("--force") { Description = "Accept Deep Archive's early-deletion charge" };
        var command = new Command("move", "Move-DataTier: plan every lifecycle rule and execute the steps (copy, verify, delete)") { whatIf, force };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var exit = ExitCodes.Success;
            var rows = new List<string[]>();
            foreach (var planned in await workspace.Lifecycle.PlanAsync(cancellationToken).ConfigureAwait(false))
            {
                var move = parseResult.GetValue(whatIf) ? planned : await workspace.Lifecycle.ExecuteAsync(planned, parseResult.GetValue(force), null, cancellationToken).ConfigureAwait(false);
                if (move.State == TierMoveState.Failed) exit = ExitCodes.Failed;
                if (context.IsJson(parseResult)) context.WriteJson(move);
                else rows.Add([move.State.ToString(), move.Action.ToString(), move.Subject, move.From, move.To ?? "", move.Rule, move.Message ?? ""]);
            }
            // The collections' keep and delete_after_days rules, as Move-DataTier applies them after the session steps.
            foreach (var collection in workspace.Policy.Collections)
            {
                var plan = await workspace.Collections.PlanRetentionAsync(collection, cancellationToken).ConfigureAwait(false);
                if (plan.Count == 0) continue;
                var moves = new List<TierMove>();
                if (parseResult.GetValue(whatIf)) moves.AddRange(plan);
                else await foreach (var done in workspace.Collections.ApplyRetentionAsync(collection, plan, cancellationToken).ConfigureAwait(false)) moves.Add(done);
                foreach (var move in moves)
                {
                    if (context.IsJson(parseResult)) context.WriteJson(move);
                    else rows.Add([move.State.ToString(), move.Action.ToString(), move.Subject, move.From, move.To ?? "", move.Rule, move.Message ?? ""]);
                }
            }
            if (!context.IsJson(parseResult))
            {
                if (rows.Count == 0) context.Stdout.WriteLine("Nothing to move: every tier holds what the policy asks.");
                else new TableFormatter(new TableColumn("STATE"), new TableColumn("ACTION"), new TableColumn("SUBJECT"), new TableColumn("FROM"), new TableColumn("TO"),
                    new TableColumn("RULE"), new TableColumn("MESSAGE")).Write(context.Stdout, rows);
            }
            return exit;
        });
        return command;
    }
}
