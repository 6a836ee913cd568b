using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;

namespace TierStorage.PowerShell.Commands;

/// <summary>The scheduled job: back up completed sessions and drain the queue, run Move-DataTier, abort abandoned
/// uploads, report usage and alerts. One run at a time per workspace. -WhatIf writes the lifecycle plan instead.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "TierPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PolicyRunResult), typeof(TierMove))]
public sealed class InvokeTierPolicyCommand : WorkspaceCmdlet
{
    private const int ActivityId = 42;

    /// <summary>Accept Deep Archive's early-deletion charge for archives the policy expires.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        ProcessItem(null, () =>
        {
            if (!ShouldProcess(Workspace.Root, "Back up, move between tiers and report usage by the policy"))
            {
                foreach (var move in Await(Workspace.Lifecycle.PlanAsync(CancellationToken)))
                {
                    WriteObject(move);
                }

                return;
            }

            var result = Await(Workspace.Lifecycle.RunPolicyAsync(new PolicyRunOptions { Force = Force }, BackupProgressBar(ActivityId, "Policy run:"), CancellationToken));
            CompleteProgress(ActivityId, "Invoke-TierPolicy");
            foreach (var alert in result.Alerts)
            {
                WriteWarning(alert);
            }

            WriteObject(result);
        });
    }
}
