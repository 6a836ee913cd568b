using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Revokes and deletes the stored Google Drive token.</summary>
/// <remarks>
/// <para>Disconnect-TierDrive asks Google to revoke the token (when the server can be reached) and deletes it from the workspace's credentials/ folder. The next operation on that tier needs Connect-TierDrive again.</para>
/// </remarks>
/// <example>
/// <code>Disconnect-TierDrive</code>
/// <para>Revokes and deletes the token of the policy's first google-drive tier.</para>
/// </example>
/// <example>
/// <code>Disconnect-TierDrive -Tier drive -Confirm:$false</code>
/// <para>Disconnects the tier named drive without asking.</para>
/// </example>
[Cmdlet(VerbsCommunications.Disconnect, "TierDrive", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DriveAuthorizationInfo))]
public sealed class DisconnectTierDriveCommand : WorkspaceCmdlet
{
    /// <summary>The google-drive tier; default the policy's first.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Tier ?? "google-drive tier", "Revoke and delete the OAuth token"))
        {
            return;
        }

        ProcessItem(Tier, () => WriteObject(Await(Workspace.Backups.DisconnectDriveAsync(Tier, CancellationToken))));
    }
}
