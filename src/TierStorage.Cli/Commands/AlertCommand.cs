using System.CommandLine;
using System.Globalization;
using TierStorage.Cli.Output;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage alerts</c>: Get-TierAlert, the alerts the policy runs found and what waits for a channel.</summary>
internal static class AlertCommand
{
    public static Command Create(CliContext context)
    {
        var all = new Option<bool>("--all") { Description = "Also the alerts resolved in the last 30 days" };
        var pending = new Option<bool>("--pending") { Description = "List the notifications not yet delivered to their channel instead" };
        var channel = new Option<string?>("--channel") { Description = "With --pending: only this channel", HelpName = "NAME" };
        var command = new Command("alerts",
            "Open alerts of the policy runs (tier capacity, projected full, budget, failing backups, archive checks), each with its fix") { all, pending, channel, CreateTest(context) };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(pending) || parseResult.GetValue(channel) is not null)
            {
                var deliveries = workspace.Alerts.GetPending(parseResult.GetValue(channel));
                if (context.IsJson(parseResult))
                {
                    foreach (var d in deliveries) context.WriteJson(d, CliJson.Context.TierAlertDelivery);
                }
                else if (deliveries.Count == 0) context.Stdout.WriteLine("Every notification was delivered.");
                else new TableFormatter(new TableColumn("CHANNEL"), new TableColumn("NOTICE"), new TableColumn("KEY"), new TableColumn("TRIES", ColumnAlignment.Right),
                        new TableColumn("LAST ERROR"))
                    .Write(context.Stdout, deliveries.Select(d => new[]
                    {
                        d.Channel, d.Notice.ToString(), d.Key, d.Attempts.ToString(CultureInfo.InvariantCulture), d.LastError ?? "",
                    }).ToList());
                return ExitCodes.Success;
            }

            var alerts = workspace.Alerts.GetAlerts(parseResult.GetValue(all));
            if (context.IsJson(parseResult))
            {
                foreach (var a in alerts) context.WriteJson(a, CliJson.Context.TierAlert);
                return ExitCodes.Success;
            }
            if (alerts.Count == 0)
            {
                context.Stdout.WriteLine("No open alerts.");
                return ExitCodes.Success;
            }
            foreach (var a in alerts)
            {
                var status = a.State == Contracts.TierAlertState.Resolved ? $"RESOLVED {Display.Time(a.ResolvedAt)}" : a.Severity.ToString().ToUpperInvariant();
                context.Stdout.WriteLine($"{status} {a.Key} (since {Display.Time(a.FirstSeen)}, {a.Runs} run(s); sent to {(a.DeliveredTo.Count == 0 ? "no channel" : string.Join(", ", a.DeliveredTo))}" +
                                         $"{(a.PendingFor.Count == 0 ? "" : "; waiting for " + string.Join(", ", a.PendingFor))})");
                context.Stdout.WriteLine($"  {a.Message}");
                context.Stdout.WriteLine($"  fix: {a.Fix}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateTest(CliContext context)
    {
        var channels = new Argument<string[]>("channel") { Description = "Channels to test (default: every channel of the policy's alerts section)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("test", "Send-TierAlert -Test: send a test notification to the alert channels; nothing is recorded") { channels };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var names = parseResult.GetValue(channels) is { Length: > 0 } given ? given : null;
            if (names is null && workspace.Policy.Alerts.Channels.Count == 0)
            {
                context.Warn($"The policy '{workspace.Policy.Source}' has no alert channels; add them under alerts.channels.");
                return ExitCodes.Success;
            }
            var exit = ExitCodes.Success;
            var rows = new List<string[]>();
            await foreach (var test in workspace.Alerts.TestChannelsAsync(names?.Select(n => workspace.Alerts.GetChannel(n).Name).ToList(), cancellationToken).ConfigureAwait(false))
            {
                if (!test.Succeeded) exit = ExitCodes.Unavailable;
                if (context.IsJson(parseResult)) context.WriteJson(test, CliJson.Context.AlertChannelTest);
                else rows.Add([test.Channel, test.Kind.ToString(), test.Succeeded ? "sent" : "FAILED", test.Attempts.ToString(CultureInfo.InvariantCulture), test.Message]);
            }
            if (!context.IsJson(parseResult))
                new TableFormatter(new TableColumn("CHANNEL"), new TableColumn("KIND"), new TableColumn("RESULT"), new TableColumn("TRIES", ColumnAlignment.Right), new TableColumn("MESSAGE"))
                    .Write(context.Stdout, rows);
            return exit;
        });
        return command;
    }
}
