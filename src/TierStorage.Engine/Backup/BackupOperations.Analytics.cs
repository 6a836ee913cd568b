using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>
    /// Downloads one file of a session's backup (not the whole package) into <paramref name="directory"/>, verified
    /// against the session's manifest. Null when no backup tier holds the session (it may be archived) or its package has
    /// no such file. ErrorIds.ChecksumMismatch when the tier's copy is damaged (nothing of it is kept), ErrorIds.InvalidManifest
    /// when the manifest is malformed or describes another session.
    /// </summary>
    public Task<(string Path, PackagedFile File)?> FetchBackupFileAsync(string sessionId, string fileName, string directory, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken) =>
        FetchBackupFileAsync(sessionId, manifest => manifest.Find(fileName), directory, progress, cancellationToken);

    private async Task<(string Path, PackagedFile File)?> FetchBackupFileAsync(string sessionId, Func<SessionManifest, PackagedFile?> pick, string directory,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var located = await LocateBackupAsync(sessionId, null, cancellationToken).ConfigureAwait(false);
        if (located is not { } found || found.Tier.Level == TierLevel.Archive) return null;
        var (tier, manifestKey) = found;
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var manifest = await ReadSessionManifestAsync(store, tier, manifestKey, sessionId, cancellationToken).ConfigureAwait(false);
        if (pick(manifest) is not { } file) return null;
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, sessionId + "_" + file.Name);
        await DownloadVerifiedAsync(store, manifestKey[..^SessionManifest.FileName.Length] + file.Name, file, path, bytes =>
            progress?.Report(new BackupProgress { SessionId = sessionId, Stage = "Downloading", File = file.Name, BytesDone = bytes, BytesTotal = file.Size }),
            cancellationToken).ConfigureAwait(false);
        return (path, file);
    }

    /// <summary>
    /// Brings the events of <paramref name="sessions"/> (known to the catalog without their events, as after
    /// Update-TierCatalog -FromTier) back from their backups: the analytics snapshot, or when that copy is damaged, the
    /// backed-up activity log, indexed like a local one. Returns the sessions still without events, each with why:
    /// null when no backup tier holds it (it may be archived), else the problem (tier unreachable, both copies damaged).
    /// </summary>
    internal async Task<List<(SessionRecord Session, string? Problem)>> ImportEventsFromBackupAsync(IReadOnlyList<SessionRecord> sessions,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var remaining = new List<(SessionRecord, string?)>();
        var directory = Path.Combine(_workspace.Layout.StagingDirectory, "analytics");
        try
        {
            foreach (var session in sessions)
            {
                try
                {
                    if (!await ImportSessionFromBackupAsync(session, directory, progress, cancellationToken).ConfigureAwait(false)) remaining.Add((session, null));
                }
                catch (TierStorageException ex) when (IsQueueable(ex) || ex.Kind == TierErrorKind.InvalidData)
                {
                    remaining.Add((session, $"{ex.ErrorId}: {ex.Message}"));
                }
            }
        }
        finally
        {
            TryDeleteDirectory(directory);
        }
        return remaining;
    }

    private async Task<bool> ImportSessionFromBackupAsync(SessionRecord session, string directory, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            if (await FetchBackupFileAsync(session.SessionId, SessionPackager.FindAnalytics, directory, progress, cancellationToken).ConfigureAwait(false) is not { } analytics)
                return false;
            var plainAnalytics = Path.Combine(directory, session.SessionId + "_" + SessionPackager.AnalyticsFileName);
            if (analytics.Path != plainAnalytics)
                await SessionPackager.UnpackAnalyticsAsync(analytics.Path, analytics.File, plainAnalytics, overwrite: true, cancellationToken).ConfigureAwait(false);
            await Catalog.ImportSessionEventsAsync(plainAnalytics, session.SessionId, cancellationToken).ConfigureAwait(false);
            File.Delete(plainAnalytics);
            return true;
        }
        catch (TierStorageException ex) when (ex.Kind == TierErrorKind.InvalidData)
        {
            _workspace.Warn($"The analytics snapshot of session '{session.SessionId}' cannot be used ({ex.Message}); its events are read from its backed-up activity log instead.");
        }
        if (await FetchBackupFileAsync(session.SessionId, SessionPackager.ActivityFileName, directory, progress, cancellationToken).ConfigureAwait(false) is not { } log)
            return false;
        var plain = Path.Combine(directory, session.SessionId + "_" + SessionPackager.ActivityEntryName);
        await SafeExtractor.DecompressGzipAsync(log.Path, plain, ActivitySize(log.File), overwrite: true, cancellationToken).ConfigureAwait(false);
        File.Delete(log.Path);
        await _workspace.IndexLogAsync(session, plain, cancellationToken).ConfigureAwait(false);
        File.Delete(plain);
        return true;
    }

    /// <summary>The archive manifest of a phase on the policy's archive tier, or null when the policy has no archive tier or
    /// the tier holds no archive of the phase.</summary>
    internal async Task<PhaseArchiveManifest?> ReadPhaseArchiveManifestAsync(int phase, CancellationToken cancellationToken)
    {
        if (_workspace.Policy.GetTier(TierLevel.Archive) is not { } tier) return null;
        var folder = BackupLayout.PhaseFolder(phase, await Catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false));
        var key = PhaseArchiveManifest.ManifestKeyFor(folder);
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        if (await store.StatAsync(key, cancellationToken).ConfigureAwait(false) is null) return null;
        return await ReadPhaseManifestAsync(store, tier, key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Brings the events of archived <paramref name="sessions"/> back out of their phase archive (Invoke-PhaseReview -Full):
    /// one verified download of the archive, thawed first when cold. While the thaw runs, returns the sessions unchanged
    /// with the thaw's result (when to come back, what it costs).
    /// </summary>
    internal async Task<(List<SessionRecord> Remaining, RestoreResult? Thawing)> ImportEventsFromArchiveAsync(int phase, IReadOnlyList<SessionRecord> sessions,
        ArchiveRetrievalTier retrieval, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var remaining = sessions.ToDictionary(s => s.SessionId, StringComparer.Ordinal);
        var destination = Path.Combine(_workspace.Layout.StagingDirectory, $"review-{phase}");
        try
        {
            await foreach (var result in RestorePhaseAsync(phase, destination, force: true, retrieval, wait: false, progress, cancellationToken).ConfigureAwait(false))
            {
                if (result.Status == RestoreStatus.Thawing) return (remaining.Values.ToList(), result);
                if (!remaining.Remove(result.SessionId)) continue;
                var path = Path.Combine(result.Destination, SessionPackager.AnalyticsFileName);
                if (File.Exists(path)) await Catalog.ImportSessionEventsAsync(path, result.SessionId, cancellationToken).ConfigureAwait(false);
                else remaining[result.SessionId] = sessions.First(s => s.SessionId == result.SessionId);
            }
        }
        finally
        {
            TryDeleteDirectory(destination);
        }
        return (remaining.Values.ToList(), null);
    }
}
