using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Collections;

/// <summary>
/// Archiving collection versions to the policy's archive tier (issue 13: "versions archived to Tier 3 after N days").
/// The contents of the versions are packed into tar.gz bundles (Deep Archive bills about 40 KB of overhead per object, so
/// never one object per file) of up to <see cref="CollectionOperations.BundleBytesLimit"/> each, every content once across
/// all bundles of the namespace: a content already in a bundle is not packed again, so a nightly version of an unchanged
/// folder adds nothing to the archive. The members are the gzip objects exactly as Tier 2 holds them (<c>&lt;sha256&gt;.gz</c>):
/// they were compressed once at backup (deflating them again gains nothing and costs the CPU), each is checked by its
/// content's SHA-256 on its way in, and a restore reads one back through the same gunzip-and-verify path as a Tier 2 content.
/// The outer gzip stores the large ones (as a phase archive stores its .gz members) and deflates the small ones with their
/// tar headers, so the bundle is a plain tar.gz any tool opens.
/// Each bundle is verified on the archive tier (size and MD5 as the tier reports them) before its manifest is written, and
/// the versions are marked archived only once every content they point at is in a verified bundle; Tier 2 copies go
/// afterwards, in the prune of <see cref="CollectionOperations.ApplyRetentionAsync"/>.
/// </summary>
internal sealed class CollectionArchiver(TierWorkspace workspace, CollectionOperations operations)
{
    /// <summary>Members a bundle takes at most: keeps its manifest (read back whole) to a few tens of MB.</summary>
    public const int MaxMembersPerBundle = 100_000;
    /// <summary>Tar header and padding per member, at most (ustar: one 512-byte header, up to 511 bytes of padding).</summary>
    private const long TarOverheadPerMember = 1024;
    /// <summary>Members this large go into the bundle in gzip's stored blocks (one deflate block of the outer gzip is 1 MiB).</summary>
    private const long StoredMemberBytes = ParallelGzipStream.DefaultBlockSize;

    /// <summary>The verified bundles of the archive tier by id (their manifests from the workspace's cache when it has them),
    /// and the bundle objects no manifest describes (left by a build that stopped before its manifest was written).</summary>
    public async Task<(Dictionary<string, CollectionBundle> Bundles, List<ObjectInfo> Orphans)> LoadBundlesAsync(IObjectStore archive, TierDefinition archiveTier, CancellationToken cancellationToken)
    {
        var objects = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        var manifests = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var info in archive.ListAsync(CollectionBundle.BundlesPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (CollectionBundle.ParseKey(info.Key) is not { } key) continue;
            if (key.IsManifest) manifests.Add(key.Id);
            else objects[key.Id] = info;
        }
        var bundles = new Dictionary<string, CollectionBundle>(StringComparer.Ordinal);
        foreach (var id in manifests.Order(StringComparer.Ordinal))
        {
            // A manifest whose bundle is gone or differs in size vouches for nothing: its contents are not counted as archived.
            if (!objects.TryGetValue(id, out var stored)) continue;
            var bundle = await ReadBundleAsync(archive, archiveTier, id, cancellationToken).ConfigureAwait(false);
            if (stored.Size == bundle.Size) bundles[id] = bundle;
            else workspace.Warn($"Bundle '{bundle.ArchiveKey}' on tier '{archiveTier.Name}' is {stored.Size:N0} bytes, its manifest says {bundle.Size:N0}: its contents are archived again.");
        }
        return (bundles, objects.Where(o => !manifests.Contains(o.Key)).Select(o => o.Value).ToList());
    }

