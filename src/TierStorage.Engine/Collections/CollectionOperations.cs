using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Collections;

/// <summary>Where a collection's work stands, for Write-Progress.</summary>
public sealed record CollectionProgress(string Collection, string Activity, long Done, long Total);

/// <summary>What to restore: a version (null: the newest), the files matching any of <see cref="Paths"/> (none: all), to
/// <see cref="Destination"/> (null: the collection's own folder).</summary>
public sealed record CollectionRestoreRequest
{
    public string Collection { get; init; } = "";
    public string? VersionId { get; init; }
    public IReadOnlyList<string> Paths { get; init; } = [];
    public string? Destination { get; init; }
    /// <summary>Replace files at the destination that are newer than the version's and differ from it.</summary>
    public bool Force { get; init; }
    /// <summary>How fast an archived version's bundles are thawed from a cold storage class (and what it costs).</summary>
    public ArchiveRetrievalTier Retrieval { get; init; } = ArchiveRetrievalTier.Standard;
}

/// <summary>
/// Collections (issue 13): any folder of the user's kept as versions on a tier. A version is a manifest of every file
/// (path, size, modified time, mode, SHA-256) pointing at contents stored once per SHA-256 on the tier, gzipped, under
/// <c>collections/contents/</c> of the workspace's namespace (so its encryption and namespace apply). A backup hashes only
/// the files whose size or modified time differ from the previous version's (restic's parent snapshot), uploads only
/// contents the tier does not hold, verifies each upload against the size and MD5 the tier reports, and stores the
/// manifest last: a killed backup leaves contents no version claims yet (the rerun finds them and sends nothing again),
/// never a version that claims a file the tier does not have.
/// </summary>
public sealed partial class CollectionOperations
{
    public const string Prefix = "collections/";
    public const string ContentsPrefix = Prefix + "contents/";
    /// <summary>The SHA-256 of no bytes: empty files point at it, and it is never stored (a restore writes an empty file).</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const int Parallelism = 4;
    private const long InMemoryContentLimit = 16L << 20;
    private readonly TierWorkspace _workspace;
    private readonly CollectionArchiver _archiver;

    internal CollectionOperations(TierWorkspace workspace)
    {
        _workspace = workspace;
        _archiver = new CollectionArchiver(workspace, this);
    }

    /// <summary>Bytes of gzip contents a bundle on the archive tier takes before the next is started: large enough that
    /// Deep Archive's per-object overhead is nothing, small enough that restoring one file thaws and downloads little else.</summary>
    internal long BundleBytesLimit { get; set; } = 256L << 20;

    public static string ContentKey(string sha256) => $"{ContentsPrefix}{sha256[..2]}/{sha256}.gz";

    public static string VersionsPrefix(string collection) => $"{Prefix}{collection}/versions/";

    public static string VersionKey(string collection, string versionId) => $"{VersionsPrefix(collection)}{versionId}.json.gz";

    /// <summary>The collection in the policy, or ErrorIds.CollectionNotFound naming those there are.</summary>
    public CollectionDefinition GetCollection(string name)
    {
        var collections = _workspace.Policy.Collections;
        return _workspace.Policy.GetCollection(name) ?? throw new TierStorageException(ErrorIds.CollectionNotFound, TierErrorKind.ObjectNotFound,
            collections.Count == 0
                ? $"The policy has no collection '{name}': it has no collections: section yet. Add one (name, path) to {_workspace.Policy.Source}."
                : $"The policy has no collection '{name}'; it has {string.Join(", ", collections.Select(c => c.Name))}.", name);
    }

    /// <summary>The collections whose schedule has an occurrence since their newest version (or that have none), most
    /// important first.</summary>
    public async Task<IReadOnlyList<CollectionDefinition>> GetDueAsync(CancellationToken cancellationToken)
    {
        var due = new List<CollectionDefinition>();
        foreach (var collection in _workspace.Policy.Collections.OrderBy(c => c.Priority))
            if (await IsDueAsync(collection, cancellationToken).ConfigureAwait(false)) due.Add(collection);
        return due;
    }

    /// <summary>Whether the collection's schedule has an occurrence since its newest version on its tier (or it has none).</summary>
    public async Task<bool> IsDueAsync(CollectionDefinition collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var newest = (await ListVersionIdsAsync(collection, cancellationToken).ConfigureAwait(false)).LastOrDefault();
        DateTimeOffset? last = newest is null ? null : ParseVersionTime(newest);
        return CollectionSchedule.Parse(collection.Schedule).IsDue(last, _workspace.Time.GetUtcNow());
    }

