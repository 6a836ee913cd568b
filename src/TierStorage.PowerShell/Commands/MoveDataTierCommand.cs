using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Moves data between tiers as the policy's lifecycle rules ask.</summary>
/// <remarks>
/// <para>Move-DataTier turns every rule of the policy into ordered TierMove steps: copy a completed session to the backup tier, archive a phase older than retention.backup_phases into one tar.gz with a manifest, and delete what a tier no longer keeps. It asks before each step (ConfirmImpact High) and checks again right before each delete that another tier holds a verified copy.</para>
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
                var action = move.To is null ? $"{move.Action} from '{move.From}' ({move.Rule})" : $"{move.Action} from '{move.From}' to '{move.To}' ({move.Rule})";
                if (!ShouldProcess(move.Subject, action))
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
    }
}
