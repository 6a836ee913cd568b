using System.Diagnostics;
using System.Formats.Tar;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Review;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>Deep Archive (and Glacier Flexible's 90) bill a minimum storage time; deleting earlier is charged as if kept.</summary>
    internal const int DeepArchiveMinimumDays = 180;

    /// <summary>Separates an archive's key from the path of a file inside it in the catalog's object rows.</summary>
    internal const char ArchiveMemberSeparator = '#';

    /// <summary>The policy's level-3 tier; ErrorIds.TierNotFound when it has none.</summary>
    public TierDefinition ResolveArchiveTier(string? name)
    {
        var tier = name is null ? _workspace.Policy.GetTier(TierLevel.Archive) : ResolveTier(name);
        return tier ?? throw new TierStorageException(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
            $"The policy '{_workspace.Policy.Source}' has no level-3 (archive) tier.", name);
    }

    /// <summary>
    /// Packs every session of a phase, as the backup tier holds it, into one Phase_&lt;n&gt;_&lt;name&gt;.tar.gz on the archive
    /// tier, with metadata/Phase_&lt;n&gt;_&lt;name&gt;_manifest.json (warm storage class) beside it; verifies both by the MD5
    /// the tier reports and records them and every file inside. The backup copies are left in place: deleting them is
    /// a separate, checked step (<see cref="DeleteSessionCopyAsync"/>). Each file is checked against the catalog's
    /// checksums as it is read from the backup tier, so a damaged copy is never archived. Memory stays flat: files pass
    /// through one at a time and the archive is built in staging/ before it is uploaded.
    /// </summary>
    /// <param name="force">Replace an archive of the phase that differs even when Deep Archive bills the early deletion.</param>
    public async Task<PhaseArchiveResult> ArchivePhaseAsync(int phase, bool force, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        // A shared catalog: one machine at a time archives a phase; another that planned the same step finds the lock
        // taken (InProgressElsewhere) or, once it is free, the archive recorded, and does not archive it again.
        var archiveTierName = ResolveArchiveTier(null).Name;
        await using var phaseLock = await Catalog.TryLockAsync($"archive/{_workspace.Identity.Namespace}/{phase}", TimeSpan.Zero, cancellationToken).ConfigureAwait(false)
            ?? throw new TierStorageException(ErrorIds.InProgressElsewhere, TierErrorKind.InvalidOperation,
                $"Another machine of the shared catalog {Catalog.Path} is archiving phase {phase} now; this run leaves it to that one.", phase);
        if (Catalog.IsShared && !force
            && await Catalog.GetObjectAsync(archiveTierName, PhaseArchiveManifest.ArchiveKeyFor(BackupLayout.PhaseFolder(phase, await Catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false))), cancellationToken).ConfigureAwait(false)
                is { VerifiedAt: not null } done)
            throw new TierStorageException(ErrorIds.InProgressElsewhere, TierErrorKind.InvalidOperation,
                $"Phase {phase} was archived by another machine of the shared catalog at {done.VerifiedAt:u} ('{done.Key}', verified); nothing to do.", phase);
        return await ArchivePhaseLockedAsync(phase, force, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<PhaseArchiveResult> ArchivePhaseLockedAsync(int phase, bool force, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var backupTier = ResolveTier(null);
        var archiveTier = ResolveArchiveTier(null);
        var phaseName = await Catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false);
        var folder = BackupLayout.PhaseFolder(phase, phaseName);
        // Every machine's sessions of the phase (a shared catalog): the phase archive is the team's.
        var sessions = (await _workspace.ListAllRecordsAsync(cancellationToken).ConfigureAwait(false)).Where(s => s.Phase == phase).OrderBy(s => s.StartedAt).ToList();
        if (sessions.Count == 0)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.ObjectNotFound, $"Phase {phase} has no sessions to archive.", phase);
        if (sessions.FirstOrDefault(s => s.State == SessionState.Active) is { } active)
            throw new TierStorageException(ErrorIds.SessionStillActive, TierErrorKind.InvalidOperation,
                $"Phase {phase} still has an active session ('{active.SessionId}'); a phase is archived once all its sessions are complete.", active.SessionId);

        // What goes in: every verified object of each session's folder on the backup tier.
        var members = new List<(SessionRecord Session, StoredObject Object)>();
        foreach (var session in sessions)
        {
            var objects = new List<StoredObject>();
            await foreach (var o in Catalog.ListObjectsAsync(backupTier.Name, session.SessionId, cancellationToken).ConfigureAwait(false)) objects.Add(o);
            if (!objects.Any(o => BackupLayout.IsSessionManifest(o.Key) && o.VerifiedAt is not null) || objects.Any(o => o.VerifiedAt is null || o.Md5 is null || o.Sha256 is null))
                throw new TierStorageException(ErrorIds.BackupNotVerified, TierErrorKind.InvalidOperation,
                    $"Session '{session.SessionId}' of phase {phase} has no verified copy on tier '{backupTier.Name}'; back it up (Backup-Session) before the phase is archived.",
                    session.SessionId);
            members.AddRange(objects.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => (session, o)));
        }

        var staging = Path.Combine(_workspace.Layout.StagingDirectory, "archive-" + folder);
        Directory.CreateDirectory(staging);
        var archivePath = Path.Combine(staging, PhaseArchiveManifest.ArchiveKeyFor(folder));
        var archiveKey = PhaseArchiveManifest.ArchiveKeyFor(folder);
        var manifestKey = PhaseArchiveManifest.ManifestKeyFor(folder);
        await using var backupStore = await _workspace.OpenStoreAsync(backupTier, cancellationToken).ConfigureAwait(false);
        await using var archiveStore = await _workspace.OpenStoreAsync(archiveTier, cancellationToken).ConfigureAwait(false);
        // A folder archive tier that holds nothing under the key yet stores the archive as it is built: no copy written to
        // staging and read back, and the store's write, MD5 and fsync run beside the build. The store keeps it in a temp
        // file until the end, so a failed or killed build leaves no object; what it stored is checked against what was
        // built before anything else happens. Any other tier, or an archive already there, goes through staging as before.
        var streamed = archiveStore is Tiers.Folder.FolderObjectStore && await archiveStore.StatAsync(archiveKey, cancellationToken).ConfigureAwait(false) is null;

        // The manifest's figures (review and totals, both from the sessions' rollups) come from the catalog alone: computed
        // while the archive is built, on a connection and a thread of their own, unless a session's events are brought into
        // the catalog on the way (a catalog rebuilt from the tiers): then after, from every event. Nothing else uses the
        // catalog until they are done.
        var importing = sessions.Any(s => s.EventCount == 0);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reviewTask = importing ? null : OnOwnThread(() => PhaseReviewer.ReviewWithRollupAsync(Catalog, _workspace.Policy, phase, abandon.Token), abandon.Token);
        List<PhaseArchiveFile> files;
        FileChecksum archiveSum;
        try
        {
            if (streamed) (files, archiveSum) = await BuildIntoStoreAsync(members, backupStore, backupTier, staging, archiveStore, archiveKey, progress, abandon.Token).ConfigureAwait(false);
            else
            {
                var temp = archivePath + ".tmp";
                await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    (files, archiveSum) = await BuildArchiveAsync(members, backupStore, backupTier, staging, output, progress, cancellationToken).ConfigureAwait(false);
                    // Not fsynced: the staged archive is never reused (a rerun builds it again), and the copy that counts is the
                    // tier's, which the store makes durable and which is verified against the MD5 hashed here as it was written.
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                File.Move(temp, archivePath, overwrite: true);
            }
        }
        catch
        {
            // Not left running past this call: the review may write rollups through the catalog's connection.
            await abandon.CancelAsync().ConfigureAwait(false);
            if (reviewTask is not null)
                await reviewTask.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }
        File.Delete(Path.Combine(staging, "piece"));
        var (review, _, merged) = reviewTask is null
            ? await PhaseReviewer.ReviewWithRollupAsync(Catalog, _workspace.Policy, phase, cancellationToken).ConfigureAwait(false)
            : await reviewTask.ConfigureAwait(false);
        var totals = PhaseTotals(sessions, merged);

        if (!streamed)
        {
            if (!force) await GuardOverwriteAsync(archiveStore, archiveTier, archiveKey, archiveSum.Md5, cancellationToken).ConfigureAwait(false);
            await using var content = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var options = new PutOptions
            {
                ExpectedMd5 = archiveSum.Md5,
                Progress = new ForwardedProgress<long>(bytes => progress?.Report(new BackupProgress { SessionId = folder, Stage = "Uploading", File = archiveKey, BytesDone = bytes, BytesTotal = archiveSum.Size })),
            };
            var existing = await archiveStore.StatAsync(archiveKey, cancellationToken).ConfigureAwait(false);
            if (!Matches(existing, archiveSum.Size, archiveSum.Md5))
                _ = archiveStore is IResumableUploadStore resumable && archiveSum.Size >= resumable.ResumableThreshold
                    ? await resumable.PutResumableAsync(archiveKey, content, options, Catalog, cancellationToken).ConfigureAwait(false)
                    : await archiveStore.PutAsync(archiveKey, content, options, cancellationToken).ConfigureAwait(false);
        }
        if (!Matches(await archiveStore.StatAsync(archiveKey, cancellationToken).ConfigureAwait(false), archiveSum.Size, archiveSum.Md5))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"Tier '{archiveTier.Name}' does not report '{archiveKey}' as the {archiveSum.Size:N0} bytes with MD5 {archiveSum.Md5} that were sent; the backup copies stay.", archiveKey);

        var manifest = new PhaseArchiveManifest
        {
            Phase = phase, PhaseName = phaseName, PhaseStartedAt = sessions[0].StartedAt, PhaseEndedAt = sessions.Max(s => s.EndedAt),
            CreatedAt = _workspace.Now, ArchiveKey = archiveKey, ArchiveSize = archiveSum.Size, ArchiveMd5 = archiveSum.Md5, ArchiveSha256 = archiveSum.Sha256,
            Sessions = sessions.Select(s => new PhaseArchiveSession { SessionId = s.SessionId, StartedAt = s.StartedAt, EndedAt = s.EndedAt, EventCount = s.EventCount }).ToList(),
            Files = files,
            Totals = totals,
            // Every figure of the end-of-phase review, so reviewing the phase later never needs a thaw.
            Review = review,
        };
        var manifestBytes = manifest.ToUtf8Json();
        var manifestMd5 = Convert.ToHexString(System.Security.Cryptography.MD5.HashData(manifestBytes)).ToLowerInvariant();
        var manifestInfo = await archiveStore.PutAsync(manifestKey, new MemoryStream(manifestBytes),
            new PutOptions { ExpectedMd5 = manifestMd5, ContentType = "application/json", StorageClass = "STANDARD" }, cancellationToken).ConfigureAwait(false);
        if (!Matches(manifestInfo, manifestBytes.Length, manifestMd5))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData, $"Tier '{archiveTier.Name}' reports '{manifestKey}' differently from what was sent.", manifestKey);

        var now = _workspace.Now;
        await Catalog.UpsertObjectAsync(new StoredObject { Tier = archiveTier.Name, Key = archiveKey, Phase = phase, SizeBytes = archiveSum.Size, Md5 = archiveSum.Md5, Sha256 = archiveSum.Sha256, StoredAt = now, VerifiedAt = now }, cancellationToken).ConfigureAwait(false);
        await Catalog.UpsertObjectAsync(new StoredObject { Tier = archiveTier.Name, Key = manifestKey, Phase = phase, SizeBytes = manifestBytes.Length, Md5 = manifestMd5, Sha256 = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(manifestBytes)).ToLowerInvariant(), StoredAt = now, VerifiedAt = now }, cancellationToken).ConfigureAwait(false);
        foreach (var file in files)
            await Catalog.UpsertObjectAsync(new StoredObject
            {
                Tier = archiveTier.Name, Key = archiveKey + ArchiveMemberSeparator + file.Path, SessionId = file.SessionId, Phase = phase,
                SizeBytes = file.Size, Md5 = file.Md5, Sha256 = file.Sha256, StoredAt = now, VerifiedAt = now,
            }, cancellationToken).ConfigureAwait(false);
        foreach (var session in sessions.Where(s => s.State != SessionState.Archived))
            await Catalog.UpdateSessionAsync(session with { State = SessionState.Archived }, cancellationToken).ConfigureAwait(false);
        TryDeleteDirectory(staging);
        return new PhaseArchiveResult
        {
            Phase = phase, PhaseName = phaseName, Tier = archiveTier.Name, Key = archiveKey, ManifestKey = manifestKey,
            Sessions = sessions.Select(s => s.SessionId).ToList(), SizeBytes = archiveSum.Size, Md5 = archiveSum.Md5, Sha256 = archiveSum.Sha256,
            Verified = true, Duration = Stopwatch.GetElapsedTime(started),
        };
    }

    /// <summary>
    /// Builds Phase_n.tar.gz into <paramref name="output"/> and at the same time stores it on the (folder) archive tier,
    /// which reads it from a pipe. What the store reports having written must be what was built: otherwise the object,
    /// which did not exist before, is removed again and the archive fails (the backup copies stay).
    /// </summary>
    private async Task<(List<PhaseArchiveFile> Files, FileChecksum Sum)> BuildIntoStoreAsync(List<(SessionRecord Session, StoredObject Object)> members, IObjectStore backupStore,
        TierDefinition backupTier, string staging, IObjectStore archiveStore, string archiveKey, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var pipe = new BoundedPipe();
        var total = members.Sum(m => m.Object.SizeBytes);
        var put = Task.Run(async () =>
        {
            try
            {
                return await archiveStore.PutAsync(archiveKey, pipe.Reader, new PutOptions
                {
                    Progress = new ForwardedProgress<long>(bytes => progress?.Report(new BackupProgress { SessionId = archiveKey, Stage = "Uploading", File = archiveKey, BytesDone = bytes, BytesTotal = total })),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                pipe.Fail(ex);
                throw;
            }
        }, CancellationToken.None);
        (List<PhaseArchiveFile> Files, FileChecksum Sum) built;
        try
        {
            built = await BuildArchiveAsync(members, backupStore, backupTier, staging, pipe.Writer, progress, cancellationToken).ConfigureAwait(false);
            pipe.Complete();
        }
        catch (Exception ex)
        {
            pipe.Complete(ex);
            await put.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            // The store failed first (a full disk): its error is the cause, the build only saw the pipe close.
            if (put.IsFaulted && ex is IOException && put.Exception!.InnerException is { } cause) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            throw;
        }
        var stored = await put.ConfigureAwait(false);
        if (!Matches(stored, built.Sum.Size, built.Sum.Md5))
        {
            await archiveStore.DeleteAsync(archiveKey, CancellationToken.None).ConfigureAwait(false);
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"Tier '{archiveStore.TierName}' stored '{archiveKey}' as {stored.Size:N0} bytes with MD5 {stored.Md5}, not the {built.Sum.Size:N0} bytes with MD5 {built.Sum.Md5} that were built; it was removed again and the backup copies stay.", archiveKey);
        }
        return built;
    }

    /// <summary>
    /// Writes Phase_n.tar.gz into <paramref name="output"/> from the members as the backup tier holds them, each checked
    /// against the catalog's checksums by the read that puts it into the tar. Returns the files inside and the archive's checksums.
    /// </summary>
    private async Task<(List<PhaseArchiveFile> Files, FileChecksum Sum)> BuildArchiveAsync(List<(SessionRecord Session, StoredObject Object)> members, IObjectStore backupStore,
        TierDefinition backupTier, string staging, Stream output, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var files = new List<PhaseArchiveFile>();
        FileChecksum archiveSum;
        var total = members.Sum(m => m.Object.SizeBytes);
        long done = 0;
        {
            await using var sums = new ChecksumStream(output, leaveOpen: true);
            await using (var gzip = new ParallelGzipStream(sums, _workspace.Policy.Backup.CompressionLevel, leaveOpen: true))
            {
                await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
                {
                    foreach (var (session, stored) in members)
                    {
                        var name = stored.Key[(stored.Key.LastIndexOf('/') + 1)..];
                        var expected = new PackagedFile { Name = stored.Key, Size = stored.SizeBytes, Md5 = stored.Md5!, Sha256 = stored.Sha256! };
                        var piece = Path.Combine(staging, "piece");
                        // Members that are gzip already are stored, not deflated again: the same bytes, a fraction of the CPU.
                        await gzip.SetStoredAsync(name.EndsWith(".gz", StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
                        // A catalog rebuilt from the tiers knows the session but not its events: take them from the copy passing by,
                        // so the review stored in the manifest below covers every session. Downloaded and verified first: it is read
                        // before the tar.
                        var imports = name is SessionPackager.AnalyticsFileName or SessionPackager.CompressedAnalyticsFileName && session.EventCount == 0;
                        // A folder backup tier's file is read where it is (issue 12: it was copied to staging and read again, 2x the
                        // reads and a write of every member); any other tier's is downloaded to staging first.
                        Stream source;
                        if (backupStore is IInPlaceReadStore inPlace && !imports) source = await inPlace.OpenReadAsync(stored.Key, cancellationToken).ConfigureAwait(false);
                        else
                        {
                            await using (var download = new FileStream(piece, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
                                await backupStore.GetAsync(stored.Key, download, 0, null, cancellationToken).ConfigureAwait(false);
                            if (imports)
                            {
                                await PackageVerifier.VerifyFileAsync(piece, expected, cancellationToken).ConfigureAwait(false);
                                await ImportArchivedAnalyticsAsync(piece, name, session, staging, cancellationToken).ConfigureAwait(false);
                            }
                            source = new FileStream(piece, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 16, FileOptions.SequentialScan);
                        }
                        var path = $"sessions/{session.SessionId}/{name}";
                        // Each file is checked against the catalog's checksums by the read that puts it into the tar: a damaged
                        // copy fails the archive here, before anything is stored (the partial archive is discarded). By size and
                        // SHA-256: the same bytes have the same MD5, so hashing them with MD5 as well proved nothing more. The read
                        // takes the catalog's size and no more, whatever the file does meanwhile.
                        await using (source)
                        {
                            if (source.Length != stored.SizeBytes)
                                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                                    $"'{stored.Key}' on tier '{backupTier.Name}' is {source.Length:N0} bytes; the catalog recorded {stored.SizeBytes:N0}. The copy is corrupt; back the session up again.", stored.Key);
                            await using var data = new ChecksumReadStream(new ExactLengthReadStream(source, stored.SizeBytes), leaveOpen: true, md5: false);
                            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = data, ModificationTime = stored.StoredAt }, cancellationToken).ConfigureAwait(false);
                            PackageVerifier.RequireSizeAndSha256(data.GetChecksum(), expected, $"{stored.Key} on tier {backupTier.Name}");
                        }
                        files.Add(new PhaseArchiveFile { SessionId = session.SessionId, Path = path, Size = stored.SizeBytes, Md5 = stored.Md5!, Sha256 = stored.Sha256! });
                        done += stored.SizeBytes;
                        progress?.Report(new BackupProgress { SessionId = session.SessionId, Stage = "Archiving", File = path, BytesDone = done, BytesTotal = total });
                    }
                }
                await gzip.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            archiveSum = sums.GetChecksum();
        }

        return (files, archiveSum);
    }

    /// <summary>Brings a session's events into the catalog from its verified analytics snapshot (plain, or gzipped since
    /// manifest format 2) on its way into the archive.</summary>
    private async Task ImportArchivedAnalyticsAsync(string piece, string name, SessionRecord session, string staging, CancellationToken cancellationToken)
    {
        if (name == SessionPackager.AnalyticsFileName)
        {
            await Catalog.ImportSessionEventsAsync(piece, session.SessionId, cancellationToken).ConfigureAwait(false);
            return;
        }
        // The catalog row says only what the .gz is; what it unpacks to is bounded like any package read back from a tier.
        var plain = Path.Combine(staging, "piece.db");
        await SafeExtractor.DecompressGzipAtMostAsync(piece, plain, ExpansionBounds.MaxUnvouchedEntryBytes, overwrite: true, cancellationToken).ConfigureAwait(false);
        try
        {
            await Catalog.ImportSessionEventsAsync(plain, session.SessionId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(plain);
        }
    }

    /// <summary>
    /// The phase's totals for the archive manifest from its merged rollup: per session, the figures
    /// <see cref="CatalogDatabase.SummarizeSessionAsync"/> gives (events, failures, tokens, and count, duration and failures per
    /// agent, tool, model and task), summed. Each session's rollup folded them with the rest of the review, once, when it
    /// completed; reading them here replaced a pass over every event of the phase that cost more CPU than building the
    /// archive (issue 12).
    /// </summary>
    internal static PhaseArchiveTotals PhaseTotals(IReadOnlyList<SessionRecord> sessions, SessionRollup merged)
    {
        IReadOnlyList<NameCount> Ordered(SessionRollup.NameColumn column) => merged.Names[(int)column]
            .Select(n => new NameCount(n.Key, n.Value.Count, n.Value.DurationMs, n.Value.Failures))
            .OrderByDescending(n => n.Count).ThenBy(n => n.Name, StringComparer.Ordinal).ToList();
        return new PhaseArchiveTotals
        {
            Sessions = sessions.Count,
            Events = merged.Events,
            Failures = merged.Failures,
            DurationMs = sessions.Sum(s => s.EndedAt is { } end ? (long)(end - s.StartedAt).TotalMilliseconds : 0),
            Tokens = new TokenUsage { Input = merged.InputTokens, Output = merged.OutputTokens, CacheRead = merged.CacheReadTokens, CacheWrite = merged.CacheWriteTokens },
            Agents = Ordered(SessionRollup.NameColumn.Agent),
            Tools = Ordered(SessionRollup.NameColumn.Tool),
            Models = Ordered(SessionRollup.NameColumn.Model),
            Tasks = Ordered(SessionRollup.NameColumn.Task),
        };
    }

    /// <summary>
    /// Runs work that holds its thread from start to end (SQLite reads complete synchronously under their async names) on a
    /// thread of its own. On the thread pool it took one of the few threads (two on two cores) that the archive build, its
    /// gzip blocks and the store reading the pipe run on, and the pool adds threads only after a delay: the store started
    /// about a second late and the build waited for it (issue 12, measured with a stopwatch build).
    /// </summary>
    private static Task<T> OnOwnThread<T>(Func<Task<T>> work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => work().GetAwaiter().GetResult(), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Replacing an archive that differs is deleting it: refused while it is younger than the storage class's minimum.</summary>
    private async Task GuardOverwriteAsync(IObjectStore store, TierDefinition tier, string key, string md5, CancellationToken cancellationToken)
    {
        var existing = await store.StatAsync(key, cancellationToken).ConfigureAwait(false);
        if (existing is null || string.Equals(existing.Md5, md5, StringComparison.OrdinalIgnoreCase)) return;
        if (EarlyDeletion(tier, existing) is { } charge)
            throw new TierStorageException(ErrorIds.EarlyDeletion, TierErrorKind.InvalidOperation,
                $"'{key}' on tier '{tier.Name}' would be replaced {charge.AgeDays} days after it was stored; {tier.StorageClass ?? "DEEP_ARCHIVE"} bills {DeepArchiveMinimumDays} days, so this costs about ${charge.CostUsd:0.00} extra. Use -Force to accept.",
                key);
    }

    /// <summary>The prorated charge for removing an object from a cold storage class before its minimum, or null when none applies.</summary>
    internal (int AgeDays, decimal CostUsd)? EarlyDeletion(TierDefinition tier, ObjectInfo info)
    {
        if (tier.Kind != TierKind.S3 || info.LastModified is not { } stored) return null;
        var storageClass = tier.StorageClass ?? "DEEP_ARCHIVE";
        var minimum = storageClass.Equals("DEEP_ARCHIVE", StringComparison.OrdinalIgnoreCase) ? DeepArchiveMinimumDays
            : storageClass.Equals("GLACIER", StringComparison.OrdinalIgnoreCase) ? 90 : 0;
        var age = (int)Math.Floor((_workspace.Now - stored).TotalDays);
        if (age >= minimum) return null;
        var gigabytes = info.Size / 1_000_000_000m;
        return (age, gigabytes * tier.PricePerGbMonth * (minimum - age) / 30m);
    }

    /// <summary>
    /// Removes one copy of a session from a tier (Move-DataTier's Delete step), only after checking, at that moment, that
    /// another tier holds a verified copy: the tiers' catalog rows are re-read, and the other copy's manifest is asked of
    /// its store. ErrorIds.BackupNotVerified when no such copy exists. Deleting from the local tier is the workspace's prune.
    /// </summary>
    public async Task<long> DeleteSessionCopyAsync(string sessionId, string tierName, CancellationToken cancellationToken)
    {
        var tier = ResolveTier(tierName);
        var objects = new List<StoredObject>();
        await foreach (var o in Catalog.ListObjectsAsync(null, sessionId, cancellationToken).ConfigureAwait(false)) objects.Add(o);
        var elsewhere = objects.Where(o => !string.Equals(o.Tier, tier.Name, StringComparison.OrdinalIgnoreCase) && o.VerifiedAt is not null
                                           && !string.Equals(o.Tier, _workspace.LocalTierName, StringComparison.OrdinalIgnoreCase)
                                           && o.Key.EndsWith("/" + SessionManifest.FileName, StringComparison.Ordinal)).ToList();
        var confirmed = false;
        foreach (var other in elsewhere)
        {
            var otherTier = _workspace.Policy.GetTier(other.Tier);
            if (otherTier is null) continue;
            await using var otherStore = await _workspace.OpenStoreForReadingAsync(otherTier, cancellationToken).ConfigureAwait(false);
            var storeKey = other.Key.Split(ArchiveMemberSeparator)[0];
            if (await otherStore.StatAsync(storeKey, cancellationToken).ConfigureAwait(false) is not null)
            {
                confirmed = true;
                break;
            }
        }
        if (!confirmed)
            throw new TierStorageException(ErrorIds.BackupNotVerified, TierErrorKind.InvalidOperation,
                $"Session '{sessionId}' is not deleted from tier '{tier.Name}': no other tier holds a verified copy of it right now.", sessionId);

        await using var store = await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
        long freed = 0;
        foreach (var o in objects.Where(o => string.Equals(o.Tier, tier.Name, StringComparison.OrdinalIgnoreCase) && o.Key.IndexOf(ArchiveMemberSeparator) < 0))
        {
            await store.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false);
            freed += o.SizeBytes;
        }
        var prefix = objects.FirstOrDefault(o => string.Equals(o.Tier, tier.Name, StringComparison.OrdinalIgnoreCase) && BackupLayout.IsSessionManifest(o.Key))?.Key;
        if (prefix is not null) await Catalog.DeleteObjectsAsync(tier.Name, prefix[..^SessionManifest.FileName.Length], cancellationToken).ConfigureAwait(false);
        return freed;
    }
}
