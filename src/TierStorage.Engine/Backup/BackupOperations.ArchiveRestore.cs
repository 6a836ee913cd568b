using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>How long a thawed copy stays readable: long enough to come back for it after a weekend.</summary>
    internal const int ThawDays = 7;

    /// <summary>The archive tier and phase-manifest key of an archived session: from the catalog's member rows, else by
    /// reading the archive tiers' metadata/ manifests (the catalog may be what was lost).</summary>
    private async Task<(TierDefinition Tier, string ManifestKey)?> LocateArchiveAsync(string sessionId, string? tierName, CancellationToken cancellationToken)
    {
        var candidates = tierName is null ? _workspace.Policy.Tiers.Where(t => t.Level == TierLevel.Archive).ToList() : [ResolveTier(tierName)];
        await foreach (var o in Catalog.ListObjectsAsync(null, sessionId, cancellationToken).ConfigureAwait(false))
        {
            var separator = o.Key.IndexOf(ArchiveMemberSeparator);
            if (o.VerifiedAt is null || separator < 0 || o.Phase is null) continue;
            if (candidates.FirstOrDefault(t => string.Equals(t.Name, o.Tier, StringComparison.OrdinalIgnoreCase)) is not { } tier) continue;
            var folder = o.Key[..separator][..^".tar.gz".Length];
            return (tier, PhaseArchiveManifest.ManifestKeyFor(folder));
        }
        foreach (var tier in candidates)
        {
            await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
            await foreach (var info in store.ListAsync("metadata/", cancellationToken).ConfigureAwait(false))
            {
                if (!info.Key.EndsWith("_manifest.json", StringComparison.Ordinal)) continue;
                var manifest = await ReadPhaseManifestAsync(store, tier, info.Key, cancellationToken).ConfigureAwait(false);
                if (manifest.Sessions.Any(s => s.SessionId == sessionId)) return (tier, info.Key);
            }
        }
        return null;
    }

    private static async Task<PhaseArchiveManifest> ReadPhaseManifestAsync(IObjectStore store, TierDefinition tier, string key, CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        await store.GetAsync(key, bytes, 0, null, cancellationToken).ConfigureAwait(false);
        return PhaseArchiveManifest.Parse(bytes.ToArray(), $"{tier.Name}:{key}");
    }

    /// <summary>
    /// Restores one session out of its phase archive. A cold archive (Deep Archive) is first priced and thawed: the
    /// request is recorded and a Thawing result says when to come back (calling again before then asks nothing twice).
    /// Once readable, the archive is downloaded (resuming), verified against the phase manifest, the session's files are
    /// extracted alone (safely), verified against the session's own manifest, and unpacked like any restore.
    /// </summary>
    private async Task<RestoreResult> RestoreFromArchiveAsync(RestoreRequest request, TierDefinition tier, string manifestKey, IProgress<BackupProgress>? progress,
        long started, CancellationToken cancellationToken)
    {
        var sessionId = request.SessionId;
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var phaseManifest = await ReadPhaseManifestAsync(store, tier, manifestKey, cancellationToken).ConfigureAwait(false);
        var archiveKey = phaseManifest.ArchiveKey;

        if (store is IArchiveStore cold)
        {
            var status = await cold.GetRestoreStatusAsync(archiveKey, cancellationToken).ConfigureAwait(false);
            if (!status.IsReadable)
                return await ThawAsync(cold, tier, phaseManifest, sessionId, status, request.Retrieval, cancellationToken).ConfigureAwait(false);
        }

        var download = Path.Combine(_workspace.Layout.StagingDirectory, "thaw-" + Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(archiveKey)));
        Directory.CreateDirectory(download);
        var archivePath = Path.Combine(download, Path.GetFileName(archiveKey));
        await DownloadVerifiedAsync(store, archiveKey, new PackagedFile
        {
            Name = archiveKey, Size = phaseManifest.ArchiveSize, Md5 = phaseManifest.ArchiveMd5, Sha256 = phaseManifest.ArchiveSha256,
        }, archivePath, bytes => progress?.Report(new BackupProgress
        {
            SessionId = sessionId, Stage = "Downloading", File = archiveKey, BytesDone = bytes, BytesTotal = phaseManifest.ArchiveSize,
        }), cancellationToken).ConfigureAwait(false);

        var mine = phaseManifest.Files.Where(f => f.SessionId == sessionId).ToList();
        var prefix = $"sessions/{sessionId}/";
        var extracted = Path.Combine(download, "session");
        TryDeleteDirectory(extracted);
        await SafeExtractor.ExtractTarGzAsync(archivePath, extracted, new ExtractionOptions
        {
            Expected = mine.Select(f => new PackagedEntry(f.Path, f.Size)).ToList(),
            Select = name => name.StartsWith(prefix, StringComparison.Ordinal),
        }, cancellationToken).ConfigureAwait(false);
        var package = Path.Combine(extracted, "sessions", sessionId);
        foreach (var file in mine)
            await PackageVerifier.VerifyFileAsync(Path.Combine(package, file.Path[prefix.Length..]), new PackagedFile
            {
                Name = file.Path, Size = file.Size, Md5 = file.Md5, Sha256 = file.Sha256,
            }, cancellationToken).ConfigureAwait(false);

        var manifest = await SessionManifest.ReadAsync(Path.Combine(package, SessionManifest.FileName), cancellationToken).ConfigureAwait(false);
        // The phase manifest vouches for the package's bytes, not for what they claim to unpack to.
        ExpansionBounds.RequireWithin(manifest, $"{tier.Name}:{archiveKey}:{prefix}{SessionManifest.FileName}");
        if (manifest.SessionId != sessionId)
            throw new TierStorageException(ErrorIds.InvalidManifest, TierErrorKind.InvalidData,
                $"The archive '{archiveKey}' holds a manifest for '{manifest.SessionId}' under '{prefix}'.", archiveKey);
        var destinationPath = request.Destination is null ? null : Path.GetFullPath(request.Destination);
        if (destinationPath is null) await RequireWorkspaceTargetAsync(manifest, request.Force, cancellationToken).ConfigureAwait(false);
        else if (!request.Force) RequireFreeDestination(manifest, destinationPath);
        await PackageVerifier.VerifyDirectoryAsync(package, manifest, cancellationToken).ConfigureAwait(false);
        var destination = destinationPath is null
            ? await UnpackIntoWorkspaceAsync(manifest, package, request.Force, cancellationToken).ConfigureAwait(false)
            : await UnpackIntoDirectoryAsync(manifest, package, destinationPath, request.Force, cancellationToken).ConfigureAwait(false);
        // Restore-Phase reads several sessions out of one download; a single session's restore cleans up after itself.
        if (!request.KeepArchiveDownload) TryDeleteDirectory(download);
        else TryDeleteDirectory(extracted);
        return new RestoreResult
        {
            SessionId = sessionId, Phase = manifest.PhaseNumber, Tier = tier.Name, Destination = destination, Status = RestoreStatus.Restored,
            Files = manifest.Files.Select(f => new BackupFile { Name = f.Name, Key = archiveKey + ArchiveMemberSeparator + prefix + f.Name, SizeBytes = f.Size, Md5 = f.Md5, Sha256 = f.Sha256, Transferred = true, Verified = true }).ToList(),
            // The session's own files in the archive, as a restore from a backup tier counts the files it fetches: the
            // archive itself is downloaded once for a whole phase (or was already, on a resumed run), so what that one
            // download received says nothing about this session (and was 0 for every session of a phase but the first).
            BytesReceived = manifest.Files.Sum(f => f.Size), Verified = true, Duration = Stopwatch.GetElapsedTime(started),
        };
    }

    /// <summary>Prices and requests (once) the thaw of a cold archive, and says when to come back.</summary>
    private async Task<RestoreResult> ThawAsync(IArchiveStore store, TierDefinition tier, PhaseArchiveManifest phaseManifest, string sessionId,
        ArchiveRestoreStatus status, ArchiveRetrievalTier retrieval, CancellationToken cancellationToken)
    {
        var key = phaseManifest.ArchiveKey;
        var recorded = await Catalog.GetThawAsync(tier.Name, key, cancellationToken).ConfigureAwait(false);
        if (status.State != ArchiveRestoreState.InProgress || recorded is null)
        {
            var pricing = _workspace.Policy.Pricing;
            var perGb = retrieval == ArchiveRetrievalTier.Bulk ? pricing.ArchiveBulkRetrievalPerGb : pricing.ArchiveStandardRetrievalPerGb;
            var hours = retrieval == ArchiveRetrievalTier.Bulk ? 48 : 12;
            await store.RequestRestoreAsync(key, ThawDays, retrieval, cancellationToken).ConfigureAwait(false);
            recorded = new ThawRequest(tier.Name, key, _workspace.Now, retrieval.ToString(), _workspace.Now.AddHours(hours),
                Math.Round(phaseManifest.ArchiveSize / 1_000_000_000m * perGb, 4));
            await Catalog.RecordThawAsync(recorded, cancellationToken).ConfigureAwait(false);
        }
        return new RestoreResult
        {
            SessionId = sessionId, Phase = phaseManifest.Phase, Tier = tier.Name, Status = RestoreStatus.Thawing,
            ReadyAfter = recorded.ReadyAfter, ThawCostUsd = recorded.CostUsd, Destination = "",
            Message = $"'{key}' is in {status.StorageClass}: a {recorded.RetrievalTier} thaw was requested at {recorded.RequestedAt:u} (about ${recorded.CostUsd:0.00}); run Restore-Session again after {recorded.ReadyAfter:u}, or use -Wait.",
        };
    }

    /// <summary>
    /// Restore-Phase: every session of an archived phase, out of one download of its archive (thawed first when cold,
    /// as for one session: the results then say Thawing and when to come back). Sessions are restored into the
    /// workspace, or under <paramref name="destination"/>/&lt;session&gt;/.
    /// </summary>
    public async IAsyncEnumerable<RestoreResult> RestorePhaseAsync(int phase, string? destination, bool force, ArchiveRetrievalTier retrieval, bool wait,
        IProgress<BackupProgress>? progress, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tier = ResolveArchiveTier(null);
        var folder = BackupLayout.PhaseFolder(phase, await Catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false));
        var manifestKey = PhaseArchiveManifest.ManifestKeyFor(folder);
        PhaseArchiveManifest phaseManifest;
        await using (var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false))
        {
            if (await store.StatAsync(manifestKey, cancellationToken).ConfigureAwait(false) is null)
                throw new TierStorageException(ErrorIds.BackupNotFound, TierErrorKind.ObjectNotFound,
                    $"Tier '{tier.Name}' holds no archive of phase {phase} ('{manifestKey}' is not there).", phase);
            phaseManifest = await ReadPhaseManifestAsync(store, tier, manifestKey, cancellationToken).ConfigureAwait(false);
        }
        var download = Path.Combine(_workspace.Layout.StagingDirectory, "thaw-" + folder);
        try
        {
            foreach (var session in phaseManifest.Sessions)
            {
                var request = new RestoreRequest
                {
                    SessionId = session.SessionId, Tier = tier.Name, Force = force, Retrieval = retrieval, Wait = wait, KeepArchiveDownload = true,
                    Destination = destination is null ? null : Path.Combine(destination, session.SessionId),
                };
                RestoreResult result;
                while (true)
                {
                    result = await RestoreFromArchiveAsync(request, tier, manifestKey, progress, Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
                    if (result.Status != RestoreStatus.Thawing || !wait) break;
                    await Task.Delay(request.PollInterval, _workspace.Time, cancellationToken).ConfigureAwait(false);
                }
                yield return result;
            }
        }
        finally
        {
            TryDeleteDirectory(download);
        }
    }
}
