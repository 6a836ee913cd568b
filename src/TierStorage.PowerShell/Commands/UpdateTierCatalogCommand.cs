using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Rebuilds the catalog from a tier's manifests after the local disk was lost.</summary>
/// <remarks>
/// <para>Update-TierCatalog reads the manifests that travel with the data on a tier and rebuilds the catalog's sessions and objects from them, so that Get-Session, Restore-Session and the policy run work again on a new machine. Anything read back from the tier is checked and bounded before it is trusted.</para>
/// </remarks>
/// <example>
/// <code>Update-TierCatalog -FromTier drive</code>
/// <para>Rebuilds the catalog from the drive tier.</para>
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
    /// <summary>Tier whose manifests rebuild the catalog.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Tier")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? FromTier { get; set; }

    /// <summary>The namespace on the tiers to take over first: the one a lost workspace of this project used (its folder on
    /// every backup and archive tier). Only for a workspace that has not backed anything up yet.</summary>
    [Parameter]
    [ValidateNotNull]
    public string? Namespace { get; set; }

    protected override void ProcessRecord()
    {
        var action = Namespace is null ? "Rebuild the catalog from the tier's manifests"
            : $"Take over namespace '{Namespace}' and rebuild the catalog from the tier's manifests";
        if (!ShouldProcess(FromTier!, action))
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
