using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;

namespace TierStorage.PowerShell.Commands;

/// <summary>Sends the backups that were queued while their tier could not be reached.</summary>
/// <remarks>
/// <para>Sync-BackupQueue backs up every session queued by Backup-Session or Complete-Session while the tier was offline (or over Drive's daily upload limit), oldest first, and writes a BackupResult for each. The policy run does this too.</para>
/// </remarks>
/// <example>
/// <code>Sync-BackupQueue</code>
/// <para>Sends what was queued for the policy's backup tier.</para>
/// </example>
/// <example>
/// <code>Sync-BackupQueue -Tier drive -WhatIf</code>
/// <para>Shows which queued sessions would be sent to the drive tier.</para>
/// </example>
[Cmdlet(VerbsData.Sync, "BackupQueue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BackupResult))]
public sealed class SyncBackupQueueCommand : WorkspaceCmdlet
{
    private const int ActivityId = 32;

    /// <summary>Tier whose queue to drain; default the policy's level-2 tier.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    protected override void ProcessRecord()
    {
        var target = $"backup queue of tier '{Tier ?? "backup"}'";
        if (!ShouldProcess(target, "Back up queued sessions"))
        {
            return;
        }

        var progress = BackupProgressBar(ActivityId, "Backing up");
        ProcessItem(target, () => WriteStream(Workspace.Backups.BackupAsync(new BackupRequest { Tier = Tier }, progress, CancellationToken)));
        CompleteProgress(ActivityId, "Sync-BackupQueue");
    }
}
