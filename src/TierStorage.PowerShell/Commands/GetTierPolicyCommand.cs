using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.PowerShell.Commands;

/// <summary>The effective policy with every default filled in; works before a workspace exists (embedded default).</summary>
[Cmdlet(VerbsCommon.Get, "TierPolicy")]
[OutputType(typeof(TierPolicy))]
public sealed class GetTierPolicyCommand : WorkspaceCmdlet
{
    protected override void ProcessRecord()
    {
        var policyPath = ResolveEffectivePolicyPath();
        WriteObject(RunTerminating(policyPath, () => PolicyLoader.Load(policyPath)));
    }
}
