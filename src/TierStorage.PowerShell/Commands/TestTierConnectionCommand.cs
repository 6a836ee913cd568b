using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>The setup check: reach the tier, upload a probe into a test folder, verify it, read it back, clean up.</summary>
[Cmdlet(VerbsDiagnostic.Test, "TierConnection")]
[OutputType(typeof(TierConnectionStep))]
public sealed class TestTierConnectionCommand : WorkspaceCmdlet
{
    /// <summary>Tier to check; default the policy's level-2 tier.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Tier { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Tier, () => WriteStream(Workspace.Backups.TestConnectionAsync(Tier, CancellationToken)));
}