    /// <summary>A bundle's manifest: from the workspace's cache (written when the bundle was built or first read), else the tier's, bounded and validated.</summary>
    public async Task<CollectionBundle> ReadBundleAsync(IObjectStore archive, TierDefinition archiveTier, string id, CancellationToken cancellationToken)
    {
        var cached = CachePath(id);
        if (File.Exists(cached))
        {
            try
            {
                return CollectionBundle.Parse(await File.ReadAllBytesAsync(cached, cancellationToken).ConfigureAwait(false), id, cached);
            }
            catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.InvalidManifest)
            {
                AtomicFile.TryDelete(cached); // a damaged cache copy: read the tier's
            }
        }
        var key = CollectionBundle.ManifestKeyFor(id);
        using var buffer = new MemoryStream();
        await archive.GetAsync(key, new CollectionOperations.BoundedWriteStream(buffer, CollectionBundle.MaxJsonBytes, key), 0, null, cancellationToken).ConfigureAwait(false);
        var bundle = CollectionBundle.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), id, $"{archiveTier.Name}:{key}");
        await CacheAsync(id, buffer.ToArray(), cancellationToken).ConfigureAwait(false);
        return bundle;
    }

    /// <summary>Packs the contents (sha256 → size) into new bundles on the archive tier, each verified there before its
    /// manifest (STANDARD class) is written; returns them.</summary>
    public async Task<List<CollectionBundle>> BuildAsync(IObjectStore contents, TierDefinition contentsTier, IObjectStore archive, TierDefinition archiveTier,
        IReadOnlyList<(string Sha256, long Size, long StoredSize)> needed, IProgress<CollectionProgress>? progress, string collection, CancellationToken cancellationToken)
    {
        var built = new List<CollectionBundle>();
        var staging = Path.Combine(workspace.Layout.StagingDirectory, "collections", "bundles");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            var total = needed.Sum(n => n.StoredSize);
            long done = 0;
            var batch = new List<(string Sha256, long Size, long StoredSize)>();
            long batchBytes = 0;
            foreach (var content in needed.Append((Sha256: "", Size: 0L, StoredSize: 0L)))
            {
                var last = content.Sha256.Length == 0;
                if (batch.Count > 0 && (last || batchBytes + content.StoredSize > operations.BundleBytesLimit || batch.Count == MaxMembersPerBundle))
                {
                    built.Add(await BuildOneAsync(contents, contentsTier, archive, archiveTier, batch, staging, cancellationToken).ConfigureAwait(false));
                    done += batchBytes;
                    progress?.Report(new CollectionProgress(collection, "Archiving", done, total));
                    batch.Clear();
                    batchBytes = 0;
                }
                if (last) break;
                batch.Add(content);
                batchBytes += content.StoredSize;
            }
        }
        finally
        {
            try
            {
                Directory.Delete(staging, recursive: true);
            }
            catch (IOException)
            {
                // Staging is swept at the next build; the result stands.
            }
        }
        return built;
    }

    private async Task<CollectionBundle> BuildOneAsync(IObjectStore contents, TierDefinition contentsTier, IObjectStore archive, TierDefinition archiveTier,
        List<(string Sha256, long Size, long StoredSize)> batch, string staging, CancellationToken cancellationToken)
    {
        var createdAt = workspace.Time.GetUtcNow();
        var id = CollectionManifest.NewVersionId(createdAt);
        var path = Path.Combine(staging, id + ".tar.gz");
        var piece = Path.Combine(staging, "piece.gz");
        var members = new List<CollectionBundleMember>(batch.Count);
        FileChecksum sum;
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await using var sums = new ChecksumStream(output, leaveOpen: true);
            await using (var gzip = new ParallelGzipStream(sums, workspace.Policy.Backup.CompressionLevel, leaveOpen: true))
            {
                await using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true))
                {
                    foreach (var (sha, size, _) in batch)
                    {
                        var key = CollectionOperations.ContentKey(sha);
                        // A folder tier's object is read where it is; any other tier's is downloaded once. Either way it is read
                        // twice: to check that it unpacks to the content its name says, then into the tar (hashed again, so
                        // what went in is what was checked).
                        var inPlace = contents as IInPlaceReadStore;
                        if (inPlace is null)
                        {
                            await using var download = new FileStream(piece, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                            await contents.GetAsync(key, download, 0, null, cancellationToken).ConfigureAwait(false);
                        }
                        string checkedSha;
                        long storedSize;
                        await using (var source = inPlace is null ? File.OpenRead(piece) : await inPlace.OpenReadAsync(key, cancellationToken).ConfigureAwait(false))
                        {
                            storedSize = source.Length;
                            await using var hashed = new ChecksumReadStream(source, leaveOpen: true, md5: false);
                            await CollectionOperations.GunzipVerifiedAsync(hashed, sha, size, null, $"{contentsTier.Name}:{key}", cancellationToken).ConfigureAwait(false);
                            checkedSha = hashed.GetChecksum().Sha256;
                        }
                        // Every member is gzip already: a large one is stored, not deflated again (it would spend the CPU and gain
                        // nothing). Small ones are deflated with their tar headers and padding, mostly zeros, which otherwise
                        // cost a kilobyte a file; switching per member would cut a block for each.
                        await gzip.SetStoredAsync(storedSize >= StoredMemberBytes, cancellationToken).ConfigureAwait(false);
                        await using (var source = inPlace is null ? File.OpenRead(piece) : await inPlace.OpenReadAsync(key, cancellationToken).ConfigureAwait(false))
                        {
                            await using var data = new ChecksumReadStream(new ExactLengthReadStream(source, storedSize), leaveOpen: true, md5: false);
                            await tar.WriteEntryAsync(new UstarTarEntry(TarEntryType.RegularFile, sha + ".gz") { DataStream = data, ModificationTime = createdAt }, cancellationToken).ConfigureAwait(false);
                            var written = data.GetChecksum();
                            if (written.Size != storedSize || written.Sha256 != checkedSha)
                                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                                    $"'{key}' on tier '{contentsTier.Name}' changed while it was archived; nothing was archived from it. Run Move-DataTier again.", key);
                        }
                        members.Add(new CollectionBundleMember(sha, size, storedSize, checkedSha));
                    }
                }
                await gzip.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            sum = sums.GetChecksum();
        }
        AtomicFile.TryDelete(piece);

        var bundle = new CollectionBundle { BundleId = id, SourceTier = contentsTier.Name, CreatedAt = createdAt, Size = sum.Size, Md5 = sum.Md5, Sha256 = sum.Sha256, Members = members };
        await using (var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            await archive.PutAsync(bundle.ArchiveKey, content, new PutOptions { ExpectedMd5 = sum.Md5, ContentType = "application/gzip" }, cancellationToken).ConfigureAwait(false);
        // Verified as the tier holds it now, not as the put answered: what a later restore will get.
        var stored = await archive.StatAsync(bundle.ArchiveKey, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Size != sum.Size || (stored.Md5 is { } md5 && !string.Equals(md5, sum.Md5, StringComparison.OrdinalIgnoreCase)))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"Tier '{archiveTier.Name}' does not report '{bundle.ArchiveKey}' as the {sum.Size:N0} bytes with MD5 {sum.Md5} that were sent; no version was archived into it and Tier 2 keeps every content.", bundle.ArchiveKey);
        File.Delete(path);

        var json = bundle.ToUtf8Json();
        var jsonMd5 = ChecksumStream.Hex(MD5.HashData(json));
        var info = await archive.PutAsync(bundle.ManifestKey, new MemoryStream(json), new PutOptions { ExpectedMd5 = jsonMd5, ContentType = "application/json", StorageClass = "STANDARD" }, cancellationToken).ConfigureAwait(false);
        if (info.Size != json.Length || (info.Md5 is { } reported && !string.Equals(reported, jsonMd5, StringComparison.OrdinalIgnoreCase)))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData, $"Tier '{archiveTier.Name}' reports '{bundle.ManifestKey}' differently from what was sent.", bundle.ManifestKey);
        await CacheAsync(id, json, cancellationToken).ConfigureAwait(false);
        return bundle;
    }

    /// <summary>
    /// Makes the members <paramref name="needed"/> of an archived version readable as local files (sha256 → path of its .gz):
    /// each bundle is downloaded, checked whole against its manifest's size and SHA-256, and only the members needed are
    /// extracted (safely: names, sizes and total bounded by the manifest), each checked against its own SHA-256. A bundle
    /// in a cold storage class is thawed first: the thaw is requested once (and recorded), and the bundles not readable yet
    /// come back in the second list with when to return and what it costs, and nothing is extracted.
    /// </summary>
    public async Task<(Dictionary<string, string> Members, List<CollectionRestoreItem> Thawing)> FetchAsync(IObjectStore archive, TierDefinition archiveTier,
        IReadOnlyList<CollectionBundle> bundles, IReadOnlySet<string> needed, CollectionManifest version, string staging, ArchiveRetrievalTier retrieval, CancellationToken cancellationToken)
    {
        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        var thawing = new List<CollectionRestoreItem>();
        var used = bundles.Where(b => b.Members.Any(m => needed.Contains(m.Sha256))).ToList();
        if (archive is IArchiveStore cold)
            foreach (var bundle in used)
            {
                var status = await cold.GetRestoreStatusAsync(bundle.ArchiveKey, cancellationToken).ConfigureAwait(false);
                if (!status.IsReadable) thawing.Add(await ThawAsync(cold, archiveTier, bundle, version, status, retrieval, cancellationToken).ConfigureAwait(false));
            }
        if (thawing.Count > 0) return (members, thawing);

        Directory.CreateDirectory(staging);
        foreach (var bundle in used)
        {
            var download = Path.Combine(staging, bundle.BundleId + ".tar.gz");
            // No further than the manifest's size: what the tier sends is untrusted until its SHA-256 matches.
            await using (var output = new FileStream(download, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                await archive.GetAsync(bundle.ArchiveKey, new CollectionOperations.BoundedWriteStream(output, bundle.Size, $"{archiveTier.Name}:{bundle.ArchiveKey}", ErrorIds.ChecksumMismatch), 0, null, cancellationToken).ConfigureAwait(false);
            var sum = await ChecksumStream.ComputeAsync(download, cancellationToken).ConfigureAwait(false);
            if (sum.Size != bundle.Size || sum.Sha256 != bundle.Sha256)
                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                    $"The bundle '{bundle.ArchiveKey}' on tier '{archiveTier.Name}' is not what its manifest records ({(sum.Size != bundle.Size ? $"{sum.Size:N0} bytes instead of {bundle.Size:N0}" : "its SHA-256 differs")}); refused, nothing of {version.Collection}@{version.VersionId} was restored from it.",
                    bundle.ArchiveKey);
            var wanted = bundle.Members.Where(m => needed.Contains(m.Sha256) && !members.ContainsKey(m.Sha256)).ToList();
            var names = wanted.Select(m => m.MemberName).ToHashSet(StringComparer.Ordinal);
            var into = Path.Combine(staging, bundle.BundleId);
            await SafeExtractor.ExtractTarGzAsync(download, into, new ExtractionOptions
            {
                Expected = wanted.Select(m => new PackagedEntry(m.MemberName, m.StoredSize)).ToList(),
                Select = names.Contains,
                MaxTotalBytes = bundle.Members.Sum(m => m.StoredSize) + TarOverheadPerMember * bundle.Members.Count,
                Overwrite = true,
            }, cancellationToken).ConfigureAwait(false);
            File.Delete(download);
            foreach (var member in wanted)
            {
                var path = Path.Combine(into, member.MemberName);
                var memberSum = await ChecksumStream.ComputeAsync(path, cancellationToken).ConfigureAwait(false);
                if (memberSum.Size != member.StoredSize || memberSum.Sha256 != member.StoredSha256)
                    throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                        $"The member '{member.MemberName}' of bundle '{bundle.ArchiveKey}' on tier '{archiveTier.Name}' is not what the bundle's manifest records; refused.", bundle.ArchiveKey);
                members[member.Sha256] = path;
            }
        }
        return (members, thawing);
    }

    /// <summary>Prices and requests (once) the thaw of a cold bundle, and says when to come back: as a phase archive's
    /// (BackupOperations.ThawAsync), with the same catalog record of the request.</summary>
    private async Task<CollectionRestoreItem> ThawAsync(IArchiveStore store, TierDefinition tier, CollectionBundle bundle, CollectionManifest version,
        ArchiveRestoreStatus status, ArchiveRetrievalTier retrieval, CancellationToken cancellationToken)
    {
        var key = bundle.ArchiveKey;
        var recorded = await workspace.Catalog.GetThawAsync(tier.Name, key, cancellationToken).ConfigureAwait(false);
        if (status.State != ArchiveRestoreState.InProgress || recorded is null)
        {
            var pricing = workspace.Policy.Pricing;
            var perGb = retrieval == ArchiveRetrievalTier.Bulk ? pricing.ArchiveBulkRetrievalPerGb : pricing.ArchiveStandardRetrievalPerGb;
            var hours = retrieval == ArchiveRetrievalTier.Bulk ? 48 : 12;
            await store.RequestRestoreAsync(key, Backup.BackupOperations.ThawDays, retrieval, cancellationToken).ConfigureAwait(false);
            var now = workspace.Time.GetUtcNow();
            recorded = new ThawRequest(tier.Name, key, now, retrieval.ToString(), now.AddHours(hours), Math.Round(bundle.Size / 1_000_000_000m * perGb, 4));
            await workspace.Catalog.RecordThawAsync(recorded, cancellationToken).ConfigureAwait(false);
        }
        return new CollectionRestoreItem
        {
            Collection = version.Collection, VersionId = version.VersionId, Path = key, Size = bundle.Size, Action = CollectionRestoreAction.Thawing,
            ReadyAfter = recorded.ReadyAfter, ThawCostUsd = recorded.CostUsd,
            Message = $"'{key}' is in {status.StorageClass}: a {recorded.RetrievalTier} thaw was requested at {recorded.RequestedAt:u} (about ${recorded.CostUsd:0.00}); run Restore-Collection again after {recorded.ReadyAfter:u}.",
        };
    }

    /// <summary>Removes a bundle: its manifest first, so a bundle is never described by a manifest while it is half gone
    /// (a bundle object left without one is removed by the next archive).</summary>
    public async Task<long> DeleteAsync(IObjectStore archive, string id, CancellationToken cancellationToken)
    {
        await archive.DeleteAsync(CollectionBundle.ManifestKeyFor(id), cancellationToken).ConfigureAwait(false);
        AtomicFile.TryDelete(CachePath(id));
        var info = await archive.StatAsync(CollectionBundle.ArchiveKeyFor(id), cancellationToken).ConfigureAwait(false);
        await archive.DeleteAsync(CollectionBundle.ArchiveKeyFor(id), cancellationToken).ConfigureAwait(false);
        return info?.Size ?? 0;
    }

    private Task CacheAsync(string id, byte[] json, CancellationToken cancellationToken)
    {
        var path = CachePath(id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return AtomicFile.WriteAsync(path, overwrite: true, (stream, ct) => stream.WriteAsync(json, ct).AsTask(), cancellationToken);
    }

    /// <summary>In the workspace beside the versions' cache; '.bundles' is no collection's name (they start with a letter or digit).</summary>
    private string CachePath(string id) => Path.Combine(workspace.Root, "collections", ".bundles", id + ".json");
}
