using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Moves data between tiers as the policy's lifecycle rules ask.</summary>
/// <remarks>
/// <para>Move-DataTier turns every rule of the policy into ordered TierMove steps: copy a completed session to the backup tier, archive a phase older than retention.backup_phases into one tar.gz with a manifest, and delete what a tier no longer keeps. It asks before each step (ConfirmImpact High) and checks again right before each delete that another tier holds a verified copy.</para>
/// <para>The policy's collections come after: each version their keep rules (last, daily, weekly, monthly, yearly) or delete_after_days no longer keep is one Delete step (the newest version is always kept), and each version older than archive_after_days that the rules keep is one Archive step to the policy's archive tier (the newest version always stays on its tier). The approved archive steps pack the versions' contents into tar.gz bundles of up to 256 MB (each content once, so an unchanged folder adds nothing), verify each on the archive tier, store its manifest in STANDARD class beside it, and only then mark the versions archived. Once the approved versions are deleted or archived, the contents no version left on the tier points at are deleted too, as one more step, and so are bundles no version names.</para>
/// <para>Then each clean-up rule's local files (old logs, caches) are one Delete step each from the local tier; a rule that requires a backup deletes a file only when the newest version holds its bytes, checked again by SHA-256 right before the delete.</para>
/// <para>-WhatIf prints the plan and changes nothing. Deleting or replacing a Deep Archive object younger than 180 days needs -Force and shows the prorated charge.</para>
/// </remarks>
/// <example>
/// <code>Move-DataTier -WhatIf</code>
/// <para>Prints the plan as TierMove objects.</para>
/// </example>
/// <example>
/// <code>Move-DataTier -Confirm:$false</code>
/// <para>Runs the plan without asking for each step.</para>
/// </example>
[Cmdlet(VerbsCommon.Move, "DataTier", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TierMove))]
public sealed class MoveDataTierCommand : WorkspaceCmdlet
{
    private const int ActivityId = 41;

    /// <summary>Accept Deep Archive's early-deletion charge for archives younger than its minimum.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        ProcessItem(null, () =>
        {
            var plan = Await(Workspace.Lifecycle.PlanAsync(CancellationToken));
            var progress = BackupProgressBar(ActivityId, "Moving");
            foreach (var move in plan)
            {
                if (!ShouldProcess(move.Subject, Describe(move)))
                {
                    WriteObject(move);
                    continue;
                }

                var done = Await(Workspace.Lifecycle.ExecuteAsync(move, Force, progress, CancellationToken));
                if (done.State == TierMoveState.Failed)
                {
                    WriteWarning($"{done.Action} {done.Subject} failed: {done.Message}");
                }

                WriteObject(done);
            }

            CompleteProgress(ActivityId, "Move-DataTier");
        });

        // The collections' rules in the same plan: each version to delete or archive, each local file to clean up, is one TierMove.
        foreach (var collection in RunTerminating(null, () => Workspace.Policy.Collections.ToList()))
            ProcessItem(collection.Name, () => ApplyCollectionRules(collection));
    }

    private void ApplyCollectionRules(CollectionDefinition collection)
    {
        var approved = new List<TierMove>();
        foreach (var move in Await(Workspace.Collections.PlanRulesAsync(collection, CancellationToken)))
        {
            if (ShouldProcess(move.Subject, Describe(move))) approved.Add(move);
            else WriteObject(move);
        }
        if (approved.Count > 0) WriteStream(Workspace.Collections.ApplyRulesAsync(collection, approved, CancellationToken));
    }

    private static string Describe(TierMove move) =>
        move.To is null ? $"{move.Action} from '{move.From}' ({move.Rule})" : $"{move.Action} from '{move.From}' to '{move.To}' ({move.Rule})";
}
