using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Restores every session of an archived phase out of one download of its archive; a cold archive is priced
/// and thawed first (results say Thawing and when to come back), or with -Wait waited for.</summary>
[Cmdlet(VerbsData.Restore, "Phase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RestoreResult))]
public sealed class RestorePhaseCommand : WorkspaceCmdlet
{
    private const int ActivityId = 43;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int Phase { get; set; }

    /// <summary>Restore as plain files under this directory (one folder per session) instead of into the workspace.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public ArchiveRetrievalTier Retrieval { get; set; } = ArchiveRetrievalTier.Standard;

    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override void ProcessRecord()
    {
        var destination = ResolvePath(Destination);
        if (!ShouldProcess($"phase {Phase}", $"Restore from the archive into '{destination ?? "the workspace"}'"))
        {
            return;
        }

        ProcessItem(Phase, () => WriteStream(Workspace.Backups.RestorePhaseAsync(Phase, destination, Force, Retrieval, Wait,
            BackupProgressBar(ActivityId, "Restoring"), CancellationToken)));
        CompleteProgress(ActivityId, "Restore-Phase");
    }
}
