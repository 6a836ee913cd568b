using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets the alerts the policy runs found: open ones, recently resolved ones, or notifications waiting for a channel.</summary>
/// <remarks>
/// <para>Each run of Invoke-TierPolicy (tierstorage run) checks its conditions: a tier at its warning or critical capacity or unreachable, a tier projected to be full within alerts.projected_full_days, a monthly cost above alerts.monthly_budget_usd, a session's backup queued or failing for alerts.backup_failing_runs runs in a row, an archive that fails its check. Each condition is one alert with a stable key (tier-critical:local, backup-failing:session_20260101_090000), its figures and the command that fixes it, sent once to each channel of the policy's alerts section until it clears, and then sent as resolved.</para>
/// <para>Get-TierAlert lists the open alerts, most severe first; -All adds those resolved in the last 30 days. -Pending (or -Channel) lists the notifications a channel has not received yet: the next run retries them, in order, so none is lost while a channel is down.</para>
/// <para>It only reads the alert state (logs/alerts.json); it changes nothing and sends nothing.</para>
/// </remarks>
/// <example>
/// <code>Get-TierAlert</code>
/// <para>Lists the open alerts of the workspace of the current directory.</para>
/// </example>
/// <example>
/// <code>Get-TierAlert | Where-Object Severity -eq Critical | Select-Object Key, Message, Fix</code>
/// <para>Shows what is critical and the command that fixes each.</para>
/// </example>
/// <example>
/// <code>Get-TierAlert -Pending -Channel team-chat</code>
/// <para>Lists the notifications the team-chat channel has not received yet, with the last error.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "TierAlert", DefaultParameterSetName = AlertsSet)]
[OutputType(typeof(TierAlert), ParameterSetName = [AlertsSet])]
[OutputType(typeof(TierAlertDelivery), ParameterSetName = [PendingSet])]
public sealed class GetTierAlertCommand : WorkspaceCmdlet
{
    public const string AlertsSet = "Alerts";
    public const string PendingSet = "Pending";

    /// <summary>Only alerts whose key matches (wildcards allowed), e.g. tier-*:local or backup-failing:*.</summary>
    [Parameter(Position = 0, ParameterSetName = AlertsSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.AlertKeyCompleter))]
    public string[]? Key { get; set; }

    /// <summary>Also the alerts resolved in the last 30 days.</summary>
    [Parameter(ParameterSetName = AlertsSet)]
    public SwitchParameter All { get; set; }

    /// <summary>List the notifications not yet delivered to their channel instead of the alerts.</summary>
    [Parameter(ParameterSetName = PendingSet)]
    public SwitchParameter Pending { get; set; }

    /// <summary>Only the notifications waiting for this channel (a name from the policy's alerts.channels).</summary>
    [Parameter(ParameterSetName = PendingSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.AlertChannelCompleter))]
    public string? Channel { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(null, () =>
        {
            if (ParameterSetName == PendingSet)
            {
                foreach (var delivery in Workspace.Alerts.GetPending(Channel)) WriteObject(delivery);
                return;
            }
            var patterns = Key?.Select(k => WildcardPattern.Get(k, WildcardOptions.IgnoreCase)).ToList();
            foreach (var alert in Workspace.Alerts.GetAlerts(All))
            {
                if (patterns is null || patterns.Any(p => p.IsMatch(alert.Key))) WriteObject(alert);
            }
        });
}
