using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets the effective policy with every default filled in.</summary>
/// <remarks>
/// <para>Get-TierPolicy reads the policy the workspace would use (-PolicyPath, else $env:TIERSTORAGE_POLICY, else the workspace's tierstorage.yaml, else the embedded default) and writes it with every default filled in. It works before a workspace exists.</para>
/// </remarks>
/// <example>
/// <code>(Get-TierPolicy).Tiers</code>
/// <para>Lists the tiers of the effective policy.</para>
/// </example>
/// <example>
/// <code>Get-TierPolicy -PolicyPath ./tierstorage.yaml</code>
/// <para>Reads the policy in the current directory.</para>
/// </example>
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
