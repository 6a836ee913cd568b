using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Rebuilds the catalog's sessions and objects from a tier's manifests, after the local disk was lost.</summary>
[Cmdlet(VerbsData.Update, "TierCatalog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CatalogRebuildResult))]
public sealed class UpdateTierCatalogCommand : WorkspaceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Tier")]
    [ValidateNotNullOrEmpty]
    public string? FromTier { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(FromTier!, "Rebuild the catalog from the tier's manifests"))
        {
            return;
        }

        ProcessItem(FromTier, () => WriteStream(Workspace.Backups.RebuildCatalogAsync(FromTier, CancellationToken)));
    }
}
