using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Evaluates every lifecycle rule of the policy into a plan of TierMove steps and executes them in order (copy,
/// verify, delete), asking for each; -WhatIf prints the plan and changes nothing. A delete runs only while another tier
/// holds a verified copy, checked again right before it.</summary>
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
