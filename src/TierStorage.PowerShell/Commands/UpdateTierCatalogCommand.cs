using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Rebuilds the catalog from the local logs and, with -FromTier, a tier's manifests.</summary>
/// <remarks>
/// <para>Update-TierCatalog brings back what a lost or damaged catalog knew. It indexes the activity logs in the workspace's logs/ folder again (the sessions they belong to come back with their events), and with -FromTier it also reads the manifests that travel with the data on a tier, so that sessions only the tier holds come back too, with their events from their backups, and Get-Session, Get-SessionEvent, Restore-Session, the review and the policy run work again on a new machine. Anything read back from the tier is checked and bounded before it is trusted.</para>
/// <para>A catalog that is not a usable database is moved aside (agent_metrics.db.corrupt-&lt;time&gt;, named in a warning) and a new one is built.</para>
/// </remarks>
/// <example>
/// <code>Update-TierCatalog -FromTier drive</code>
/// <para>Rebuilds the catalog from the local logs and the drive tier.</para>
/// </example>
/// <example>
/// <code>Update-TierCatalog</code>
/// <para>Indexes the local logs again after the catalog was deleted.</para>
/// </example>
/// <example>
/// <code>Update-TierCatalog -FromTier backup -Namespace myproject-1a2b3c4d</code>
/// <para>In a workspace recreated after its disk was lost, takes over the namespace the lost workspace used on the tiers (the warning of a rebuild that finds nothing lists the namespaces a tier holds), then rebuilds the catalog from it.</para>
/// </example>
/// <example>
/// <code>Update-TierCatalog archive -WhatIf</code>
/// <para>Shows what rebuilding from the archive tier would change.</para>
/// </example>
[Cmdlet(VerbsData.Update, "TierCatalog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CatalogRebuildResult))]
public sealed class UpdateTierCatalogCommand : WorkspaceCmdlet
{
    /// <summary>Tier whose manifests rebuild the catalog too; without it only the local logs are indexed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Tier")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? FromTier { get; set; }

    /// <summary>With -FromTier: the namespace on the tiers to take over first, the one a lost workspace of this project used
    /// (its folder on every backup and archive tier). Only for a workspace that has not backed anything up yet.</summary>
    [Parameter]
    [ValidateNotNull]
    public string? Namespace { get; set; }

    protected override bool SetAsideCorruptCatalog => true;

    protected override void ProcessRecord()
    {
        if (FromTier is null)
        {
            if (Namespace is not null)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Namespace needs -FromTier: the namespace is taken over from a tier."),
                    "NamespaceNeedsTier", ErrorCategory.InvalidArgument, Namespace));
            }

            if (ShouldProcess("logs", "Rebuild the catalog from the local activity logs"))
            {
                ProcessItem("logs", () => WriteStream(Workspace.RebuildCatalogFromLogsAsync(CancellationToken)));
            }

            return;
        }

        var action = Namespace is null ? "Rebuild the catalog from the local activity logs and the tier's manifests"
            : $"Take over namespace '{Namespace}' and rebuild the catalog from the local activity logs and the tier's manifests";
        if (!ShouldProcess(FromTier, action))
        {
            return;
        }

        ProcessItem(FromTier, () =>
        {
            if (Namespace is not null) Await(Workspace.AdoptNamespaceAsync(FromTier!, Namespace, CancellationToken));
            WriteStream(Workspace.Backups.RebuildCatalogAsync(FromTier, CancellationToken));
        });
    }
}
