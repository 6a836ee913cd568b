using System.Diagnostics;
using System.Runtime.CompilerServices;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Backup;

/// <summary>Progress of a backup or restore: which session and file, and bytes so far.</summary>
public sealed record BackupProgress
{
    public string SessionId { get; init; } = "";
    /// <summary>Packaging, Uploading, Verifying, Downloading, Unpacking.</summary>
    public string Stage { get; init; } = "";
    public string? File { get; init; }
    public long BytesDone { get; init; }
    public long BytesTotal { get; init; }
}

public sealed record BackupRequest
{
    /// <summary>Sessions to back up; empty with <see cref="DrainQueue"/> only drains the queue.</summary>
    public IReadOnlyList<string> SessionIds { get; init; } = [];
    /// <summary>Tier name; default the policy's level-2 (backup) tier.</summary>
    public string? Tier { get; init; }
    /// <summary>Back up queued sessions too (every Backup-Session does; Sync-BackupQueue does only this).</summary>
    public bool DrainQueue { get; init; } = true;
    /// <summary>A session whose backup fails (a full tier, a copy the tier reports wrong) gives a Failed result and the
    /// others are still attempted; otherwise the first failure ends the call. The policy run sets it.</summary>
    public bool ContinueOnFailure { get; init; }
}

/// <summary>
/// Backup-Session, Sync-BackupQueue, Restore-Session, Test-Backup, Test-TierConnection and Update-TierCatalog over a
/// workspace's catalog and its policy's tiers. Each session's backup: package (into staging/, kept until verified so
/// a resumed upload sends the same bytes), upload what the tier does not already hold with the same MD5, verify each
/// file against the MD5 the tier reports, store the manifest last, record objects and the run, then prune local
/// sessions beyond retention that have a verified copy. A tier that cannot be reached queues the backup instead.
/// </summary>
public sealed partial class BackupOperations
{
    private readonly TierWorkspace _workspace;

    internal BackupOperations(TierWorkspace workspace) => _workspace = workspace;

    private CatalogDatabase Catalog => _workspace.Catalog;

