using System.CommandLine;
using System.Globalization;
using TierStorage.Cli.Output;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage phase start|list</c>: Start-Phase, Get-Phase.</summary>
internal static class PhaseCommand
{
    public static Command Create(CliContext context) => new("phase", "Start and list project phases") { CreateStart(context), CreateList(context) };

    private static Command CreateStart(CliContext context)
    {
        var number = new Argument<int>("number") { Description = "Phase number (0 or more)" };
        var name = new Option<string?>("--name") { Description = "Phase name (used in Phase_<n>_<name> folders)", HelpName = "NAME" };
        var command = new Command("start", "Start a phase: sessions started afterwards belong to it") { number, name };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var phase = await workspace.StartPhaseAsync(parseResult.GetValue(number), parseResult.GetValue(name), cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(phase, CliJson.Context.PhaseInfo);
            else context.Stdout.WriteLine($"Started {phase.Folder}; new sessions belong to phase {phase.Phase}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateList(CliContext context)
    {
        var number = ValueParsers.Count("--phase", "Only this phase", minimum: 0);
        var command = new Command("list", "Phases with their sessions and where they live") { number };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var rows = new List<string[]>();
            await foreach (var p in workspace.GetPhasesAsync(parseResult.GetValue(number), cancellationToken).ConfigureAwait(false))
            {
                if (context.IsJson(parseResult)) context.WriteJson(p, CliJson.Context.PhaseInfo);
                else rows.Add([p.Phase.ToString(CultureInfo.InvariantCulture), p.Name ?? "", p.IsCurrent ? "yes" : "", Display.Time(p.StartedAt), Display.Time(p.EndedAt),
                    p.SessionCount.ToString(CultureInfo.InvariantCulture), p.LocalSessions.ToString(CultureInfo.InvariantCulture),
                    p.BackedUpSessions.ToString(CultureInfo.InvariantCulture), Display.YesNo(p.Archived), Display.YesNo(p.Reviewed)]);
            }
            if (!context.IsJson(parseResult))
            {
                if (rows.Count == 0) context.Stdout.WriteLine("No phases.");
                else new TableFormatter(new TableColumn("PHASE", ColumnAlignment.Right), new TableColumn("NAME"), new TableColumn("CURRENT"), new TableColumn("STARTED"),
                    new TableColumn("ENDED"), new TableColumn("SESSIONS", ColumnAlignment.Right), new TableColumn("LOCAL", ColumnAlignment.Right),
                    new TableColumn("BACKED UP", ColumnAlignment.Right), new TableColumn("ARCHIVED"), new TableColumn("REVIEWED")).Write(context.Stdout, rows);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
