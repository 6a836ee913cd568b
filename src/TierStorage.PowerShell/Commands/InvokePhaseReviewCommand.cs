using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>The end-of-phase review: latency, tokens and cost, agents, errors, bottlenecks, tools and recommendations
/// from every event of the phase, written as phase_insights.md / .html (with charts) and copied to the backup tier.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "PhaseReview", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(PhaseReview))]
public sealed class InvokePhaseReviewCommand : WorkspaceCmdlet
{
    private const int ActivityId = 44;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int Phase { get; set; }

    /// <summary>For an archived phase: read every event out of the archive (thawed first when cold) instead of the
    /// review stored in its manifest.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>With -Full, from a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper).</summary>
    [Parameter]
    public ArchiveRetrievalTier Retrieval { get; set; } = ArchiveRetrievalTier.Standard;

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"phase {Phase}", "Review and write phase_insights.md / .html, phase_analytics.db and phase_metadata.json"))
        {
            return;
        }

        ProcessItem(Phase, () => WriteObject(Await(Workspace.ReviewPhaseAsync(Phase, Full, Retrieval, BackupProgressBar(ActivityId, "Reading the phase's events"), CancellationToken))));
        CompleteProgress(ActivityId, "Invoke-PhaseReview");
    }
}
