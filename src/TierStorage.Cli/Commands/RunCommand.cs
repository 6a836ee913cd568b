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
        var whatIf = new Option<bool>("--what-if") { Description = "Print the plan (sessions' steps, collections due, collections' deletes and clean-up); change nothing" };
        var timeLimit = ValueParsers.Count("--time-limit-minutes", "Start no collection backup after the run has taken this long (the least important are left, and reported)", minimum: 1);
        var command = new Command("run",
            "The scheduled job: back up completed sessions, drain the queue, move data between tiers by the policy, back up the collections due " +
            "and apply their rules, report usage. Exit 0 ok, 1 a step failed or a tier is critical, 5 a tier unreachable (work queued) or another run in progress")
            { force, whatIf, timeLimit };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(whatIf))
            {
                var plan = (await workspace.Lifecycle.PlanAsync(cancellationToken).ConfigureAwait(false))
                    .Concat(await workspace.Lifecycle.PlanCollectionsAsync(cancellationToken).ConfigureAwait(false)).ToList();
                if (context.IsJson(parseResult)) foreach (var move in plan) context.WriteJson(move, CliJson.Context.TierMove);
                else WriteMoves(context, plan, "Nothing to do: every tier holds what the policy asks, and no collection is due.");
                return ExitCodes.Success;
            }
            var minutes = parseResult.GetValue(timeLimit);
            var options = new PolicyRunOptions { Force = parseResult.GetValue(force), TimeLimit = minutes is { } m ? TimeSpan.FromMinutes(m) : null };
            var result = await workspace.Lifecycle.RunPolicyAsync(options, null, cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(result, CliJson.Context.PolicyRunResult);
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
        if (result.Collections.Count > 0)
            output.WriteLine($"  collections: {result.Collections.Count(c => c.Status == CollectionBackupStatus.Succeeded)} backed up " +
                             $"({Display.Bytes(result.Collections.Sum(c => c.BytesSent))} sent), {result.Collections.Count(c => c.Status == CollectionBackupStatus.Skipped)} skipped, " +
                             $"{result.Collections.Count(c => c.Status == CollectionBackupStatus.Failed)} failed");
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
            var moves = new List<TierMove>();
            foreach (var planned in await workspace.Lifecycle.PlanAsync(cancellationToken).ConfigureAwait(false))
                moves.Add(Emit(context, parseResult, parseResult.GetValue(whatIf) ? planned
                    : await workspace.Lifecycle.ExecuteAsync(planned, parseResult.GetValue(force), null, cancellationToken).ConfigureAwait(false)));
            // The collections' keep, delete_after_days and clean-up rules, as Move-DataTier applies them after the session steps.
            foreach (var collection in workspace.Policy.Collections)
            {
                var plan = await workspace.Collections.PlanRulesAsync(collection, cancellationToken).ConfigureAwait(false);
                if (plan.Count == 0) continue;
                if (parseResult.GetValue(whatIf)) moves.AddRange(plan.Select(m => Emit(context, parseResult, m)));
                else await foreach (var done in workspace.Collections.ApplyRulesAsync(collection, plan, cancellationToken).ConfigureAwait(false)) moves.Add(Emit(context, parseResult, done));
            }
            if (!context.IsJson(parseResult)) WriteMoves(context, moves, "Nothing to move: every tier holds what the policy asks.");
            var exit = moves.Any(m => m.State == TierMoveState.Failed) ? ExitCodes.Failed : ExitCodes.Success;
            return exit;
        });
        return command;
    }

    /// <summary>A step as a JSON line at once (--json streams), else kept for the table.</summary>
    private static TierMove Emit(CliContext context, ParseResult parseResult, TierMove move)
    {
        if (context.IsJson(parseResult)) context.WriteJson(move, CliJson.Context.TierMove);
        return move;
    }

    private static void WriteMoves(CliContext context, IReadOnlyList<TierMove> moves, string none)
    {
        if (moves.Count == 0) context.Stdout.WriteLine(none);
        else new TableFormatter(new TableColumn("STATE"), new TableColumn("ACTION"), new TableColumn("SUBJECT"), new TableColumn("FROM"), new TableColumn("TO"),
                new TableColumn("RULE"), new TableColumn("MESSAGE"))
            .Write(context.Stdout, moves.Select(m => new[] { m.State.ToString(), m.Action.ToString(), m.Subject, m.From, m.To ?? "", m.Rule, m.Message ?? "" }).ToList());
    }
}
