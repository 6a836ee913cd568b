using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Checks that a tier can be reached, written, verified, read and cleaned up.</summary>
/// <remarks>
/// <para>Test-TierConnection is the setup check: it reaches the tier, uploads a probe into a test folder, verifies it, reads it back and deletes it, writing one TierConnectionStep per stage so that a failure names the stage at fault.</para>
/// </remarks>
/// <example>
/// <code>Test-TierConnection -Tier drive</code>
/// <para>Checks the tier named drive.</para>
/// </example>
/// <example>
/// <code>Test-TierConnection</code>
/// <para>Checks the policy's backup tier.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "TierConnection")]
[OutputType(typeof(TierConnectionStep))]
public sealed class TestTierConnectionCommand : WorkspaceCmdlet
{
    /// <summary>Tier to check; default the policy's level-2 tier.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Tier, () => WriteStream(Workspace.Backups.TestConnectionAsync(Tier, CancellationToken)));
}
