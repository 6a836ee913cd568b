using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    private WorkspaceIdentity? _identity;

    /// <summary>Who this workspace is: its id and its namespace on the tiers (invariant 7).</summary>
    public WorkspaceIdentity Identity => _identity ?? throw new InvalidOperationException("The workspace identity is read when the workspace opens.");

    /// <summary>The directory of the workspace this one is a copy of, while that original still exists; null otherwise.
    /// A copy reads the tiers but never writes or deletes there (ErrorIds.WorkspaceCopied), because the namespace is the
    /// original's.</summary>
    public string? CopyOf { get; private set; }

    /// <summary>Reads (or creates) the identity, keeps workspace.json and the catalog's copy in step, and tells a move
    /// (the recorded directory is gone: the identity follows) from a copy (the original is still there).</summary>
    private async Task EstablishIdentityAsync(CancellationToken cancellationToken)
    {
        var identity = await ReadIdentityAsync(cancellationToken).ConfigureAwait(false);
        if (identity is null)
        {
            using (await LockAsync(cancellationToken).ConfigureAwait(false))
            {
                // Another process may have created it while this one waited for the lock.
                identity = await ReadIdentityAsync(cancellationToken).ConfigureAwait(false);
                if (identity is null)
                {
                    identity = await CreateIdentityAsync(cancellationToken).ConfigureAwait(false);
                    await SaveIdentityAsync(identity, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        if (!identity.IsAt(Root) && !SameDirectory(identity.Root, Root))
        {
            var original = await TryReadIdentityAtAsync(identity.Root, cancellationToken).ConfigureAwait(false);
            if (original is not null && original.Id == identity.Id && original.IsAt(identity.Root))
            {
                CopyOf = identity.Root;
                Warn($"This workspace '{Root}' is a copy of '{identity.Root}', which still exists: both would back up into the same namespace " +
                    $"'{identity.Namespace}' of the tiers, so this copy only reads them and refuses to back up, archive or delete there. " +
                    "If you meant to move the workspace, remove the original and this one takes its place; to keep both, give this copy its own " +
                    "namespace with Initialize-TierWorkspace -NewIdentity (tierstorage init --new-identity).");
            }
            else
            {
                Inform($"The workspace was moved from '{identity.Root}' to '{Root}': its identity and namespace '{identity.Namespace}' follow it.");
                identity = identity with { Root = Root };
                await SaveIdentityAsync(identity, cancellationToken).ConfigureAwait(false);
            }
        }
        _identity = identity;
        Detail($"Workspace id {identity.Id}, namespace on the tiers '{(identity.Namespace.Length == 0 ? "(the tier root)" : identity.Namespace)}'.");
    }

    /// <summary>workspace.json, else the catalog's copy (which then rewrites the file); the catalog wins when the two
    /// disagree, because its records of what was stored were made under its namespace.</summary>
    private async Task<WorkspaceIdentity?> ReadIdentityAsync(CancellationToken cancellationToken)
    {
        var fromFile = await IoErrors.GuardAsync("reading", WorkspaceIdentity.PathIn(Root), () => WorkspaceIdentity.ReadAsync(Root, cancellationToken)).ConfigureAwait(false);
        var fromCatalog = await _catalog.GetIdentityAsync(cancellationToken).ConfigureAwait(false);
        if (_catalog.IsShared) return await JoinSharedIdentityAsync(fromFile, fromCatalog, cancellationToken).ConfigureAwait(false);
        if (fromCatalog is null)
        {
            if (fromFile is not null) await _catalog.SetIdentityAsync(fromFile, cancellationToken).ConfigureAwait(false);
            return fromFile;
        }
        if (fromFile is null || fromFile.Id != fromCatalog.Id || fromFile.Namespace != fromCatalog.Namespace)
        {
            if (fromFile is not null)
                Warn($"'{WorkspaceIdentity.PathIn(Root)}' named namespace '{fromFile.Namespace}' but the catalog records '{fromCatalog.Namespace}'; the catalog's is kept.");
            var kept = fromFile is null ? fromCatalog : fromCatalog with { Root = fromFile.Root };
            await IoErrors.GuardAsync("writing", WorkspaceIdentity.PathIn(Root), () => kept.WriteAsync(Root, cancellationToken)).ConfigureAwait(false);
            return kept;
        }
        return fromFile;
    }

    /// <summary>
    /// A shared catalog's identity is the team's: the first workspace to open it records its own (only if none is there yet, so
    /// two first machines cannot both win), and every other adopts that id and namespace, so that all of them back up and
    /// archive under one namespace and each phase is archived once. The directory stays each machine's own (workspace.json);
    /// the catalog's row keeps the first machine's, which no other machine reads.
    /// </summary>
    private async Task<WorkspaceIdentity?> JoinSharedIdentityAsync(WorkspaceIdentity? fromFile, WorkspaceIdentity? fromCatalog, CancellationToken cancellationToken)
    {
        if (fromCatalog is null)
        {
            if (fromFile is null) return null;
            await _catalog.SetIdentityIfAbsentAsync(fromFile, cancellationToken).ConfigureAwait(false);
            fromCatalog = await _catalog.GetIdentityAsync(cancellationToken).ConfigureAwait(false) ?? fromFile;
        }
        if (fromFile is not null && fromFile.Id == fromCatalog.Id && fromFile.Namespace == fromCatalog.Namespace) return fromFile;
        var joined = fromCatalog with { Root = fromFile?.Root ?? Root };
        if (fromFile is not null)
            Inform($"This workspace joins the shared catalog {_catalog.Path}: it now backs up and archives under the team's namespace '{joined.Namespace}' (it had '{fromFile.Namespace}').");
        await IoErrors.GuardAsync("writing", WorkspaceIdentity.PathIn(Root), () => joined.WriteAsync(Root, cancellationToken)).ConfigureAwait(false);
        return joined;
    }

    /// <summary>A fresh identity; a workspace that already stored objects before namespaces existed keeps them at the root.</summary>
    private async Task<WorkspaceIdentity> CreateIdentityAsync(CancellationToken cancellationToken)
    {
        var identity = WorkspaceIdentity.New(Root, Now);
        if (!await _catalog.HasTierObjectsAsync(LocalTierName, cancellationToken).ConfigureAwait(false)) return identity;
        Warn("This workspace backed up before workspaces had their own namespace on the tiers, so its objects stay at the tiers' roots, " +
            "where another project on the same tiers could overwrite them. Give each project its own tier folders in its policy.");
        return identity with { Namespace = "" };
    }

    private async Task SaveIdentityAsync(WorkspaceIdentity identity, CancellationToken cancellationToken)
    {
        await IoErrors.GuardAsync("writing", WorkspaceIdentity.PathIn(Root), () => identity.WriteAsync(Root, cancellationToken)).ConfigureAwait(false);
        if (_catalog.IsShared) await _catalog.SetIdentityIfAbsentAsync(identity, cancellationToken).ConfigureAwait(false);
        else await _catalog.SetIdentityAsync(identity, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<WorkspaceIdentity?> TryReadIdentityAtAsync(string root, CancellationToken cancellationToken)
    {
        try
        {
            return Directory.Exists(root) ? await WorkspaceIdentity.ReadAsync(root, cancellationToken).ConfigureAwait(false) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TierStorageException)
        {
            return null;
        }
    }

    /// <summary>True when two paths reach one directory (a symlinked project folder): a file made in one is seen in the other.</summary>
    private static bool SameDirectory(string a, string b)
    {
        if (!Directory.Exists(a) || !Directory.Exists(b)) return false;
        var probe = ".identity-probe-" + Guid.NewGuid().ToString("N");
        try
        {
            File.WriteAllBytes(Path.Combine(b, probe), []);
            return File.Exists(Path.Combine(a, probe));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            try { File.Delete(Path.Combine(b, probe)); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Refuses a tier write in a copied workspace (ErrorIds.WorkspaceCopied).</summary>
    internal void EnsureOwnsTiers(string tierName)
    {
        if (CopyOf is null) return;
        throw new TierStorageException(ErrorIds.WorkspaceCopied, TierErrorKind.InvalidOperation,
            $"This workspace is a copy of '{CopyOf}', whose namespace '{Identity.Namespace}' on tier '{tierName}' it would share, so it does not write there. " +
            "Remove the original if the workspace was moved, or run Initialize-TierWorkspace -NewIdentity (tierstorage init --new-identity) to give this copy its own namespace.",
            Root);
    }

    /// <summary>Initialize-TierWorkspace -NewIdentity: a copied workspace becomes a project of its own. It gets a new id and
    /// namespace and forgets the original's tier copies: sessions it still holds locally go back to Completed (the next backup
    /// stores them in the new namespace), sessions that only the original's tiers hold are dropped from this catalog (they stay
    /// the original's). Nothing on any tier changes.</summary>
    public async Task<WorkspaceIdentityChange> NewIdentityAsync(CancellationToken cancellationToken)
    {
        if (_catalog.IsShared)
            throw new TierStorageException(ErrorIds.CatalogShared, TierErrorKind.InvalidOperation,
                $"This workspace uses the shared catalog {_catalog.Path}, whose namespace is the team's: a new identity would take this machine's sessions out of it. To leave the team, set catalog: provider: sqlite in the policy first (Copy-TierCatalog -To <file> keeps a copy of the catalog).");
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var before = Identity;
            var sessions = await ListRecordsAsync(cancellationToken).ConfigureAwait(false);
            var kept = new List<string>();
            var dropped = new List<string>();
            foreach (var session in sessions.Where(s => s.State is SessionState.BackedUp or SessionState.Archived))
                (HasLocalData(session) ? kept : dropped).Add(session.SessionId);
            var identity = WorkspaceIdentity.New(Root, Now);
            await _catalog.ForgetTierCopiesAsync(LocalTierName, kept, dropped, cancellationToken).ConfigureAwait(false);
            await SaveIdentityAsync(identity, cancellationToken).ConfigureAwait(false);
            _identity = identity;
            CopyOf = null;
            return new WorkspaceIdentityChange
            {
                Path = Root,
                WorkspaceId = identity.Id,
                Namespace = identity.Namespace,
                PreviousNamespace = before.Namespace,
                SessionsToBackUp = kept,
                SessionsLeftToOriginal = dropped,
            };
        }
    }

    private bool HasLocalData(SessionRecord session) =>
        session.LogPath is { } log && File.Exists(log);

    /// <summary>The namespaces a tier holds sessions or phase archives in, with how many manifests each has ("" is the tier's
    /// root, where workspaces from before namespaces stored theirs): what a workspace recreated after its disk was lost can adopt.</summary>
    public async Task<IReadOnlyDictionary<string, int>> ListTierNamespacesAsync(TierDefinition tier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tier);
        var context = StoreContextFor(tier) with { Namespace = "", TierHoldsData = true };
        await using var store = await _storeFactory(tier, context, cancellationToken).ConfigureAwait(false);
        var found = new SortedDictionary<string, int>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
                var (space, rest) = info.Key.IndexOf('/') is var slash and > 0 && !info.Key.StartsWith("Phase_", StringComparison.Ordinal)
                    && !info.Key.StartsWith("metadata/", StringComparison.Ordinal)
                    ? (info.Key[..slash], info.Key[(slash + 1)..]) : ("", info.Key);
                if (!Backup.BackupLayout.IsSessionManifest(rest) && !(rest.StartsWith("metadata/", StringComparison.Ordinal) && rest.EndsWith("_manifest.json", StringComparison.Ordinal)))
                    continue;
                found[space] = found.GetValueOrDefault(space) + 1;
        }
        return found;
    }

    /// <summary>Update-TierCatalog -Namespace: a workspace recreated after its disk was lost takes over the namespace its
    /// predecessor used on the tiers, so a catalog rebuild finds its sessions. Refused (InvalidOperation) when this catalog
    /// already records objects in its own namespace, and (ObjectNotFound) when <paramref name="tierName"/> holds nothing there.</summary>
    public async Task<WorkspaceIdentity> AdoptNamespaceAsync(string tierName, string space, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (space.Length > 0 && !WorkspaceIdentity.NamespacePattern().IsMatch(space))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"'{space}' is not a namespace: letters, digits, '.', '_' or '-', at most 80.", space);
        if (space == Identity.Namespace) return Identity;
        var tier = Backups.ResolveTier(tierName);
        var spaces = await ListTierNamespacesAsync(tier, cancellationToken).ConfigureAwait(false);
        if (!spaces.ContainsKey(space))
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
                $"Tier '{tier.Name}' holds no sessions or archives in namespace '{space}'. It holds: {DescribeNamespaces(spaces)}.", space);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await _catalog.HasTierObjectsAsync(LocalTierName, cancellationToken).ConfigureAwait(false))
                throw new TierStorageException(ErrorIds.NamespaceInUse, TierErrorKind.InvalidOperation,
                    $"This workspace already stored objects in its namespace '{Identity.Namespace}', so it cannot take over '{space}'. " +
                    "Adopt a namespace only in a workspace recreated after its disk was lost, before anything is backed up.", space);
            var identity = Identity with { Namespace = space };
            await SaveIdentityAsync(identity, cancellationToken).ConfigureAwait(false);
            _identity = identity;
            CopyOf = null;
            Inform($"This workspace now uses namespace '{space}' on the tiers.");
            return identity;
        }
    }

    internal static string DescribeNamespaces(IReadOnlyDictionary<string, int> spaces) =>
        spaces.Count == 0 ? "nothing" : string.Join(", ", spaces.Select(s => $"{(s.Key.Length == 0 ? "(the tier root)" : s.Key)} ({s.Value} manifests)"));
}
