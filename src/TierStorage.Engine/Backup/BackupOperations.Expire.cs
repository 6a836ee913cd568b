using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Packaging;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>
    /// Removes one data class of a session from a backup tier (Move-DataTier's Delete step, after its safety check).
    /// A package missing a file is no longer a whole copy, so the session's manifest goes with it (a tier copy only counts
    /// while its manifest is verified); once no data class is left, the analytics snapshot goes too.
    /// </summary>
    public async Task<long> DeleteClassCopyAsync(string sessionId, string? dataClass, string tierName, CancellationToken cancellationToken)
    {
        if (dataClass is null) return await DeleteSessionCopyAsync(sessionId, tierName, cancellationToken).ConfigureAwait(false);
        var tier = ResolveTier(tierName);
        var file = LifecycleOperations.PackageFileOf(dataClass);
        var objects = new List<StoredObject>();
        await foreach (var o in Catalog.ListObjectsAsync(tier.Name, sessionId, cancellationToken).ConfigureAwait(false)) objects.Add(o);
        await using var store = await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
        long freed = 0;
        async Task RemoveAsync(StoredObject o)
        {
            await store.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false);
            await Catalog.DeleteObjectAsync(tier.Name, o.Key, cancellationToken).ConfigureAwait(false);
            freed += o.SizeBytes;
        }
        foreach (var o in objects.Where(o => o.Key.EndsWith("/" + file, StringComparison.Ordinal))) await RemoveAsync(o);
        foreach (var o in objects.Where(o => BackupLayout.IsSessionManifest(o.Key))) await RemoveAsync(o);
        var dataFiles = new[] { SessionPackager.ActivityFileName, SessionPackager.SnapshotsFileName, SessionPackager.HandoffFileName };
        var left = objects.Where(o => o.Key.IndexOf(ArchiveMemberSeparator) < 0 && dataFiles.Any(f => o.Key.EndsWith("/" + f, StringComparison.Ordinal)) && !o.Key.EndsWith("/" + file, StringComparison.Ordinal));
        if (!left.Any())
            foreach (var o in objects.Where(o => o.Key.EndsWith("/" + SessionPackager.AnalyticsFileName, StringComparison.Ordinal)
                                                 || o.Key.EndsWith("/" + SessionPackager.CompressedAnalyticsFileName, StringComparison.Ordinal))) await RemoveAsync(o);
        return freed;
    }

    /// <summary>
    /// Deletes a phase's archive and its manifest (retention.archive_days), marks the phase so it is never archived again,
    /// and forgets the archive's rows. On Deep Archive, an archive younger than the class's minimum is refused with the
    /// prorated early-deletion charge unless <paramref name="force"/>.
    /// </summary>
    public async Task<long> DeleteArchiveAsync(int phase, bool force, CancellationToken cancellationToken)
    {
        var tier = ResolveArchiveTier(null);
        var folder = BackupLayout.PhaseFolder(phase, await Catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false));
        var archiveKey = PhaseArchiveManifest.ArchiveKeyFor(folder);
        await using var store = await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
        var info = await store.StatAsync(archiveKey, cancellationToken).ConfigureAwait(false);
        if (info is not null && !force && EarlyDeletion(tier, info) is { } charge)
            throw new TierStorageException(ErrorIds.EarlyDeletion, TierErrorKind.InvalidOperation,
                $"'{archiveKey}' on tier '{tier.Name}' is {charge.AgeDays} days old; {tier.StorageClass ?? "DEEP_ARCHIVE"} bills {DeepArchiveMinimumDays} days, so deleting it now costs about ${charge.CostUsd:0.00} extra. Use -Force to accept.",
                archiveKey);
        await store.DeleteAsync(archiveKey, cancellationToken).ConfigureAwait(false);
        await store.DeleteAsync(PhaseArchiveManifest.ManifestKeyFor(folder), cancellationToken).ConfigureAwait(false);
        await Catalog.DeleteObjectsAsync(tier.Name, archiveKey, cancellationToken).ConfigureAwait(false);
        await Catalog.DeleteObjectAsync(tier.Name, PhaseArchiveManifest.ManifestKeyFor(folder), cancellationToken).ConfigureAwait(false);
        await Catalog.MarkArchiveExpiredAsync(phase, _workspace.Now, cancellationToken).ConfigureAwait(false);
        return info?.Size ?? 0;
    }
}