    /// <summary>The tier a backup goes to: the named one, else the policy's level-2 tier. ErrorIds.TierNotFound otherwise.</summary>
    public TierDefinition ResolveTier(string? name)
    {
        var policy = _workspace.Policy;
        var tier = name is null ? policy.GetTier(TierLevel.Backup) : policy.GetTier(name);
        if (tier is null)
            throw new TierStorageException(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
                name is null ? $"The policy '{policy.Source}' has no level-2 (backup) tier." : $"The policy '{policy.Source}' has no tier named '{name}'. Tiers: {string.Join(", ", policy.Tiers.Select(t => t.Name))}.",
                name);
        if (string.Equals(tier.Name, _workspace.LocalTierName, StringComparison.OrdinalIgnoreCase))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"Tier '{tier.Name}' is the local tier; back up to another tier.", name);
        return tier;
    }

    /// <summary>What Backup-Session would do, without doing it (-WhatIf): one Planned result per session.</summary>
    public async IAsyncEnumerable<BackupResult> PlanAsync(BackupRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tier = ResolveTier(request.Tier);
        foreach (var sessionId in await SessionsToBackUpAsync(request, tier, cancellationToken).ConfigureAwait(false))
        {
            var record = await RequireBackupableAsync(sessionId, cancellationToken).ConfigureAwait(false);
            var phaseName = await Catalog.GetPhaseNameAsync(record.Phase, cancellationToken).ConfigureAwait(false);
            yield return new BackupResult
            {
                SessionId = sessionId,
                Phase = record.Phase,
                Tier = tier.Name,
                Status = BackupStatus.Planned,
                Location = BackupLayout.SessionPrefix(record.Phase, phaseName, sessionId),
                Message = $"Would package session '{sessionId}' and upload it to tier '{tier.Name}'.",
            };
        }
    }

    /// <summary>Backs up each session (queued ones first when <see cref="BackupRequest.DrainQueue"/>), yielding one result per
    /// session as it finishes. Failures of sessions asked for are thrown as TierStorageException after earlier results were
    /// yielded; a queued session that was not asked for and fails is reported as Failed and stays queued.</summary>
    public async IAsyncEnumerable<BackupResult> BackupAsync(BackupRequest request, IProgress<BackupProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var id in request.SessionIds) SessionIds.Validate(id);
        var tier = ResolveTier(request.Tier);
        var (store, notNow) = await TryOpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
        if (store is null)
        {
            // A Drive tier nobody has signed in to yet (or whose token was revoked) cannot be reached: the background backup
            // after Complete-Session must leave a trace, and be sent once Connect-TierDrive has run.
            _workspace.Inform($"Tier '{tier.Name}' cannot be used now; the backups are queued: {notNow!.Message}");
            foreach (var sessionId in await SessionsToBackUpAsync(request, tier, cancellationToken).ConfigureAwait(false))
                yield return await QueueAsync(await RequireBackupableAsync(sessionId, cancellationToken).ConfigureAwait(false), tier, tier.Name, notNow!.Message,
                    Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
            yield break;
        }

        await using var _ = store;
        var catalogSessions = (await _workspace.ListRecordsAsync(cancellationToken).ConfigureAwait(false)).Select(s => s.SessionId).ToHashSet(StringComparer.Ordinal);
        foreach (var swept in await StagingSweep.SweepAsync(_workspace.Layout.StagingDirectory, catalogSessions, cancellationToken).ConfigureAwait(false))
            _workspace.Inform($"Removed the partial package a stopped backup of '{swept}' left in staging.");
        var unreachable = false;
        var asked = request.SessionIds.ToHashSet(StringComparer.Ordinal);
        foreach (var sessionId in await SessionsToBackUpAsync(request, tier, cancellationToken).ConfigureAwait(false))
        {
            BackupResult result;
            try
            {
                // Once the tier proved unreachable, the rest are queued without another round of connection timeouts.
                result = unreachable
                    ? await QueueAsync(await RequireBackupableAsync(sessionId, cancellationToken).ConfigureAwait(false), tier, store.Location, "the tier was unreachable earlier in this run", Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false)
                    : await BackupOneAsync(sessionId, tier, store, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (TierStorageException ex) when (!asked.Contains(sessionId))
            {
                // A queued backup that fails for reasons of its own (a copy the tier reports wrong, a lost package) must not
                // stop the backups asked for now: it stays queued, with the error, and is reported as Failed.
                result = await QueuedFailureAsync(sessionId, tier, ex, cancellationToken).ConfigureAwait(false);
            }
            catch (TierStorageException ex) when (request.ContinueOnFailure)
            {
                var record = await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
                result = new BackupResult
                {
                    SessionId = sessionId, Phase = record?.Phase ?? 0, Tier = tier.Name, Status = BackupStatus.Failed,
                    Message = $"{ex.ErrorId}: {ex.Message} The session stays on the local tier; the next run tries again.",
                };
            }
            unreachable |= result.Status == BackupStatus.Queued;
            _workspace.Inform($"Backup of '{sessionId}' to tier '{tier.Name}': {result.Status}{(result.Message is null ? "" : $": {result.Message}")}");
            if (result.PrunedSessions.Count > 0) _workspace.Inform($"Pruned from the local tier (verified elsewhere, beyond retention): {string.Join(", ", result.PrunedSessions)}.");
            _workspace.Detail($"Backup of '{sessionId}': {result.BytesSent:N0} bytes sent in {result.Duration.TotalMilliseconds:0} ms.");
            yield return result;
        }
    }

    private async Task<BackupResult> QueuedFailureAsync(string sessionId, TierDefinition tier, TierStorageException ex, CancellationToken cancellationToken)
    {
        await Catalog.EnqueueBackupAsync(sessionId, tier.Name, ex.Message, _workspace.Now, cancellationToken).ConfigureAwait(false);
        var record = await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return new BackupResult
        {
            SessionId = sessionId, Phase = record?.Phase ?? 0, Tier = tier.Name, Status = BackupStatus.Failed,
            Message = $"The queued backup failed and stays queued: {ex.ErrorId}: {ex.Message}",
        };
    }

    private async Task<IReadOnlyList<string>> SessionsToBackUpAsync(BackupRequest request, TierDefinition tier, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        if (request.DrainQueue)
        {
            await foreach (var queued in Catalog.ListQueuedBackupsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!string.Equals(queued.Tier, tier.Name, StringComparison.OrdinalIgnoreCase)) continue;
                // A queued session that has since vanished from the catalog has nothing left to back up.
                if (await Catalog.GetSessionAsync(queued.SessionId, cancellationToken).ConfigureAwait(false) is null)
                {
                    await Catalog.DequeueBackupAsync(queued.SessionId, queued.Tier, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                ids.Add(queued.SessionId);
            }
        }
        foreach (var id in request.SessionIds)
            if (!ids.Contains(id, StringComparer.Ordinal)) ids.Add(id);
        return ids;
    }

    private async Task<SessionRecord> RequireBackupableAsync(string sessionId, CancellationToken cancellationToken)
    {
        var record = await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) ?? throw TierWorkspace.SessionNotFound(sessionId);
        if (!_workspace.IsOwnSession(record))
            throw new TierStorageException(ErrorIds.CatalogShared, TierErrorKind.InvalidOperation,
                $"Session '{sessionId}' was recorded on {record.Machine ?? "another machine"} by {record.User ?? "another user"}: its files are there, and only that machine backs it up.", sessionId);
        if (record.State == SessionState.Active)
            throw new TierStorageException(ErrorIds.SessionStillActive, TierErrorKind.InvalidOperation,
                $"Session '{sessionId}' is still active; complete it (Complete-Session) before backing it up.", sessionId);
        if (record.IsUnfinishedImport)
            throw new TierStorageException(ErrorIds.SessionStillActive, TierErrorKind.InvalidOperation,
                $"Session '{sessionId}' is imported from a Claude Code transcript that may still grow; finish it (Import-ClaudeSession -Complete, or an import once the transcript is idle) before backing it up.", sessionId);
        return record;
    }

    private async Task<BackupResult> BackupOneAsync(string sessionId, TierDefinition tier, IObjectStore store, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var record = await RequireBackupableAsync(sessionId, cancellationToken).ConfigureAwait(false);
        var phaseName = await Catalog.GetPhaseNameAsync(record.Phase, cancellationToken).ConfigureAwait(false);
        var prefix = BackupLayout.SessionPrefix(record.Phase, phaseName, sessionId);
        var staging = Path.Combine(_workspace.Layout.StagingDirectory, sessionId);

        // Two backups of one session at once (the background one after Complete-Session and a manual one) would upload
        // the same keys twice; the second waits briefly, then reports the first.
        FileLock sessionLock;
        try
        {
            Directory.CreateDirectory(_workspace.Layout.StagingDirectory);
            sessionLock = await FileLock.AcquireAsync(StagingSweep.LockPath(_workspace.Layout.StagingDirectory, sessionId), TimeSpan.FromSeconds(2),
                removeWhenReleased: true, cancellationToken).ConfigureAwait(false);
        }
        catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.LockTimeout)
        {
            throw new TierStorageException(ErrorIds.BackupInProgress, TierErrorKind.ResourceUnavailable,
                $"Another backup of session '{sessionId}' is running; it will finish the work.", sessionId, ex);
        }

        using (sessionLock)
        await using (var sharedLock = await Catalog.TryLockAsync($"backup/{_workspace.Identity.Namespace}/{sessionId}", TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false))
        {
            // A shared catalog: the same lock across machines, for the one session (two hosts recording as one machine).
            if (sharedLock is null)
                throw new TierStorageException(ErrorIds.BackupInProgress, TierErrorKind.ResourceUnavailable,
                    $"Another backup of session '{sessionId}' is running ({await Catalog.LockHolderAsync($"backup/{_workspace.Identity.Namespace}/{sessionId}", cancellationToken).ConfigureAwait(false) ?? "it has just ended"}); it will finish the work.", sessionId);
            long? runId = null;
            long bytesSent = 0;
            try
            {
                return await BackupLockedAsync(record, phaseName, prefix, staging, tier, store, started, id => runId = id, sent => bytesSent += sent, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (TierStorageException ex) when (IsQueueable(ex))
            {
                if (runId is { } queuedRun)
                    await Catalog.FinishBackupRunAsync(queuedRun, nameof(BackupStatus.Queued), bytesSent, ex.Message, _workspace.Now, CancellationToken.None).ConfigureAwait(false);
                return await QueueAsync(record, tier, store.Location, ex.Message, started, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (runId is { } failedRun)
                    await Catalog.FinishBackupRunAsync(failedRun, nameof(BackupStatus.Failed), bytesSent, ex.Message, _workspace.Now, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }
    }

    private async Task<BackupResult> BackupLockedAsync(SessionRecord record, string? phaseName, string prefix, string staging, TierDefinition tier, IObjectStore store,
        long started, Action<long> runStarted, Action<long> countSent, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var sessionId = record.SessionId;
        var existing = await VerifiedCopyOnTierAsync(record, tier, store, prefix, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            await FinishSucceededAsync(record, tier, cancellationToken).ConfigureAwait(false);
            // A package left by a run that died after verifying is of no further use.
            TryDeleteDirectory(staging);
            return new BackupResult
            {
                SessionId = sessionId, Phase = record.Phase, Tier = tier.Name, Status = BackupStatus.Skipped, Location = prefix,
                Files = existing, Verified = true, Duration = Stopwatch.GetElapsedTime(started),
                PrunedSessions = await _workspace.PruneAsync(cancellationToken).ConfigureAwait(false),
                Message = $"Tier '{tier.Name}' already holds a verified copy of every file.",
            };
        }

        var manifest = await StageAsync(record, phaseName, staging, progress, cancellationToken).ConfigureAwait(false);
        var runId = await Catalog.StartBackupRunAsync(sessionId, tier.Name, _workspace.Now, cancellationToken).ConfigureAwait(false);
        runStarted(runId);
        long bytesSent = 0;
        var files = await UploadAllVerifiedAsync(store, record, prefix, staging, manifest, progress, sent =>
        {
            bytesSent += sent;
            countSent(sent);
        }, cancellationToken).ConfigureAwait(false);
        // The manifest goes last: its verified presence is what says the whole set is there.
        var manifestPath = Path.Combine(staging, SessionManifest.FileName);
        var manifestSum = await ChecksumStream.ComputeAsync(manifestPath, cancellationToken).ConfigureAwait(false);
        var (manifestFile, manifestSent) = await UploadVerifiedAsync(store, new SerializedCatalog(Catalog), record, prefix, staging, SessionManifest.FileName, manifestSum.Size,
            manifestSum.Md5, manifestSum.Sha256, null, cancellationToken).ConfigureAwait(false);
        bytesSent += manifestSent;
        countSent(manifestSent);
        files = [.. files, manifestFile];

        await Catalog.FinishBackupRunAsync(runId, nameof(BackupStatus.Succeeded), bytesSent, null, _workspace.Now, cancellationToken).ConfigureAwait(false);
        await FinishSucceededAsync(record, tier, cancellationToken).ConfigureAwait(false);
        TryDeleteDirectory(staging);
        return new BackupResult
        {
            SessionId = sessionId, Phase = record.Phase, Tier = tier.Name,
            Status = bytesSent == 0 ? BackupStatus.Skipped : BackupStatus.Succeeded,
            Location = prefix, Files = files, BytesSent = bytesSent, Verified = true,
            PrunedSessions = await _workspace.PruneAsync(cancellationToken).ConfigureAwait(false),
            Duration = Stopwatch.GetElapsedTime(started),
            Message = bytesSent == 0 ? $"Tier '{tier.Name}' already held every file with the same MD5." : null,
        };
    }

    private async Task<(IObjectStore? Store, TierStorageException? NotNow)> TryOpenStoreAsync(TierDefinition tier, CancellationToken cancellationToken)
    {
        try
        {
            return (await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false), null);
        }
        catch (TierStorageException ex) when (IsQueueable(ex))
        {
            return (null, ex);
        }
    }

    /// <summary>Failures that say "not now" rather than "not this": the tier is unreachable, over its daily limit, or
    /// waiting for its account to be set up (client file, sign-in). The backup waits in the queue, with the reason.</summary>
    /// <summary>A tier that cannot be used now but may be later (offline, over quota, not authorized, a folder tier
    /// whose share denies access): the backup is queued, as the README promises, instead of failing.</summary>
    internal static bool IsQueueable(TierStorageException ex) =>
        ex.ErrorId is ErrorIds.TierUnreachable or ErrorIds.TierQuotaExceeded or ErrorIds.TierAuthRequired or ErrorIds.ClientSecretsNotFound or ErrorIds.TierAccessDenied;

    private async Task<BackupResult> QueueAsync(SessionRecord record, TierDefinition tier, string location, string reason, long started, CancellationToken cancellationToken)
    {
        await Catalog.EnqueueBackupAsync(record.SessionId, tier.Name, reason, _workspace.Now, cancellationToken).ConfigureAwait(false);
        return new BackupResult
        {
            SessionId = record.SessionId, Phase = record.Phase, Tier = tier.Name, Status = BackupStatus.Queued, Location = location,
            Duration = Stopwatch.GetElapsedTime(started),
            Message = $"Queued: {reason} The session stays on the local tier; Sync-BackupQueue (tierstorage backup sync) or the next Backup-Session sends it.",
        };
    }

    private async Task FinishSucceededAsync(SessionRecord record, TierDefinition tier, CancellationToken cancellationToken)
    {
        await Catalog.DequeueBackupAsync(record.SessionId, tier.Name, cancellationToken).ConfigureAwait(false);
        var current = await Catalog.GetSessionAsync(record.SessionId, cancellationToken).ConfigureAwait(false) ?? record;
        if (current.State == SessionState.Completed)
            await Catalog.UpdateSessionAsync(current with { State = SessionState.BackedUp }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The staged package of a session: reused when a complete one that matches its manifest is already there (an
    /// interrupted run), so a resumed upload sends the very bytes it started with; otherwise packaged afresh.</summary>
    private async Task<SessionManifest> StageAsync(SessionRecord record, string? phaseName, string staging, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var manifestPath = Path.Combine(staging, SessionManifest.FileName);
        if (File.Exists(manifestPath))
        {
            try
            {
                // Staged files are not fsynced (the sources stay untouched), so after a crash they are re-hashed before reuse.
                var staged = await SessionManifest.ReadAsync(manifestPath, cancellationToken).ConfigureAwait(false);
                if (staged.SessionId == record.SessionId && staged.Files.All(f => new FileInfo(Path.Combine(staging, f.Name)) is { Exists: true } info && info.Length == f.Size))
                {
                    // Sizes alone would let damaged staged bytes be resent, and refused by the tier's MD5, on every rerun.
                    await PackageVerifier.VerifyDirectoryAsync(staging, staged, cancellationToken).ConfigureAwait(false);
                    return staged;
                }
            }
            catch (TierStorageException)
            {
                // A damaged staging manifest or package is simply packaged again.
            }
        }

        var logPath = _workspace.LocateLog(record) ?? throw new TierStorageException(ErrorIds.BackupNotFound, TierErrorKind.ObjectNotFound,
            $"Session '{record.SessionId}' has no activity log on the local tier and no verified copy on the tier: there is nothing to back up. Restore it first if another tier holds it.",
            record.SessionId);
        var snapshots = _workspace.Layout.EnumerateSnapshots(record.SessionId).Select(s => s.Path).OrderBy(p => p, StringComparer.Ordinal).ToList();
        var handoff = record.HandoffPath is { } h && File.Exists(h) ? h : null;
        var sourceBytes = new[] { logPath, handoff, _workspace.Layout.CatalogPath }.Concat(snapshots)
            .Where(p => p is not null && File.Exists(p)).Sum(p => new FileInfo(p!).Length);
        return await SessionPackager.PackageAsync(new SessionPackageRequest
        {
            SessionId = record.SessionId,
            PhaseNumber = record.Phase,
            PhaseName = phaseName,
            ActivityLogPath = logPath,
            SnapshotPaths = snapshots,
            HandoffPath = handoff,
            CatalogDatabasePath = _workspace.Catalog.IsShared ? null : _workspace.Layout.CatalogPath,
            WriteCatalogExtract = _workspace.Catalog.IsShared ? (target, ct) => CatalogExtract.WriteSessionAsync(_workspace.Catalog, target, record.SessionId, record.Phase, ct) : null,
            StagingDirectory = staging,
            CompressionLevel = _workspace.Policy.Backup.CompressionLevel,
            CreatedAt = _workspace.Now,
        }, new ForwardedProgress<long>(bytes => progress?.Report(new BackupProgress { SessionId = record.SessionId, Stage = "Packaging", BytesDone = bytes, BytesTotal = sourceBytes })),
        cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Files of one package uploaded at once to stores that serve concurrent requests (S3, folders); the others
    /// (Drive, encrypted tiers, which keep per-store state) one at a time. S3 sends the parts of a large file 4 at once
    /// as well, so memory stays bounded by this many files times those parts.</summary>
    private const int MaxConcurrentUploads = 4;

    /// <summary>Stores whose reads and writes of different keys may run at once.</summary>
    private static bool ServesConcurrentTransfers(IObjectStore store) =>
        store is Tiers.S3.S3ObjectStore or Tiers.Folder.FolderObjectStore;

    /// <summary>Uploads and verifies every file of the package but the manifest (<see cref="UploadVerifiedAsync"/>), several
    /// at once where the store allows. The catalog (one SQLite connection) is written by one upload at a time: the
    /// resumable uploads' saved progress and the verified objects go through <see cref="SerializedCatalog"/>.
    /// <paramref name="countSent"/> gets each finished file's bytes sent, one call at a time, also when another file
    /// fails (the run's record counts what reached the tier). The first failure cancels the other uploads and is thrown;
    /// what they saved (parts S3 holds, verified objects) stays, so a rerun resumes from it.</summary>
    private async Task<IReadOnlyList<BackupFile>> UploadAllVerifiedAsync(IObjectStore store, SessionRecord record, string prefix, string staging,
        SessionManifest manifest, IProgress<BackupProgress>? progress, Action<long> countSent, CancellationToken cancellationToken)
    {
        var count = manifest.Files.Count;
        var files = new BackupFile[count];
        var onTier = new long[count];
        var total = manifest.Files.Sum(f => f.Size);
        var serialized = new SerializedCatalog(Catalog);
        var reporting = new object();
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = ServesConcurrentTransfers(store) ? MaxConcurrentUploads : 1,
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (index, token) =>
        {
            var file = manifest.Files[index];
            var (backedUp, sent) = await UploadVerifiedAsync(store, serialized, record, prefix, staging, file.Name, file.Size, file.Md5, file.Sha256, bytes =>
            {
                if (progress is null) return;
                // One report at a time, with the bytes of every file so far.
                lock (reporting)
                {
                    onTier[index] = bytes;
                    progress.Report(new BackupProgress { SessionId = record.SessionId, Stage = "Uploading", File = file.Name, BytesDone = onTier.Sum(), BytesTotal = total });
                }
            }, token).ConfigureAwait(false);
            lock (reporting)
            {
                files[index] = backedUp;
                countSent(sent);
            }
        }).ConfigureAwait(false);
        return files;
    }

    /// <summary>Uploads one staged file unless the tier holds it with the same MD5, then checks the tier's size and MD5 and
    /// records the verified object. Returns the file and the bytes sent.</summary>
    private async Task<(BackupFile File, long Sent)> UploadVerifiedAsync(IObjectStore store, SerializedCatalog catalog, SessionRecord record, string prefix, string staging,
        string name, long size, string md5, string sha256, Action<long>? reportBytes, CancellationToken cancellationToken)
    {
        var key = prefix + name;
        var info = await store.StatAsync(key, cancellationToken).ConfigureAwait(false);
        long sent = 0;
        var transferred = false;
        if (!Matches(info, size, md5))
        {
            await using var content = new FileStream(Path.Combine(staging, name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var options = new PutOptions { ExpectedMd5 = md5, Progress = new ForwardedProgress<long>(bytes => { sent = bytes; reportBytes?.Invoke(bytes); }) };
            info = store is IResumableUploadStore resumable && size >= resumable.ResumableThreshold
                ? await resumable.PutResumableAsync(key, content, options, catalog, cancellationToken).ConfigureAwait(false)
                : await store.PutAsync(key, content, options, cancellationToken).ConfigureAwait(false);
            transferred = true;
        }
        if (!Matches(info, size, md5))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"Tier '{store.TierName}' reports '{key}' as {info?.Size:N0} bytes with MD5 {info?.Md5 ?? "(none)"}, but {size:N0} bytes with MD5 {md5} were sent. The copy is not trusted; run the backup again.",
                key);

        var now = _workspace.Now;
        await catalog.UpsertObjectAsync(new StoredObject
        {
            Tier = store.TierName, Key = key, SessionId = record.SessionId, Phase = record.Phase,
            SizeBytes = size, Md5 = md5, Sha256 = sha256, StoredAt = info!.LastModified ?? now, VerifiedAt = now,
        }, cancellationToken).ConfigureAwait(false);
        return (new BackupFile { Name = name, Key = key, SizeBytes = size, Md5 = md5, Sha256 = sha256, Transferred = transferred, Verified = true },
            transferred ? Math.Max(sent, size) : 0);
    }

    /// <summary>The session's files when the catalog lists a verified manifest on this tier and the tier still reports
    /// every catalogued object with its size and MD5; null when anything is missing or differs.</summary>
    private async Task<IReadOnlyList<BackupFile>?> VerifiedCopyOnTierAsync(SessionRecord record, TierDefinition tier, IObjectStore store, string prefix, CancellationToken cancellationToken)
    {
        var objects = new List<StoredObject>();
        await foreach (var o in Catalog.ListObjectsAsync(tier.Name, record.SessionId, cancellationToken).ConfigureAwait(false))
            if (o.Key.StartsWith(prefix, StringComparison.Ordinal)) objects.Add(o);
        if (!objects.Any(o => o.VerifiedAt is not null && o.Key == prefix + SessionManifest.FileName)) return null;
        var files = new List<BackupFile>();
        foreach (var o in objects)
        {
            if (o.VerifiedAt is null || o.Md5 is null) return null;
            if (!Matches(await store.StatAsync(o.Key, cancellationToken).ConfigureAwait(false), o.SizeBytes, o.Md5)) return null;
            files.Add(new BackupFile { Name = o.Key[prefix.Length..], Key = o.Key, SizeBytes = o.SizeBytes, Md5 = o.Md5, Sha256 = o.Sha256 ?? "", Verified = true });
        }
        return files;
    }

    private static bool Matches(ObjectInfo? info, long size, string md5) =>
        info is not null && info.Size == size && string.Equals(info.Md5, md5, StringComparison.OrdinalIgnoreCase);

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // The staged copy is only a cache: a leftover is replaced or reused by the next backup of the session.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
