using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.PowerShell.Commands;

/// <summary>Validates policy files and writes every finding.</summary>
/// <remarks>
/// <para>Test-TierPolicy reads each policy file and writes one PolicyFinding per problem, naming the file, line and key, with its severity (Error, Warning, Information). A bad file yields findings, never an exception; a valid file yields none. Without -Path it tests the workspace's effective policy.</para>
/// </remarks>
/// <example>
/// <code>Test-TierPolicy ./tierstorage.yaml | Where-Object Severity -eq Error</code>
/// <para>Lists the errors of the policy in the current directory.</para>
/// </example>
/// <example>
/// <code>Get-ChildItem ./policies/*.yaml | Test-TierPolicy</code>
/// <para>Tests every policy file of a folder.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "TierPolicy")]
[OutputType(typeof(PolicyFinding))]
public sealed class TestTierPolicyCommand : WorkspaceCmdlet
{
    /// <summary>Policy files to test; default the workspace's effective policy.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.PolicyPathCompleter))]
    public string[]? Path { get; set; }

    protected override void ProcessRecord()
    {
        if (Path is null)
        {
            WriteObject(PolicyLoader.Test(ResolveEffectivePolicyPath()), enumerateCollection: true);
            return;
        }

        foreach (var path in Path)
        {
            WriteObject(PolicyLoader.Test(ResolvePath(path)), enumerateCollection: true);
        }
    }
}
