using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Reviews a phase: latency, tokens and cost, agents, errors, tools and recommendations.</summary>
/// <remarks>
/// <para>Invoke-PhaseReview reads every event of the phase wherever its sessions live and writes phase_insights.md, phase_insights.html (with charts), phase_analytics.db and phase_metadata.json under reviews/Phase_&lt;n&gt;_&lt;name&gt;/ and to the phase folder on the backup tier. Latency targets and budgets come from the policy's review section.</para>
/// <para>An archived phase is reviewed from the review stored in its archive manifest, or with -Full from the archive itself (thawed first when cold). A session that cannot be read is named in the report's Data Warnings and the phase is left unreviewed.</para>
/// </remarks>
/// <example>
/// <code>Get-Phase 1 | Invoke-PhaseReview | Select-Object -ExpandProperty Recommendations</code>
/// <para>Reviews phase 1 and prints its recommendations.</para>
/// </example>
/// <example>
/// <code>Invoke-PhaseReview -Phase 0 -Full -Retrieval Bulk</code>
/// <para>Reviews archived phase 0 from its archive, thawing it with the cheaper Bulk retrieval.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "PhaseReview", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(PhaseReview))]
public sealed class InvokePhaseReviewCommand : WorkspaceCmdlet
{
    private const int ActivityId = 44;

    /// <summary>Phase to review; binds Phase from Get-Phase output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int Phase { get; set; }

    /// <summary>For an archived phase: read every event out of the archive (thawed first when cold) instead of the
    /// review stored in its manifest.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>With -Full, from a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper).</summary>
    /// <value>Standard</value>
    [Parameter]
    public ArchiveRetrievalTier Retrieval { get; set; } = ArchiveRetrievalTier.Standard;

    /// <summary>A shared (PostgreSQL) catalog: review only the sessions recorded on this machine, a name or a wildcard pattern.
    /// The phase's reports are the team's, so a review of a slice writes no files and does not mark the phase reviewed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Machine { get; set; }

    /// <summary>A shared catalog: review only the sessions recorded by this user, a name or a wildcard pattern (as -Machine,
    /// nothing is written).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    protected override void ProcessRecord()
    {
        if (Machine is not null || User is not null)
        {
            ProcessItem(Phase, () => WriteObject(Await(Workspace.ReviewPhaseSliceAsync(Phase, Machine, User, CancellationToken))));
            return;
        }
        if (!ShouldProcess($"phase {Phase}", "Review and write phase_insights.md / .html, phase_analytics.db and phase_metadata.json"))
        {
            return;
        }

        ProcessItem(Phase, () => WriteObject(Await(Workspace.ReviewPhaseAsync(Phase, Full, Retrieval, BackupProgressBar(ActivityId, "Reading the phase's events"), CancellationToken))));
        CompleteProgress(ActivityId, "Invoke-PhaseReview");
    }
}
