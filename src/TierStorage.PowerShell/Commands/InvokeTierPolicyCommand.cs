using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;

namespace TierStorage.PowerShell.Commands;

/// <summary>Runs the scheduled policy job: backups, queue, lifecycle moves, cleanup, usage and alerts.</summary>
/// <remarks>
/// <para>Invoke-TierPolicy is what a scheduled task runs: it finishes imported transcripts idle for 30 minutes, backs up completed sessions and drains the backup queue, runs the Move-DataTier plan, aborts abandoned uploads, and reports usage and alerts. Only one run at a time per workspace; a second run finds nothing to do.</para>
/// <para>-WhatIf writes the lifecycle plan as TierMove objects and changes nothing.</para>
/// </remarks>
/// <example>
/// <code>Invoke-TierPolicy</code>
/// <para>Runs the nightly job on the workspace of the current directory.</para>
/// </example>
/// <example>
/// <code>Invoke-TierPolicy -WhatIf</code>
/// <para>Shows what the run would move, archive and delete.</para>
/// </example>
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