    /// <summary>The disk-usage analysis of the collection's folder as it is now (<see cref="CollectionUsage"/>), then per
    /// clean-up rule what it would free now and what it holds back.</summary>
    public async Task<IReadOnlyList<CollectionUsageItem>> GetUsageAsync(CollectionDefinition collection, int depth, int largest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var rows = CollectionUsage.Analyse(collection, FolderOf(collection), depth, largest, cancellationToken).ToList();
        var candidates = await CleanupCandidatesAsync(collection, cancellationToken).ConfigureAwait(false);
        for (var rule = 0; rule < collection.Cleanup.Count; rule++)
        {
            var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"cleanup[{rule}]: {collection.Cleanup[rule]}");
            foreach (var held in new[] { false, true })
            {
                var files = candidates.Where(c => c.Rule == rule && c.Held == held).ToList();
                if (held && files.Count == 0) continue;
                rows.Add(new CollectionUsageItem
                {
                    Collection = collection.Name, Kind = held ? CollectionUsageKind.CleanupHeld : CollectionUsageKind.Cleanup, Path = text,
                    Bytes = files.Sum(f => f.File.Size), FileCount = files.Count,
                });
            }
        }
        return rows;
    }

    /// <summary>The collection's folder as a full path (the policy's, relative to the workspace).</summary>
    private string FolderOf(CollectionDefinition collection) => Path.GetFullPath(PathExpander.Expand(collection.Path, _workspace.Root));

    public TierDefinition TierOf(CollectionDefinition collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var tier = collection.Tier is { } name ? _workspace.Policy.GetTier(name) : _workspace.Policy.GetTier(TierLevel.Backup);
        return tier ?? throw new TierStorageException(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
            $"Collection '{collection.Name}' has no tier to go to: the policy names no backup tier (level 2) and the collection no 'tier'.", collection.Name);
    }

    /// <summary>Takes a new version of the collection.</summary>
    public async Task<CollectionBackupResult> BackupAsync(CollectionDefinition collection, IProgress<CollectionProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var started = Stopwatch.GetTimestamp();
        var tier = TierOf(collection);
        var root = FolderOf(collection);
        if (!Directory.Exists(root))
            throw new TierStorageException(ErrorIds.CollectionSourceNotFound, TierErrorKind.ObjectNotFound,
                $"Collection '{collection.Name}': its folder '{root}' does not exist (not mounted, or moved?). Nothing was backed up.", collection.Name);

        Directory.CreateDirectory(Path.GetDirectoryName(LockPath())!);
        using var collectionLock = await FileLock.AcquireAsync(LockPath(), TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        var staging = StagingFor(collection.Name);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        await using var store = await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);

        var versionIds = await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false);
        var parent = versionIds.Count == 0 ? null : await LoadManifestAsync(store, collection, versionIds[^1], cancellationToken).ConfigureAwait(false);
        var parentFiles = parent?.Files.ToDictionary(f => f.Path, StringComparer.Ordinal) ?? [];

        progress?.Report(new CollectionProgress(collection.Name, "Scanning " + root, 0, 0));
        var scanned = CollectionScanner.Scan(root, CollectionFilter.For(collection), out var links, cancellationToken);
        if (links > 0) _workspace.Warn($"Collection '{collection.Name}': {links} symbolic link(s) or junction(s) were not followed and are not in the version.");

        var known = new ConcurrentDictionary<string, byte>(
            (await ListContentsAsync(store, cancellationToken).ConfigureAwait(false)).Select(sha => KeyValuePair.Create(sha, (byte)0)), StringComparer.Ordinal);
        known.TryAdd(EmptySha256, 0);
        var entries = new CollectionFileEntry?[scanned.Count];
        var hashed = 0;
        var uploaded = 0;
        long done = 0;
        long sent = 0;
        long newBytes = 0;
        var totalBytes = scanned.Sum(f => f.Size);
        var level = ParallelGzipStream.MapLevel(_workspace.Policy.Backup.CompressionLevel);
        // Files unchanged by size and time take their hash from the previous version. The rest are read once: hashed
        // and gzipped in the same pass, and stored unless the tier holds that content already (a rename, a copy, a
        // revert). Four at a time, each put verified against what the tier reports before the manifest names it.
        await Parallel.ForEachAsync(Enumerable.Range(0, scanned.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var file = scanned[i];
            CollectionFileEntry entry;
            if (parentFiles.TryGetValue(file.Path, out var previous) && previous.Size == file.Size && previous.Modified == file.Modified && known.ContainsKey(previous.Sha256))
                entry = new CollectionFileEntry(file.Path, file.Size, file.Modified, file.Mode, previous.Sha256);
            else
            {
                StoredContent stored;
                try
                {
                    stored = await StoreContentAsync(store, file, level, staging, known, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
                {
                    _workspace.Warn($"Collection '{collection.Name}': '{file.Path}' could not be read ({ex.Message}) and is not in the version.");
                    return;
                }
                Interlocked.Increment(ref hashed);
                if (stored.StoredBytes > 0)
                {
                    Interlocked.Add(ref sent, stored.StoredBytes);
                    Interlocked.Add(ref newBytes, stored.Size);
                    Interlocked.Increment(ref uploaded);
                }
                entry = new CollectionFileEntry(file.Path, stored.Size, stored.Modified, file.Mode, stored.Sha256);
            }
            entries[i] = entry;
            progress?.Report(new CollectionProgress(collection.Name, "Reading and storing", Interlocked.Add(ref done, file.Size), totalBytes));
        }).ConfigureAwait(false);

        var files = entries.Where(e => e is not null).Select(e => e!).ToList();
        var createdAt = _workspace.Time.GetUtcNow();
        var versionId = CollectionManifest.NewVersionId(createdAt);
        if (versionIds.Count > 0 && string.CompareOrdinal(versionId, versionIds[^1]) <= 0)
            versionId = CollectionManifest.NewVersionId(ParseVersionTime(versionIds[^1]).AddMilliseconds(1));
        var manifest = new CollectionManifest
        {
            Collection = collection.Name,
            VersionId = versionId,
            CreatedAt = createdAt,
            ParentVersionId = parent?.VersionId,
            SourcePath = root,
            NewBytes = newBytes,
            Files = files,
        };
        sent += await StoreManifestAsync(store, manifest, cancellationToken).ConfigureAwait(false);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);

        var current = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        return new CollectionBackupResult
        {
            Collection = collection.Name,
            VersionId = versionId,
            Status = CollectionBackupStatus.Succeeded,
            Tier = tier.Name,
            FileCount = files.Count,
            TotalBytes = files.Sum(f => f.Size),
            FilesHashed = hashed,
            FilesAdded = files.Count(f => !parentFiles.ContainsKey(f.Path)),
            FilesChanged = files.Count(f => parentFiles.TryGetValue(f.Path, out var p) && p.Sha256 != f.Sha256),
            FilesRemoved = parentFiles.Keys.Count(p => !current.Contains(p)),
            ContentsUploaded = uploaded,
            BytesSent = sent,
            Duration = Stopwatch.GetElapsedTime(started),
        };
    }

    /// <summary>The collection's versions on its tier, oldest first.</summary>
    public async IAsyncEnumerable<CollectionVersionInfo> GetVersionsAsync(CollectionDefinition collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var tier = TierOf(collection);
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        foreach (var id in await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false))
        {
            var info = (await LoadManifestAsync(store, collection, id, cancellationToken).ConfigureAwait(false)).ToInfo(tier.Name);
            yield return info with { Age = _workspace.Time.GetUtcNow() - info.CreatedAt };
        }
    }

    /// <summary>The files that differ from version <paramref name="fromVersion"/> (null: the newest) to
    /// <paramref name="toVersion"/>, or to the folder as it is now when that is null. Files whose size and time match are
    /// taken as unchanged; the rest are hashed, so a file only touched is not reported.</summary>
    public async IAsyncEnumerable<CollectionFileChange> CompareAsync(CollectionDefinition collection, string? fromVersion, string? toVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var tier = TierOf(collection);
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var ids = await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false);
        var from = await LoadManifestAsync(store, collection, ResolveVersion(collection, ids, fromVersion), cancellationToken).ConfigureAwait(false);
        IReadOnlyList<CollectionFileEntry> to;
        if (toVersion is not null) to = (await LoadManifestAsync(store, collection, ResolveVersion(collection, ids, toVersion), cancellationToken).ConfigureAwait(false)).Files;
        else
        {
            var root = FolderOf(collection);
            var scanned = Directory.Exists(root) ? CollectionScanner.Scan(root, CollectionFilter.For(collection), out _, cancellationToken) : [];
            var byPath = from.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
            var now = new List<CollectionFileEntry>(scanned.Count);
            foreach (var file in scanned)
            {
                var sha = byPath.TryGetValue(file.Path, out var old) && old.Size == file.Size && old.Modified == file.Modified ? old.Sha256
                    : old is not null && old.Size != file.Size ? "" // differs by size: no need to read it
                    : await TryHashAsync(file.FullPath, cancellationToken).ConfigureAwait(false) ?? "";
                now.Add(new CollectionFileEntry(file.Path, file.Size, file.Modified, file.Mode, sha));
            }
            to = now;
        }
        foreach (var change in Diff(collection.Name, from.Files, to)) yield return change;
    }

    /// <summary>The versions the collection's keep and delete_after_days rules remove from its tier, as planned TierMove
    /// deletes, then the versions its archive_after_days moves to the policy's archive tier (older than that, kept by the
    /// rules, not archived yet, not the newest), as planned Archive steps; nothing when the rules keep every version where it is.</summary>
    public async Task<IReadOnlyList<TierMove>> PlanRetentionAsync(CollectionDefinition collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var tier = TierOf(collection);
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var ids = await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false);
        var now = _workspace.Time.GetUtcNow();
        var kept = CollectionRetentionRules.Keep(ids.Select(id => (id, ParseVersionTime(id))).ToList(), collection.Keep, collection.DeleteAfterDays, now);
        var rule = $"collections[{collection.Name}].keep = {collection.Keep}" + (collection.DeleteAfterDays is { } days ? $", delete_after_days = {days}" : "");
        var plan = ids.Where(id => !kept.ContainsKey(id)).Select(id => new TierMove
        {
            Subject = $"{collection.Name}@{id}",
            Action = TierMoveAction.Delete,
            From = tier.Name,
            Rule = rule,
        }).ToList();
        if (ArchiveTierOf(collection) is { } archiveTier && collection.ArchiveAfterDays is { } archiveDays)
        {
            var cutoff = now.AddDays(-archiveDays);
            foreach (var id in ids.SkipLast(1).Where(id => kept.ContainsKey(id) && ParseVersionTime(id) < cutoff))
            {
                var manifest = await LoadManifestAsync(store, collection, id, cancellationToken).ConfigureAwait(false);
                if (manifest.Archive is not null) continue;
                plan.Add(new TierMove
                {
                    Subject = $"{collection.Name}@{id}",
                    Action = TierMoveAction.Archive,
                    From = tier.Name,
                    To = archiveTier.Name,
                    Rule = $"collections[{collection.Name}].archive_after_days = {archiveDays}",
                    Bytes = manifest.TotalBytes,
                });
            }
        }
        // A run stopped between its deletes or archives and their prune left contents (and bundles) nothing uses: finish it.
        if (File.Exists(PrunePendingPath(tier)))
            plan.Add(new TierMove
            {
                Subject = $"{ContentsPrefix} (the prune a stopped run left unfinished)",
                Action = TierMoveAction.Delete,
                From = tier.Name,
                Rule = PruneRule(collection),
            });
        return plan;
    }

    private static string PruneRule(CollectionDefinition collection) => $"collections[{collection.Name}]: contents of deleted or archived versions";

    /// <summary>Written before a retention run changes anything on the tier, removed once its prune is done.</summary>
    private string PrunePendingPath(TierDefinition tier) =>
        Path.Combine(_workspace.Layout.StagingDirectory, "collections", $"prune-{string.Concat(tier.Name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'))}.pending");

    /// <summary>The policy's archive tier when the collection's versions can move there (it is not the collection's own tier).</summary>
    private TierDefinition? ArchiveTierOf(CollectionDefinition collection) =>
        _workspace.Policy.GetTier(TierLevel.Archive) is { } archive && !string.Equals(archive.Name, TierOf(collection).Name, StringComparison.OrdinalIgnoreCase) ? archive : null;

    /// <summary>Runs the approved steps of <see cref="PlanRetentionAsync"/> under the collections' lock (so no backup is storing
    /// contents its manifest does not name yet): deletes the planned versions (their manifests, then their cached copies);
    /// archives the planned versions (<see cref="CollectionArchiver"/>: bundles built and verified on the archive tier, then
    /// each version's manifest rewritten as archived); then deletes every content on the collection's tier that no version
    /// still there (of any collection of the namespace) points at, and every bundle no archived version names.</summary>
    public async IAsyncEnumerable<TierMove> ApplyRetentionAsync(CollectionDefinition collection, IEnumerable<TierMove> approved, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(approved);
        var tier = TierOf(collection);
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath())!);
        using var collectionLock = await FileLock.AcquireAsync(LockPath(), TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        await using var store = await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
        var ids = (await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var steps = approved.ToList();
        var pruneRequested = steps.Any(m => m.Action == TierMoveAction.Delete && m.Subject.StartsWith(ContentsPrefix, StringComparison.Ordinal));
        steps.RemoveAll(m => m.Subject.StartsWith(ContentsPrefix, StringComparison.Ordinal));
        if (steps.Count > 0) await AtomicFile.WriteAllTextAsync(PrunePendingPath(tier), tier.Name, overwrite: true, cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        foreach (var move in steps.Where(m => m.Action == TierMoveAction.Delete))
        {
            var id = VersionIdOfSubject(move);
            // The newest version is never deleted, whatever the plan says (the plan may be older than a new backup).
            if (!ids.Contains(id) || ids.Count <= 1 || string.CompareOrdinal(id, ids.Max(StringComparer.Ordinal)) == 0)
            {
                yield return move with { State = TierMoveState.Skipped, Message = "Not deleted: the version is gone already, or is the newest." };
                continue;
            }
            await store.DeleteAsync(VersionKey(collection.Name, id), cancellationToken).ConfigureAwait(false);
            AtomicFile.TryDelete(CachePath(collection.Name, id));
            ids.Remove(id);
            deleted++;
            yield return move with { State = TierMoveState.Done };
        }

        var archiveTier = ArchiveTierOf(collection);
        var archiving = steps.Where(m => m.Action == TierMoveAction.Archive).ToList();
        IObjectStore? archive = null;
        try
        {
            var archived = 0;
            if (archiving.Count > 0)
            {
                if (archiveTier is null)
                    throw new TierStorageException(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
                        $"Collection '{collection.Name}' has versions to archive, but the policy names no archive tier (level 3) other than its own.", collection.Name);
                archive = await _workspace.OpenStoreAsync(archiveTier, cancellationToken).ConfigureAwait(false);
                foreach (var move in await ArchiveVersionsAsync(store, tier, archive, archiveTier, collection, archiving, ids, cancellationToken).ConfigureAwait(false))
                {
                    if (move.State == TierMoveState.Done) archived++;
                    yield return move;
                }
            }
            if (deleted == 0 && archived == 0 && !pruneRequested)
            {
                AtomicFile.TryDelete(PrunePendingPath(tier));
                yield break;
            }
            if (archive is null && archiveTier is not null) archive = await _workspace.OpenStoreAsync(archiveTier, cancellationToken).ConfigureAwait(false);
            var pruned = await PruneAsync(store, tier, archive, archiveTier, collection, cancellationToken).ConfigureAwait(false);
            AtomicFile.TryDelete(PrunePendingPath(tier));
            foreach (var move in pruned) yield return move;
        }
        finally
        {
            if (archive is not null) await archive.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string VersionIdOfSubject(TierMove move) => move.Subject[(move.Subject.LastIndexOf('@') + 1)..];

    /// <summary>Archives the approved versions: every content they point at that no verified bundle holds yet is packed into
    /// new bundles (verified on the archive tier, their manifests written after), and only then is each version's manifest on
    /// its tier replaced by one that names its bundles. A run stopped anywhere leaves each version either as it was (its
    /// contents on its tier) or archived with every content in a verified bundle; the rerun reuses what was built.</summary>
    private async Task<List<TierMove>> ArchiveVersionsAsync(IObjectStore store, TierDefinition tier, IObjectStore archive, TierDefinition archiveTier,
        CollectionDefinition collection, List<TierMove> approved, HashSet<string> ids, CancellationToken cancellationToken)
    {
        var results = new List<TierMove>();
        var versions = new List<(TierMove Move, CollectionManifest Manifest)>();
        var newest = ids.Count == 0 ? null : ids.Max(StringComparer.Ordinal);
        foreach (var move in approved)
        {
            var id = VersionIdOfSubject(move);
            if (!ids.Contains(id) || id == newest)
            {
                results.Add(move with { State = TierMoveState.Skipped, Message = "Not archived: the version is gone, or is the newest." });
                continue;
            }
            var manifest = await LoadManifestAsync(store, collection, id, cancellationToken).ConfigureAwait(false);
            if (manifest.Archive is not null) results.Add(move with { State = TierMoveState.Skipped, Message = $"Archived already, on tier '{manifest.Archive.Tier}'." });
            else versions.Add((move, manifest));
        }
        if (versions.Count == 0) return results;

        var (bundles, orphans) = await _archiver.LoadBundlesAsync(archive, archiveTier, cancellationToken).ConfigureAwait(false);
        // Bundle objects without a manifest were left by a build that stopped before it was verified: nothing names them.
        foreach (var orphan in orphans) await archive.DeleteAsync(orphan.Key, cancellationToken).ConfigureAwait(false);
        var bundleOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var bundle in bundles.Values.Where(b => string.Equals(b.SourceTier, tier.Name, StringComparison.OrdinalIgnoreCase)).OrderBy(b => b.BundleId, StringComparer.Ordinal))
            foreach (var member in bundle.Members) bundleOf.TryAdd(member.Sha256, bundle.BundleId);

        var onTier = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync(ContentsPrefix, cancellationToken).ConfigureAwait(false))
            if (ShaOfContentKey(info.Key) is { } sha && info.Size > 0) onTier[sha] = info.Size;
        var needed = new SortedDictionary<string, (long Size, long StoredSize)>(StringComparer.Ordinal);
        var ready = new List<(TierMove Move, CollectionManifest Manifest)>();
        foreach (var (move, manifest) in versions)
        {
            var missing = manifest.Files.FirstOrDefault(f => f.Sha256 != EmptySha256 && !bundleOf.ContainsKey(f.Sha256) && !onTier.ContainsKey(f.Sha256));
            if (missing is not null)
            {
                results.Add(move with { State = TierMoveState.Failed, Message = $"Not archived: tier '{tier.Name}' no longer holds the content of '{missing.Path}' ({ContentKey(missing.Sha256)})." });
                continue;
            }
            foreach (var file in manifest.Files.Where(f => f.Sha256 != EmptySha256 && !bundleOf.ContainsKey(f.Sha256)))
                needed.TryAdd(file.Sha256, (file.Size, onTier[file.Sha256]));
            ready.Add((move, manifest));
        }
        var built = await _archiver.BuildAsync(store, tier, archive, archiveTier, needed.Select(n => (n.Key, n.Value.Size, n.Value.StoredSize)).ToList(), null, collection.Name, cancellationToken).ConfigureAwait(false);
        foreach (var bundle in built)
            foreach (var member in bundle.Members) bundleOf.TryAdd(member.Sha256, bundle.BundleId);

        var archivedAt = _workspace.Time.GetUtcNow();
        foreach (var (move, manifest) in ready)
        {
            var used = manifest.Files.Where(f => f.Sha256 != EmptySha256).Select(f => bundleOf[f.Sha256]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            await StoreManifestAsync(store, manifest.Archived(new CollectionArchiveRecord(archiveTier.Name, archivedAt, used)), cancellationToken).ConfigureAwait(false);
            results.Add(move with { State = TierMoveState.Done, Message = $"In {used.Count} bundle(s) on tier '{archiveTier.Name}' ({built.Count} new)." });
        }
        return results;
    }

    /// <summary>Deletes every content on the collection's tier that no version still on it (of any collection of the
    /// namespace, those no longer in the policy included) points at, and every bundle on the archive tier that no archived
    /// version names. A manifest that cannot be read stops it before anything is deleted.</summary>
    private async Task<List<TierMove>> PruneAsync(IObjectStore store, TierDefinition tier, IObjectStore? archive, TierDefinition? archiveTier,
        CollectionDefinition collection, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal) { EmptySha256 };
        var bundlesNamed = new HashSet<string>(StringComparer.Ordinal);
        var versionKeys = new List<(string Collection, string Id)>();
        await foreach (var info in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            var parts = info.Key.Split('/');
            if (parts is [_, var name, "versions", var file] && CollectionManifest.IsCollectionName(name) && VersionIdOf(file) is { } id)
                versionKeys.Add((name, id));
        }
        foreach (var (name, id) in versionKeys)
        {
            var manifest = await LoadManifestAsync(store, _workspace.Policy.GetCollection(name) ?? new CollectionDefinition { Name = name, Tier = tier.Name }, id, cancellationToken).ConfigureAwait(false);
            if (manifest.Archive is { } archived) bundlesNamed.UnionWith(archived.Bundles);
            else foreach (var file in manifest.Files) referenced.Add(file.Sha256);
        }
        long freed = 0;
        var removed = 0;
        await foreach (var info in store.ListAsync(ContentsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (ShaOfContentKey(info.Key) is not { } sha || referenced.Contains(sha)) continue;
            if (await store.DeleteAsync(info.Key, cancellationToken).ConfigureAwait(false))
            {
                freed += info.Size;
                removed++;
            }
        }
        var moves = new List<TierMove>
        {
            new()
            {
                Subject = $"{ContentsPrefix} ({removed} contents no version points at)",
                Action = TierMoveAction.Delete,
                From = tier.Name,
                Rule = PruneRule(collection),
                State = TierMoveState.Done,
                Bytes = freed,
            },
        };
        if (archive is null || archiveTier is null) return moves;
        // Only bundles of this tier's contents: the versions of another tier (that the scan above did not read) use theirs.
        // Bundle objects without a manifest (a build or a delete that stopped half way) are nobody's.
        var (bundles, orphans) = await _archiver.LoadBundlesAsync(archive, archiveTier, cancellationToken).ConfigureAwait(false);
        var unnamed = bundles.Values.Where(b => string.Equals(b.SourceTier, tier.Name, StringComparison.OrdinalIgnoreCase) && !bundlesNamed.Contains(b.BundleId))
            .Select(b => b.BundleId).Order(StringComparer.Ordinal).ToList();
        if (unnamed.Count == 0 && orphans.Count == 0) return moves;
        long bundleBytes = 0;
        foreach (var id in unnamed) bundleBytes += await _archiver.DeleteAsync(archive, id, cancellationToken).ConfigureAwait(false);
        foreach (var orphan in orphans)
            if (await archive.DeleteAsync(orphan.Key, cancellationToken).ConfigureAwait(false)) bundleBytes += orphan.Size;
        moves.Add(new TierMove
        {
            Subject = $"{CollectionBundle.BundlesPrefix} ({unnamed.Count + orphans.Count} bundles no version names)",
            Action = TierMoveAction.Delete,
            From = archiveTier.Name,
            Rule = $"collections[{collection.Name}]: bundles of deleted versions",
            State = TierMoveState.Done,
            Bytes = bundleBytes,
        });
        return moves;
    }

    internal static IEnumerable<CollectionFileChange> Diff(string collection, IReadOnlyList<CollectionFileEntry> from, IReadOnlyList<CollectionFileEntry> to)
    {
        var old = from.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var current = to.ToDictionary(f => f.Path, StringComparer.Ordinal);
        foreach (var path in old.Keys.Union(current.Keys).Order(StringComparer.Ordinal))
        {
            old.TryGetValue(path, out var before);
            current.TryGetValue(path, out var after);
            CollectionChangeKind? change = before is null ? CollectionChangeKind.Added
                : after is null ? CollectionChangeKind.Removed
                : before.Sha256 != after.Sha256 ? CollectionChangeKind.Changed
                : null;
            if (change is { } kind)
                yield return new CollectionFileChange
                {
                    Collection = collection,
                    Path = path,
                    Change = kind,
                    OldSize = before?.Size,
                    NewSize = after?.Size,
                    OldModified = before?.Modified,
                    NewModified = after?.Modified,
                };
        }
    }

    /// <summary>Restores a version's files, each checked against its SHA-256 before it replaces anything. A file already
    /// holding the version's bytes is left as it is (so a rerun resumes), and one that is newer than the version's and
    /// differs is kept unless <see cref="CollectionRestoreRequest.Force"/>.</summary>
    public async IAsyncEnumerable<CollectionRestoreItem> RestoreAsync(CollectionRestoreRequest request, IProgress<CollectionProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var collection = GetCollection(request.Collection);
        var tier = TierOf(collection);
        var destination = Path.GetFullPath(request.Destination is { } target ? PathExpander.Expand(target, Directory.GetCurrentDirectory()) : FolderOf(collection));
        var globs = request.Paths.Select(p => CollectionGlob.TryParse(p, CollectionGlob.IgnoreCaseByDefault, out var error)
            ?? throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"Path glob '{p}': {error}", p)).ToList();
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var ids = await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false);
        var manifest = await LoadManifestAsync(store, collection, ResolveVersion(collection, ids, request.VersionId), cancellationToken).ConfigureAwait(false);
        var selected = manifest.Files.Where(f => globs.Count == 0 || globs.Any(g => g.IsMatch(f.Path))).ToList();
        var source = FromTier(store);
        IObjectStore? archive = null;
        var thawStaging = Path.Combine(_workspace.Layout.StagingDirectory, "collections", $"thaw-{collection.Name}-{manifest.VersionId}");
        try
        {
            if (manifest.Archive is { } archived)
            {
                // The version's contents are in bundles on the archive tier: the members the selected files need are fetched
                // (thawed first when cold) and read from there, each still checked by its SHA-256 as it is restored.
                var archiveTier = _workspace.Policy.GetTier(archived.Tier) ?? throw new TierStorageException(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
                    $"Version {collection.Name}@{manifest.VersionId} is archived on tier '{archived.Tier}', which the policy no longer names; add it back to restore the version.", archived.Tier);
                archive = await _workspace.OpenStoreForReadingAsync(archiveTier, cancellationToken).ConfigureAwait(false);
                var bundles = new List<CollectionBundle>();
                foreach (var id in archived.Bundles) bundles.Add(await _archiver.ReadBundleAsync(archive, archiveTier, id, cancellationToken).ConfigureAwait(false));
                var needed = selected.Where(f => f.Sha256 != EmptySha256).Select(f => f.Sha256).ToHashSet(StringComparer.Ordinal);
                var (members, thawing) = await _archiver.FetchAsync(archive, archiveTier, bundles, needed, manifest, thawStaging, request.Retrieval, cancellationToken).ConfigureAwait(false);
                foreach (var item in thawing) yield return item;
                if (thawing.Count > 0) yield break;
                source = (file, _, _) => members.TryGetValue(file.Sha256, out var path) ? Task.FromResult(path)
                    : throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
                        $"No bundle of {collection.Name}@{manifest.VersionId} on tier '{archiveTier.Name}' holds the content of '{file.Path}'.", file.Path);
            }
            await foreach (var item in RestoreFilesAsync(collection, manifest, selected, source, destination, request.Force, progress, cancellationToken).ConfigureAwait(false))
                yield return item;
        }
        finally
        {
            if (archive is not null) await archive.DisposeAsync().ConfigureAwait(false);
            if (Directory.Exists(thawStaging)) Directory.Delete(thawStaging, recursive: true);
        }
    }

    private async IAsyncEnumerable<CollectionRestoreItem> RestoreFilesAsync(CollectionDefinition collection, CollectionManifest manifest, List<CollectionFileEntry> selected,
        ContentSource source, string destination, bool force, IProgress<CollectionProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var total = selected.Sum(f => f.Size);
        long done = 0;
        var results = System.Threading.Channels.Channel.CreateBounded<CollectionRestoreItem>(64);
        var work = Task.Run(async () =>
        {
            try
            {
                await Parallel.ForEachAsync(selected, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (file, ct) =>
                {
                    var item = await RestoreFileAsync(source, manifest, file, destination, force, ct).ConfigureAwait(false);
                    progress?.Report(new CollectionProgress(collection.Name, "Restoring", Interlocked.Add(ref done, file.Size), total));
                    await results.Writer.WriteAsync(item, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
                results.Writer.Complete();
            }
            catch (Exception ex)
            {
                results.Writer.Complete(ex);
            }
        }, cancellationToken);
        await foreach (var item in results.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)) yield return item;
        await work.ConfigureAwait(false);
    }

    private static async Task<CollectionRestoreItem> RestoreFileAsync(ContentSource source, CollectionManifest manifest, CollectionFileEntry file, string destination, bool force, CancellationToken cancellationToken)
    {
        var item = new CollectionRestoreItem { Collection = manifest.Collection, VersionId = manifest.VersionId, Path = file.Path, Size = file.Size };
        if (OperatingSystem.IsWindows() && (file.Path.Contains(':', StringComparison.Ordinal) || file.Path.Contains('\\', StringComparison.Ordinal)))
            return item with { Action = CollectionRestoreAction.Failed, Message = "The name holds ':' or '\\', which Windows cannot use in a file name." };
        var target = Path.GetFullPath(Path.Combine(destination, file.Path.Replace('/', Path.DirectorySeparatorChar)));
        if (!target.StartsWith(Path.TrimEndingDirectorySeparator(destination) + Path.DirectorySeparatorChar, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            return item with { Action = CollectionRestoreAction.Failed, Message = "The path leads outside the destination; refused." };
        item = item with { Destination = target };
        if (LinkOnTheWay(destination, target) is { } link)
            return item with { Action = CollectionRestoreAction.Failed, Message = $"'{link}' is a symbolic link or junction: the file would be written where it points, outside the destination; refused." };
        try
        {
            if (File.Exists(target))
            {
                var existing = new FileInfo(target);
                if (existing.Length == file.Size && await TryHashAsync(target, cancellationToken).ConfigureAwait(false) == file.Sha256)
                {
                    ApplyMetadata(target, file);
                    return item with { Action = CollectionRestoreAction.Identical };
                }
                if (!force && new DateTimeOffset(existing.LastWriteTimeUtc, TimeSpan.Zero) > file.Modified)
                    return item with { Action = CollectionRestoreAction.SkippedNewer, Message = "The file here is newer than the version's and differs from it; kept (use -Force to replace it)." };
            }
            else if (Directory.Exists(target))
                return item with { Action = CollectionRestoreAction.Failed, Message = "A folder of that name is in the way." };
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            RemoveStaleTemporaries(target);
            var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tsrestore");
            try
            {
                await DownloadContentAsync(source, file, temp, cancellationToken).ConfigureAwait(false);
                ApplyMetadata(temp, file);
                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                AtomicFile.TryDelete(temp);
            }
            return item with { Action = CollectionRestoreAction.Restored };
        }
        catch (TierStorageException ex) when (ex.ErrorId is ErrorIds.ObjectNotFound or ErrorIds.ChecksumMismatch or ErrorIds.InvalidManifest)
        {
            return item with { Action = CollectionRestoreAction.Failed, Message = ex.Message };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return item with { Action = CollectionRestoreAction.Failed, Message = ex.Message };
        }
    }

    /// <summary>The first folder between <paramref name="destination"/> and <paramref name="target"/> (or the target itself)
    /// that is a link, or null: a restore writes only inside its destination (invariant 8).</summary>
    private static string? LinkOnTheWay(string destination, string target)
    {
        var root = Path.TrimEndingDirectorySeparator(destination);
        for (var path = target; path.Length > root.Length; path = Path.GetDirectoryName(path)!)
        {
            var info = new FileInfo(path);
            if (info.Exists || Directory.Exists(path))
                if ((File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0) return path;
        }
        return null;
    }

    /// <summary>Where a restore takes a content's gzip from: the path of a local .gz holding it (downloaded into
    /// <c>scratch</c>, or already extracted from a bundle).</summary>
    private delegate Task<string> ContentSource(CollectionFileEntry file, string scratch, CancellationToken cancellationToken);

    /// <summary>A content from the collection's tier, downloaded into the scratch path.</summary>
    private static ContentSource FromTier(IObjectStore store) => async (file, scratch, cancellationToken) =>
    {
        await using var download = new FileStream(scratch, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await store.GetAsync(ContentKey(file.Sha256), download, 0, null, cancellationToken).ConfigureAwait(false);
        return scratch;
    };

    /// <summary>Gets a content's gzip from <paramref name="source"/>, gunzips it to <paramref name="target"/> no further than
    /// the file's size, and checks its SHA-256.</summary>
    private static async Task DownloadContentAsync(ContentSource source, CollectionFileEntry file, string target, CancellationToken cancellationToken)
    {
        if (file.Sha256 == EmptySha256 && file.Size == 0)
        {
            await File.WriteAllBytesAsync(target, [], cancellationToken).ConfigureAwait(false);
            return;
        }
        var scratch = target + ".gz";
        try
        {
            var compressed = await source(file, scratch, cancellationToken).ConfigureAwait(false);
            await using var input = new FileStream(compressed, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await GunzipVerifiedAsync(input, file.Sha256, file.Size, output, $"The stored content of '{file.Path}' ({ContentKey(file.Sha256)})", cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            output.Flush(flushToDisk: true);
        }
        finally
        {
            AtomicFile.TryDelete(scratch);
        }
    }

    /// <summary>Gunzips <paramref name="gzip"/> (into <paramref name="output"/> when given), reading no more than
    /// <paramref name="size"/> bytes and one past, and checks that it unpacks to exactly <paramref name="size"/> bytes with
    /// SHA-256 <paramref name="sha256"/>; ErrorIds.ChecksumMismatch naming <paramref name="what"/> otherwise.</summary>
    internal static async Task GunzipVerifiedAsync(Stream gzip, string sha256, long size, Stream? output, string what, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        await using (var inflate = new GZipStream(gzip, CompressionMode.Decompress, leaveOpen: true))
        {
            var buffer = new byte[1 << 16];
            int read;
            try
            {
                while ((read = await inflate.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    written += read;
                    if (written > size) break;
                    sha.AppendData(buffer.AsSpan(0, read));
                    if (output is not null) await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (InvalidDataException ex)
            {
                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData, $"{what} is not valid gzip data; refused.", what, ex);
            }
        }
        var actual = ChecksumStream.Hex(sha.GetHashAndReset());
        if (written != size || actual != sha256)
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"{what} does not match the version: {(written != size ? $"{(written > size ? "more than" : "only")} {Math.Min(written, size + 1)} bytes instead of {size}" : "its SHA-256 differs")}; refused.", what);
    }

    private static void ApplyMetadata(string path, CollectionFileEntry file)
    {
        if (file.Mode is { } mode && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)mode);
        File.SetLastWriteTimeUtc(path, file.Modified.UtcDateTime);
    }

    private sealed record StoredContent(string Sha256, long Size, DateTimeOffset Modified, long StoredBytes);

    /// <summary>Reads the file once, hashing and gzipping it (in memory, or in staging when large), and stores the gzip
    /// under the hash unless the tier holds that content already (<paramref name="known"/>); the put is checked against the
    /// size and MD5 the tier reports. A file whose first 64 KiB do not shrink (media, archives, random data) is stored in
    /// gzip's stored blocks: deflate would spend the CPU and gain nothing.</summary>
    private static async Task<StoredContent> StoreContentAsync(IObjectStore store, ScannedFile file, CompressionLevel level, string staging,
        ConcurrentDictionary<string, byte> known, CancellationToken cancellationToken)
    {
        string? tempPath = null;
        Stream buffer;
        if (file.Size <= InMemoryContentLimit) buffer = new MemoryStream();
        else
        {
            Directory.CreateDirectory(staging);
            tempPath = Path.Combine(staging, Guid.NewGuid().ToString("N") + ".gz");
            buffer = new FileStream(tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        }
        await using (buffer)
        {
            FileChecksum compressed;
            string sha;
            long size;
            DateTimeOffset modified;
            await using (var input = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                var chunk = new byte[1 << 16];
                var read = await input.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read >= 4096 && !Shrinks(chunk.AsSpan(0, read))) level = CompressionLevel.NoCompression;
                var checksum = new ChecksumStream(buffer, leaveOpen: true);
                await using (checksum.ConfigureAwait(false))
                {
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    await using (var gzip = new GZipStream(checksum, level, leaveOpen: true))
                    {
                        size = 0;
                        while (read > 0)
                        {
                            hash.AppendData(chunk.AsSpan(0, read));
                            size += read;
                            await gzip.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                            read = await input.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    sha = ChecksumStream.Hex(hash.GetHashAndReset());
                    compressed = checksum.GetChecksum();
                }
                modified = new DateTimeOffset(File.GetLastWriteTimeUtc(file.FullPath), TimeSpan.Zero);
            }
            if (known.ContainsKey(sha)) return new StoredContent(sha, size, modified, 0);
            buffer.Position = 0;
            var key = ContentKey(sha);
            var info = await store.PutAsync(key, buffer, new PutOptions { ExpectedMd5 = compressed.Md5, ContentType = "application/gzip" }, cancellationToken).ConfigureAwait(false);
            if (info.Size != compressed.Size || (info.Md5 is { } md5 && !string.Equals(md5, compressed.Md5, StringComparison.OrdinalIgnoreCase)))
                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                    $"The tier reports {info.Size} bytes{(info.Md5 is null ? "" : $" with MD5 {info.Md5}")} for {key}, but {compressed.Size} bytes with MD5 {compressed.Md5} were sent; the version was not recorded. Run the backup again.", key);
            known.TryAdd(sha, 0);
            return new StoredContent(sha, size, modified, compressed.Size);
        }
    }

    /// <summary>Whether deflate's fastest level takes a tenth off the sample.</summary>
    private static bool Shrinks(ReadOnlySpan<byte> sample)
    {
        using var probe = new MemoryStream(sample.Length + 64);
        using (var deflate = new DeflateStream(probe, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(sample);
        return probe.Length < sample.Length * 9L / 10;
    }

    private async Task<long> StoreManifestAsync(IObjectStore store, CollectionManifest manifest, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await manifest.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        var md5 = ChecksumStream.Hex(MD5.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
        buffer.Position = 0;
        var key = VersionKey(manifest.Collection, manifest.VersionId);
        var info = await store.PutAsync(key, buffer, new PutOptions { ExpectedMd5 = md5, ContentType = "application/gzip", StorageClass = "STANDARD" }, cancellationToken).ConfigureAwait(false);
        if (info.Size != buffer.Length || (info.Md5 is { } reported && !string.Equals(reported, md5, StringComparison.OrdinalIgnoreCase)))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"The tier reports {info.Size} bytes for {key}, but {buffer.Length} were sent; run the backup again.", key);
        await CacheManifestAsync(manifest.Collection, manifest.VersionId, buffer.ToArray(), cancellationToken).ConfigureAwait(false);
        return buffer.Length;
    }

    /// <summary>A version's manifest: from the workspace's cache when it has it, else downloaded (and cached).</summary>
    private async Task<CollectionManifest> LoadManifestAsync(IObjectStore store, CollectionDefinition collection, string versionId, CancellationToken cancellationToken)
    {
        var cached = CachePath(collection.Name, versionId);
        if (File.Exists(cached))
        {
            try
            {
                await using var input = File.OpenRead(cached);
                return await CollectionManifest.ReadAsync(input, collection.Name, versionId, cached, cancellationToken).ConfigureAwait(false);
            }
            catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.InvalidManifest)
            {
                AtomicFile.TryDelete(cached); // a damaged cache copy: read the tier's
            }
        }
        var key = VersionKey(collection.Name, versionId);
        using var buffer = new MemoryStream();
        await store.GetAsync(key, new BoundedWriteStream(buffer, CollectionManifest.MaxJsonBytes, key), 0, null, cancellationToken).ConfigureAwait(false);
        buffer.Position = 0;
        var manifest = await CollectionManifest.ReadAsync(buffer, collection.Name, versionId, $"{TierOf(collection).Name}:{key}", cancellationToken).ConfigureAwait(false);
        await CacheManifestAsync(collection.Name, versionId, buffer.ToArray(), cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    private Task CacheManifestAsync(string collection, string versionId, byte[] bytes, CancellationToken cancellationToken)
    {
        var path = CachePath(collection, versionId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return AtomicFile.WriteAsync(path, overwrite: true, (stream, ct) => stream.WriteAsync(bytes, ct).AsTask(), cancellationToken);
    }

    private async Task<IReadOnlyList<string>> ListVersionIdsAsync(CollectionDefinition collection, CancellationToken cancellationToken)
    {
        await using var store = await _workspace.OpenStoreForReadingAsync(TierOf(collection), cancellationToken).ConfigureAwait(false);
        return await ListVersionIdsAsync(store, collection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The ids of the versions on the tier, oldest first; keys that are not a version's are ignored.</summary>
    private static async Task<IReadOnlyList<string>> ListVersionIdsAsync(IObjectStore store, CollectionDefinition collection, CancellationToken cancellationToken)
    {
        var prefix = VersionsPrefix(collection.Name);
        var ids = new List<string>();
        await foreach (var info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (VersionIdOf(info.Key[prefix.Length..]) is { } id) ids.Add(id);
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    /// <summary>The version id a file name under a collection's versions/ names ("&lt;id&gt;.json.gz"), or null.</summary>
    private static string? VersionIdOf(string fileName) =>
        fileName.EndsWith(".json.gz", StringComparison.Ordinal) && fileName[..^".json.gz".Length] is var id && CollectionManifest.IsVersionId(id) ? id : null;

    /// <summary>The SHA-256 a key names when it is exactly a content's key (<see cref="ContentKey"/>), or null.</summary>
    private static string? ShaOfContentKey(string key) =>
        key.EndsWith(".gz", StringComparison.Ordinal) && key[(key.LastIndexOf('/') + 1)..^3] is var sha && CollectionManifest.IsSha256(sha) && key == ContentKey(sha) ? sha : null;

    /// <summary>The SHA-256 of every content the tier holds (its key names them).</summary>
    private static async Task<HashSet<string>> ListContentsAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync(ContentsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (ShaOfContentKey(info.Key) is { } sha && info.Size > 0) known.Add(sha);
        }
        return known;
    }

    private static string ResolveVersion(CollectionDefinition collection, IReadOnlyList<string> ids, string? requested)
    {
        if (ids.Count == 0)
            throw new TierStorageException(ErrorIds.CollectionVersionNotFound, TierErrorKind.ObjectNotFound,
                $"Collection '{collection.Name}' has no version yet; take one with Backup-Collection.", collection.Name);
        if (requested is null or "latest") return ids[^1];
        var matches = ids.Where(id => id.StartsWith(requested, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count == 1 ? matches[0]
            : throw new TierStorageException(ErrorIds.CollectionVersionNotFound, TierErrorKind.ObjectNotFound,
                matches.Count == 0 ? $"Collection '{collection.Name}' has no version '{requested}'; Get-CollectionVersion lists them."
                : $"'{requested}' names {matches.Count} versions of collection '{collection.Name}'; give more of the id.", requested);
    }

    private static DateTimeOffset ParseVersionTime(string versionId) =>
        DateTimeOffset.ParseExact(versionId[..19], "yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

    /// <summary>A restore killed part way leaves its hidden temporary beside the file (".name.&lt;guid&gt;.tsrestore"); the
    /// rerun removes those no process has written to for ten minutes (a live download writes all the time).</summary>
    private static void RemoveStaleTemporaries(string target)
    {
        var folder = new DirectoryInfo(Path.GetDirectoryName(target)!);
        var cutoff = DateTime.UtcNow.AddMinutes(-10);
        try
        {
            foreach (var stale in folder.EnumerateFiles($".{Path.GetFileName(target)}.*.tsrestore"))
                if (stale.LastWriteTimeUtc < cutoff && (stale.Attributes & FileAttributes.ReparsePoint) == 0) AtomicFile.TryDelete(stale.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next run: a temporary costs disk, never data.
        }
    }

    private static async Task<string?> TryHashAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return ChecksumStream.Hex(await SHA256.HashDataAsync(input, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>One lock for every collection of the workspace: a backup stores contents before the manifest that names
    /// them, and the prune that follows a retention deletes contents no manifest names, so the two never run at once.</summary>
    private string LockPath() => Path.Combine(_workspace.Layout.StagingDirectory, "collections", "collections.lock");

    private string StagingFor(string collection) => Path.Combine(_workspace.Layout.StagingDirectory, "collections", collection);

    private string CachePath(string collection, string versionId) => Path.Combine(_workspace.Root, "collections", collection, versionId + ".json.gz");

    /// <summary>Refuses more than a bound of bytes from a download (a manifest or bundle read from a tier is untrusted).</summary>
    internal sealed class BoundedWriteStream(Stream inner, long limit, string source, string errorId = ErrorIds.InvalidManifest) : WriteOnlyStream(inner)
    {
        private long _written;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _written += buffer.Length;
            if (_written > limit)
                throw new TierStorageException(errorId, TierErrorKind.InvalidData, $"'{source}' is larger than {limit} bytes; refused.", source);
            Inner.Write(buffer);
        }
    }
}
