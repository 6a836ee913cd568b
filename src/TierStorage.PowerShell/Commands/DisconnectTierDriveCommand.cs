using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Revokes (when the server can be reached) and deletes the stored Google Drive token.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "TierDrive", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DriveAuthorizationInfo))]
public sealed class DisconnectTierDriveCommand : WorkspaceCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
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
