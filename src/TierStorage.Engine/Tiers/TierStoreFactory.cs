using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Tiers.GoogleDrive;
using TierStorage.Engine.Tiers.S3;

namespace TierStorage.Engine.Tiers;

/// <summary>What a store needs from the workspace it serves.</summary>
public sealed record TierStoreContext
{
    /// <summary>The workspace directory: relative folder paths and credentials/ are resolved against it.</summary>
    public string WorkspaceRoot { get; init; } = "";
    public string CredentialsDirectory { get; init; } = "";
    /// <summary>The catalog records objects on this tier, so a missing folder root means a disk or share that is not
    /// connected (or data that was removed): the store must not create an empty root in its place.</summary>
    public bool TierHoldsData { get; init; }
}

/// <summary>Opens the object store behind a policy tier (the ServerFactory of PSResourceGet, the backend registry of Duplicati).</summary>
public static class TierStoreFactory
{
    /// <summary>ErrorIds.TierAuthRequired for a Drive tier that has not been connected (Connect-TierDrive), or an S3 tier
    /// whose AWS profile does not exist.</summary>
    public static async Task<IObjectStore> CreateAsync(TierDefinition tier, TierStoreContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(context);
        return tier.Kind switch
        {
            TierKind.Folder => new FolderObjectStore(tier.Name, PrepareFolder(FolderPath(tier, context)), createMissingRoot: !context.TierHoldsData),
            TierKind.GoogleDrive => new GoogleDriveStore(await DriveAuthorization.StoreOptionsAsync(tier, context.CredentialsDirectory, cancellationToken).ConfigureAwait(false)),
            // Credentials come from the AWS SDK's chain (the tier's profile, the environment, SSO), never from the workspace.
            TierKind.S3 => S3ObjectStore.FromTier(tier),
            _ => throw new TierStorageException(ErrorIds.TierNotSupported, TierErrorKind.InvalidOperation,
                $"Tier '{tier.Name}' is of kind {tier.Kind}, which this version cannot back up to yet; use a folder or google-drive tier.", tier.Name),
        };
    }

    /// <summary>The per-user data directory is ours (the embedded default's backup and archive live there), so it is
    /// created on first use; any other missing parent is left alone, because it is how an unmounted share or an unplugged
    /// disk shows, and the store reports the tier unreachable instead of filling the local disk.</summary>
    private static string PrepareFolder(string path)
    {
        var data = Path.TrimEndingDirectorySeparator(Path.GetFullPath(PathExpander.DataDirectory));
        if (path.StartsWith(data + Path.DirectorySeparatorChar, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            Directory.CreateDirectory(data);
        return path;
    }

    /// <summary>A folder tier's directory; the level-1 tier without a path is the workspace itself.</summary>
    public static string FolderPath(TierDefinition tier, TierStoreContext context) =>
        string.IsNullOrWhiteSpace(tier.Path) ? context.WorkspaceRoot : Path.GetFullPath(PathExpander.Expand(tier.Path, context.WorkspaceRoot));
}
