using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;

namespace TierStorage.PowerShell.Commands;

/// <summary>Runs the scheduled policy job: backups, queue, lifecycle moves, cleanup, usage and alerts.</summary>
/// <remarks>
/// <para>Invoke-TierPolicy is what a scheduled task runs: it finishes imported transcripts idle for 30 minutes, backs up completed sessions and drains the backup queue, runs the Move-DataTier plan, aborts abandoned uploads, and reports usage and alerts. Only one run at a time per workspace; a second run finds nothing to do.</para>
/// <para>The policy's collections come next: a new version of each one due by its schedule, high priority first (when a collection's tier is critical only high-priority ones are backed up, and past -TimeLimit none start; each one left out is reported and alerted), then each collection's rules: the versions its keep rules remove and the local files its clean-up rules delete. The result's Collections property lists the versions taken.</para>
/// <para>-WhatIf writes the whole plan as TierMove objects (the sessions' steps, a Copy per collection due, the collections' deletes and clean-up) and changes nothing.</para>
/// </remarks>
/// <example>
/// <code>Invoke-TierPolicy</code>
/// <para>Runs the nightly job on the workspace of the current directory.</para>
/// </example>
/// <example>
/// <code>Invoke-TierPolicy -WhatIf</code>
/// <para>Shows what the run would move, archive and delete, and which collections it would back up.</para>
/// </example>
/// <example>
/// <code>Invoke-TierPolicy -TimeLimit (New-TimeSpan -Hours 1) | Select-Object -ExpandProperty Collections</code>
/// <para>Runs the job, starting no collection backup after an hour, and lists the versions taken.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "TierPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PolicyRunResult), typeof(TierMove))]
public sealed class InvokeTierPolicyCommand : WorkspaceCmdlet
{
    private const int ActivityId = 42;

    /// <summary>Accept Deep Archive's early-deletion charge for archives the policy expires.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Start no collection backup after the run has taken this long; those left (the least important) are reported as Skipped.</summary>
    [Parameter]
    public TimeSpan? TimeLimit { get; set; }

    protected override void ProcessRecord()
    {
        if (TimeLimit is { } limit && limit <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(TimeLimit), limit, "-TimeLimit must be longer than zero."),
                "InvalidTimeLimit", ErrorCategory.InvalidArgument, limit));
        }

        ProcessItem(null, () =>
        {
            if (!ShouldProcess(Workspace.Root, "Back up, move between tiers and report usage by the policy"))
            {
                foreach (var move in Await(Workspace.Lifecycle.PlanAsync(CancellationToken)))
                {
                    WriteObject(move);
                }

                foreach (var move in Await(Workspace.Lifecycle.PlanCollectionsAsync(CancellationToken)))
                {
                    WriteObject(move);
                }

                return;
            }

            var result = Await(Workspace.Lifecycle.RunPolicyAsync(new PolicyRunOptions { Force = Force, TimeLimit = TimeLimit }, BackupProgressBar(ActivityId, "Policy run:"), CancellationToken));
            CompleteProgress(ActivityId, "Invoke-TierPolicy");
            foreach (var alert in result.Alerts)
            {
                WriteWarning(alert);
            }

            WriteObject(result);
        });
    }
}
