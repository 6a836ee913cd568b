using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Restores every session of an archived phase from one download of its archive.</summary>
/// <remarks>
/// <para>Restore-Phase downloads the phase's archive once, verifies it against its manifest and restores each session into the workspace, or with -Destination as plain files under another directory. A cold archive is priced and thawed first: the results say Thawing and when to come back, or -Wait polls until the thaw is done and restores.</para>
/// </remarks>
/// <example>
/// <code>Restore-Phase 0 -Destination ./phase0 -Retrieval Bulk</code>
/// <para>Restores archived phase 0 into ./phase0, thawing it with the cheaper Bulk retrieval when cold.</para>
/// </example>
/// <example>
/// <code>Get-Phase 1 | Restore-Phase -Wait</code>
/// <para>Restores phase 1 into the workspace, waiting for the thaw when needed.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "Phase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RestoreResult))]
public sealed class RestorePhaseCommand : WorkspaceCmdlet
{
    private const int ActivityId = 43;

    /// <summary>Archived phase to restore; binds Phase from Get-Phase output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int Phase { get; set; }

    /// <summary>Restore as plain files under this directory (one folder per session) instead of into the workspace.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Replace the sessions' local files when they exist.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>For a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper).</summary>
    /// <value>Standard</value>
    [Parameter]
    public ArchiveRetrievalTier Retrieval { get; set; } = ArchiveRetrievalTier.Standard;

    /// <summary>For a cold archive: wait for the thaw, polling, and restore.</summary>
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
