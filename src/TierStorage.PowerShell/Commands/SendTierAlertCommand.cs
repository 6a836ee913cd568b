using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Sends a test notification to the policy's alert channels, to check that alerts reach a person.</summary>
/// <remarks>
/// <para>Send-TierAlert -Test sends one test notification to every channel of the policy's alerts section (or to those named by -Channel) with the retries a policy run uses, and writes one AlertChannelTest per channel: Succeeded, the attempts, and where it went or why it did not (a webhook's URL is never shown). Nothing is recorded in the alert state: Get-TierAlert does not list it.</para>
/// <para>-WhatIf names the channels it would send to and sends nothing.</para>
/// </remarks>
/// <example>
/// <code>Send-TierAlert -Test</code>
/// <para>Sends a test notification to every alert channel of the policy.</para>
/// </example>
/// <example>
/// <code>Send-TierAlert -Test -Channel team-chat | Where-Object -Not Succeeded</code>
/// <para>Tests the team-chat webhook and shows it only if it failed.</para>
/// </example>
[Cmdlet(VerbsCommunications.Send, "TierAlert", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(AlertChannelTest))]
public sealed class SendTierAlertCommand : WorkspaceCmdlet
{
    /// <summary>Send a test notification (the only kind sent by hand; alerts themselves are sent by the policy run).</summary>
    [Parameter(Mandatory = true)]
    public SwitchParameter Test { get; set; }

    /// <summary>Only these channels (names from the policy's alerts.channels); default every channel.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.AlertChannelCompleter))]
    public string[]? Channel { get; set; }

    protected override void ProcessRecord()
    {
        var names = Channel ?? RunTerminating(null, () => Workspace.Policy.Alerts.Channels.Select(c => c.Name).ToArray());
        if (names.Length == 0) WriteWarning($"The policy '{Workspace.Policy.Source}' has no alert channels; add them under alerts.channels (see about_TierStorage_Policy).");
        foreach (var name in names)
        {
            ProcessItem(name, () =>
            {
                var channel = Workspace.Alerts.GetChannel(name);
                if (!ShouldProcess($"{channel.Name} ({channel.Kind})", "Send a test alert notification")) return;
                WriteStream(Workspace.Alerts.TestChannelsAsync([channel.Name], CancellationToken));
            });
        }
    }
}
