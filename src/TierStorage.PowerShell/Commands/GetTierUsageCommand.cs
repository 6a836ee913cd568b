using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Used bytes, capacity, status, objects, monthly cost and growth of each tier.</summary>
[Cmdlet(VerbsCommon.Get, "TierUsage")]
[OutputType(typeof(TierUsage))]
public sealed class GetTierUsageCommand : WorkspaceCmdlet
{
    /// <summary>Only this tier; default every tier of the policy.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Tier { get; set; }

    /// <summary>List Drive and S3 tiers instead of reading the catalog.</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Tier, () => WriteStream(Workspace.Backups.GetUsageAsync(Tier, Refresh, CancellationToken)));
}
