using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.PowerShell.Commands;

/// <summary>Every finding of a policy file; a bad file yields findings, never an exception.</summary>
[Cmdlet(VerbsDiagnostic.Test, "TierPolicy")]
[OutputType(typeof(PolicyFinding))]
public sealed class TestTierPolicyCommand : WorkspaceCmdlet
{
    /// <summary>Policy files to test; default the workspace's effective policy.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
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
