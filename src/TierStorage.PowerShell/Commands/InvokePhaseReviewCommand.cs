using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>The end-of-phase review: latency, tokens and cost, agents, errors, bottlenecks, tools and recommendations
/// from every event of the phase, written as phase_insights.md / .html (with charts) and copied to the backup tier.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "PhaseReview", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(PhaseReview))]
public sealed class InvokePhaseReviewCommand : WorkspaceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int Phase { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"phase {Phase}", "Review and write phase_insights.md / .html"))
        {
            return;
        }

        ProcessItem(Phase, () => WriteObject(Await(Workspace.ReviewPhaseAsync(Phase, CancellationToken))));
    }
}
