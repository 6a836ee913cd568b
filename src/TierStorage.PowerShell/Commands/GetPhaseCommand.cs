using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets the phases with their dates, sessions and review state.</summary>
/// <remarks>
/// <para>Get-Phase lists each phase of the workspace with its name, start and end, its sessions and where those live, and whether the phase was archived and reviewed. Its Phase property binds to Invoke-PhaseReview and Restore-Phase.</para>
/// </remarks>
/// <example>
/// <code>Get-Phase | Where-Object { -not $_.Reviewed }</code>
/// <para>Lists the phases not reviewed yet.</para>
/// </example>
/// <example>
/// <code>Get-Phase 1 | Invoke-PhaseReview</code>
/// <para>Reviews phase 1.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "Phase")]
[OutputType(typeof(PhaseInfo))]
public sealed class GetPhaseCommand : WorkspaceCmdlet
{
    /// <summary>Only this phase.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int? Phase { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Phase, () => WriteStream(Workspace.GetPhasesAsync(Phase, CancellationToken)));
}
