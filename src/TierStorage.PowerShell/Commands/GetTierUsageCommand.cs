using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets the used bytes, capacity, status, object count and monthly cost of each tier.</summary>
/// <remarks>
/// <para>Get-TierUsage reports, for every tier of the policy, the bytes used against its capacity, the status (Healthy, Warning, Critical) against the policy's alert thresholds, the number of objects, the monthly cost from the policy's pricing and the date the tier would be full at the current growth. By default it reads the catalog; -Refresh lists the Drive and S3 tiers instead.</para>
/// </remarks>
/// <example>
/// <code>Get-TierUsage | Where-Object Status -ne Healthy</code>
/// <para>Lists the tiers that need attention.</para>
/// </example>
/// <example>
/// <code>Get-TierUsage -Tier drive -Refresh</code>
/// <para>Lists the drive tier itself instead of trusting the catalog.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "TierUsage")]
[OutputType(typeof(TierUsage))]
public sealed class GetTierUsageCommand : WorkspaceCmdlet
{
    /// <summary>Only this tier; default every tier of the policy.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    /// <summary>List Drive and S3 tiers instead of reading the catalog.</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    /// <summary>A shared (PostgreSQL) catalog: the share of each backup and archive tier that the sessions recorded on this
    /// machine take, from the catalog (the local tier is each machine's own and is left out); a name or a wildcard pattern
    /// (* for the whole team's sessions). A phase archive's members count at their size in it.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Machine { get; set; }

    /// <summary>A shared catalog: the share of each tier that this user's sessions take; a name or a wildcard pattern.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Tier, () => WriteStream(Workspace.Backups.GetUsageAsync(Tier, Refresh, Machine, User, CancellationToken)));
}
