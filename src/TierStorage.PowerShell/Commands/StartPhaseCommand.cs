using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Starts or names a phase; sessions started afterwards belong to it.</summary>
/// <remarks>
/// <para>Start-Phase makes the phase current: sessions started afterwards belong to it. current_phase.json is written in the workspace and on the backup tier. Run it again with a new -Name to rename a phase.</para>
/// </remarks>
/// <example>
/// <code>Start-Phase 2 -Name build</code>
/// <para>Starts phase 2, named build.</para>
/// </example>
/// <example>
/// <code>Start-Phase -Number 0 -Name setup -WhatIf</code>
/// <para>Shows what starting phase 0 would change.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "Phase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PhaseInfo))]
public sealed class StartPhaseCommand : WorkspaceCmdlet
{
    /// <summary>Phase number (0, 1, 2, ...).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Phase")]
    [ValidateRange(0, int.MaxValue)]
    public int Number { get; set; }

    /// <summary>Name of the phase, used in folder names on the tiers (Phase_&lt;n&gt;_&lt;name&gt;).</summary>
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
