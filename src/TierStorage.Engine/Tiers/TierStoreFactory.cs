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
    /// <summary>The workspace's folder on every tier but the workspace itself (invariant 7): every key the store is given
    /// lives under it, so projects sharing a tier never see each other's objects. Empty: the tier's root (a workspace that
    /// backed up before namespaces existed).</summary>
    public string Namespace { get; init; } = "";
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
            TierKind.Folder => FolderStore(tier, context),
            TierKind.GoogleDrive => new GoogleDriveStore(await DriveOptionsAsync(tier, context, cancellationToken).ConfigureAwait(false)),
            // Credentials come from the AWS SDK's chain (the tier's profile, the environment, SSO), never from the workspace.
            TierKind.S3 => S3ObjectStore.FromTier(tier, space: context.Namespace),
            _ => throw new TierStorageException(ErrorIds.TierNotSupported, TierErrorKind.InvalidOperation,
                $"Tier '{tier.Name}' is of kind {tier.Kind}, which this version cannot back up to yet; use a folder or google-drive tier.", tier.Name),
        };
    }

    /// <summary>The folder store of a folder tier for this workspace: its namespace folder (created with the tier's folder
    /// on first use, when the tier's parent exists).</summary>
    public static FolderObjectStore FolderStore(TierDefinition tier, TierStoreContext context) =>
        new(tier.Name, PrepareFolder(FolderPath(tier, context)), createMissingRoot: !context.TierHoldsData,
            creatableLevels: string.IsNullOrWhiteSpace(tier.Path) || context.Namespace.Length == 0 ? 1 : 2);

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

    /// <summary>A folder tier's directory for this workspace: its namespace folder under the tier's path. The level-1 tier
    /// without a path is the workspace itself.</summary>
    public static string FolderPath(TierDefinition tier, TierStoreContext context) =>
        string.IsNullOrWhiteSpace(tier.Path) ? context.WorkspaceRoot
        : Path.Combine(Path.GetFullPath(PathExpander.Expand(tier.Path, context.WorkspaceRoot)), context.Namespace);

    /// <summary>The folder that holds a folder tier's own folder: when it is missing, so is the disk or share.</summary>
    public static string? FolderParent(TierDefinition tier, TierStoreContext context) =>
        Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(FolderPath(tier, context with { Namespace = "" })));

    private static async Task<GoogleDriveStoreOptions> DriveOptionsAsync(TierDefinition tier, TierStoreContext context, CancellationToken cancellationToken)
    {
        var options = await DriveAuthorization.StoreOptionsAsync(tier, context.CredentialsDirectory, cancellationToken).ConfigureAwait(false);
        return options with { RootFolder = Join(options.RootFolder, context.Namespace) };
    }

    /// <summary>a/b from a prefix and a namespace, either of which may be empty.</summary>
    internal static string Join(string? prefix, string space) =>
        string.Join('/', new[] { prefix?.Trim('/'), space }.Where(p => !string.IsNullOrEmpty(p)));
}
