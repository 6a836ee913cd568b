using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;

namespace TierStorage.PowerShell.Commands;

/// <summary>Signs in to Google Drive for a google-drive tier and stores the token.</summary>
/// <remarks>
/// <para>Connect-TierDrive opens the browser for Google's sign-in (loopback redirect, scope drive.file only, so TierStorage sees only the files it created) and keeps the token under the workspace's credentials/ folder, readable by the current user alone. The token is never printed or logged.</para>
/// </remarks>
/// <example>
/// <code>Connect-TierDrive</code>
/// <para>Signs in for the policy's first google-drive tier.</para>
/// </example>
/// <example>
/// <code>Connect-TierDrive -Tier drive</code>
/// <para>Signs in for the tier named drive.</para>
/// </example>
[Cmdlet(VerbsCommunications.Connect, "TierDrive", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DriveAuthorizationInfo))]
public sealed class ConnectTierDriveCommand : WorkspaceCmdlet
{
    /// <summary>The google-drive tier; default the policy's first.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Tier ?? "google-drive tier", "Sign in and store an OAuth token"))
        {
            return;
        }

        ProcessItem(Tier, () => WriteObject(Await(Workspace.Backups.ConnectDriveAsync(Tier, url =>
        {
            // Called on a pool thread: the address goes through the warning queue; it holds no secret (client id, PKCE challenge).
            DeferredWarning($"Sign in at: {url.AbsoluteUri}");
            BackupOperations.OpenSystemBrowser(url);
            return true;
        }, CancellationToken))));
    }
}
