using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Starts (or names) a phase: sessions started afterwards belong to it; current_phase.json is written locally and on the backup tier.</summary>
[Cmdlet(VerbsLifecycle.Start, "Phase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PhaseInfo))]
public sealed class StartPhaseCommand : WorkspaceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Phase")]
    [ValidateRange(0, int.MaxValue)]
    public int Number { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"phase {Number}{(Name is null ? "" : $" ({Name})")}", "Start phase"))
        {
            return;
        }

        ProcessItem(Number, () => WriteObject(Await(Workspace.StartPhaseAsync(Number, Name, CancellationToken))));
    }
}
