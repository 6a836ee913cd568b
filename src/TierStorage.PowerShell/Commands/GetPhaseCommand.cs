using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Phases with their dates, sessions, where those live, and whether the phase was archived and reviewed.</summary>
[Cmdlet(VerbsCommon.Get, "Phase")]
[OutputType(typeof(PhaseInfo))]
public sealed class GetPhaseCommand : WorkspaceCmdlet
{
    /// <summary>Only this phase.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int? Phase { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Phase, () => WriteStream(Workspace.GetPhasesAsync(Phase, CancellationToken)));
}
