using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Backup;

public sealed record RestoreRequest
{
    public string SessionId { get; init; } = "";
    /// <summary>Tier to restore from; default whichever tier the catalog (or, without it, the tiers' manifests) shows holding it.</summary>
    public string? Tier { get; init; }
    /// <summary>Restore as plain files into this directory instead of into the workspace (the catalog is left alone).</summary>
    public string? Destination { get; init; }
    /// <summary>Replace local files of the session that already exist.</summary>
    public bool Force { get; init; }
    /// <summary>For a session in a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper).</summary>
    public ArchiveRetrievalTier Retrieval { get; init; } = ArchiveRetrievalTier.Standard;
    /// <summary>For a session in a cold archive: wait for the thaw (polling) and restore, instead of returning Thawing.</summary>
    public bool Wait { get; init; }
    /// <summary>How often -Wait asks the archive whether the thaw is done.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMinutes(15);
    /// <summary>Keep a downloaded phase archive in staging/ for the next session of the same phase (Restore-Phase).</summary>
    internal bool KeepArchiveDownload { get; init; }
}

public sealed partial class BackupOperations
{
    /// <summary>Downloads the session from its tier (resuming partial downloads), verifies every file's size, MD5 and
    /// SHA-256 against the manifest, and unpacks it safely into the workspace (or <see cref="RestoreRequest.Destination"/>).
    /// ErrorIds.BackupNotFound, ChecksumMismatch (the bad download is discarded), UnsafeArchive, RestoreTargetExists.</summary>
    public async Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        while (true)
        {
            var result = await RestoreOnceAsync(request, progress, cancellationToken).ConfigureAwait(false);
            if (result.Status != RestoreStatus.Thawing || !request.Wait) return result;
            progress?.Report(new BackupProgress { SessionId = request.SessionId, Stage = $"Thawing until about {result.ReadyAfter:u}" });
            await Task.Delay(request.PollInterval, _workspace.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<RestoreResult> RestoreOnceAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        Workspace.SessionIds.Validate(request.SessionId);
        var started = Stopwatch.GetTimestamp();
        var sessionId = request.SessionId;
        var located = await LocateBackupAsync(sessionId, request.Tier, cancellationToken).ConfigureAwait(false);
        if (located is null)
        {
            var archived = await LocateArchiveAsync(sessionId, request.Tier, cancellationToken).ConfigureAwait(false)
                ?? throw new TierStorageException(ErrorIds.BackupNotFound, TierErrorKind.ObjectNotFound,
                    $"No backup of session '{sessionId}' was found on {(request.Tier is null ? "any tier" : $"tier '{request.Tier}'")}: the catalog lists none and no tier holds its manifest.",
                    sessionId);
            return await RestoreFromArchiveAsync(request, archived.Tier, archived.ManifestKey, progress, started, cancellationToken).ConfigureAwait(false);
        }
        var (tier, manifestKey) = located.Value;
        var prefix = manifestKey[..^SessionManifest.FileName.Length];
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var manifest = await ReadSessionManifestAsync(store, tier, manifestKey, sessionId, cancellationToken).ConfigureAwait(false);
        // Refused before the first byte is downloaded: a restore that cannot be unpacked changes nothing, not even staging/.
        var destinationPath = request.Destination is null ? null : Path.GetFullPath(request.Destination);
        if (destinationPath is null) await RequireWorkspaceTargetAsync(manifest, request.Force, cancellationToken).ConfigureAwait(false);
        else if (!request.Force) RequireFreeDestination(manifest, destinationPath);
        var download = Path.Combine(_workspace.Layout.StagingDirectory, "restore-" + sessionId);
        Directory.CreateDirectory(download);

        var received = await DownloadAllVerifiedAsync(store, prefix, manifest, download, progress, cancellationToken).ConfigureAwait(false);
        var total = manifest.Files.Sum(f => f.Size);
        var files = manifest.Files
            .Select(file => new BackupFile { Name = file.Name, Key = prefix + file.Name, SizeBytes = file.Size, Md5 = file.Md5, Sha256 = file.Sha256, Transferred = true, Verified = true })
            .ToList();

        progress?.Report(new BackupProgress { SessionId = sessionId, Stage = "Unpacking", BytesDone = total, BytesTotal = total });
        var destination = destinationPath is null
            ? await UnpackIntoWorkspaceAsync(manifest, download, request.Force, cancellationToken).ConfigureAwait(false)
            : await UnpackIntoDirectoryAsync(manifest, download, destinationPath, request.Force, cancellationToken).ConfigureAwait(false);
        TryDeleteDirectory(download);
        return new RestoreResult
        {
            SessionId = sessionId, Phase = manifest.PhaseNumber, Tier = tier.Name, Destination = destination,
            Files = files, BytesReceived = received, Verified = true, Duration = Stopwatch.GetElapsedTime(started),
        };
    }

    /// <summary>The manifest of <paramref name="sessionId"/>'s backup, strictly parsed; ErrorIds.InvalidManifest when it
    /// describes another session. Where the catalog recorded the manifest it backed up, the tier's copy must be that one
    /// (ChecksumMismatch otherwise): the manifest carries every other file's checksums, so a tier that swapped a package and
    /// rewrote the manifest to match would otherwise have its content restored as verified.</summary>
    private async Task<SessionManifest> ReadSessionManifestAsync(IObjectStore store, TierDefinition tier, string manifestKey, string sessionId,
        CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        await store.GetAsync(manifestKey, bytes, 0, null, cancellationToken).ConfigureAwait(false);
        StoredObject? recorded = null;
        await foreach (var o in Catalog.ListObjectsAsync(tier.Name, sessionId, cancellationToken).ConfigureAwait(false))
            if (o.Key == manifestKey) recorded = o;
        if (recorded is { Sha256: { } sha256 })
        {
            var actual = Checksums(bytes.ToArray());
            if (bytes.Length != recorded.SizeBytes || !string.Equals(actual.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                    $"'{manifestKey}' on tier '{tier.Name}' is not the manifest this catalog backed up ({bytes.Length:N0} bytes, SHA-256 {actual.Sha256}; " +
                    $"the catalog recorded {recorded.SizeBytes:N0} bytes, SHA-256 {sha256}). Nothing was restored; Test-Backup names what else differs.", manifestKey);
        }
        var manifest = SessionManifest.Parse(bytes.ToArray(), $"{tier.Name}:{manifestKey}");
        if (recorded?.Sha256 is null) ExpansionBounds.RequireWithin(manifest, $"{tier.Name}:{manifestKey}");
        if (manifest.SessionId != sessionId)
            throw new TierStorageException(ErrorIds.InvalidManifest, TierErrorKind.InvalidData,
                $"'{manifestKey}' on tier '{tier.Name}' describes session '{manifest.SessionId}', not '{sessionId}'.", manifestKey);
        return manifest;
    }

    /// <summary>Files of one package downloaded at once from stores that serve concurrent reads (S3, folders); the
    /// others (Drive, encrypted tiers, which keep per-store state) one at a time.</summary>
    private const int MaxConcurrentDownloads = 4;

    /// <summary>Downloads every file of the package into <paramref name="download"/>, each verified
    /// (<see cref="DownloadVerifiedAsync"/>), several at once where the store allows. Nothing is unpacked until all are
    /// verified. Returns the bytes received.</summary>
    private static async Task<long> DownloadAllVerifiedAsync(IObjectStore store, string prefix, SessionManifest manifest, string download,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var total = manifest.Files.Sum(f => f.Size);
        var onDisk = new long[manifest.Files.Count];
        long received = 0;
        var reporting = new object();
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = ServesConcurrentTransfers(store) ? MaxConcurrentDownloads : 1,
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(Enumerable.Range(0, manifest.Files.Count), parallel, async (index, token) =>
        {
            var file = manifest.Files[index];
            var bytesNow = await DownloadVerifiedAsync(store, prefix + file.Name, file, Path.Combine(download, file.Name), bytes =>
            {
                if (progress is null) return;
                // One report at a time, with the bytes of every file so far.
                lock (reporting)
                {
                    onDisk[index] = bytes;
                    progress.Report(new BackupProgress { SessionId = manifest.SessionId, Stage = "Downloading", File = file.Name, BytesDone = onDisk.Sum(), BytesTotal = total });
                }
            }, token).ConfigureAwait(false);
            Interlocked.Add(ref received, bytesNow);
        }).ConfigureAwait(false);
        return received;
    }

    /// <summary>Downloads one packaged file to <paramref name="path"/> and verifies its size, MD5 and SHA-256. A whole
    /// download is checksummed as it is written (no second read); a download cut off by a crash resumes from what reached
    /// the disk (anything longer than the file is junk) and is then checked by reading the file. Bytes that fail
    /// verification are never kept, so the next attempt downloads them again. <paramref name="onBytes"/> gets the bytes of
    /// the file on disk so far; returns the bytes received now.</summary>
    private static async Task<long> DownloadVerifiedAsync(IObjectStore store, string key, PackagedFile file, string path, Action<long>? onBytes,
        CancellationToken cancellationToken)
    {
        var offset = File.Exists(path) ? new FileInfo(path).Length : 0;
        if (offset > file.Size)
        {
            File.Delete(path);
            offset = 0;
        }
        long received = 0;
        FileChecksum? streamed = null;
        try
        {
            if (offset < file.Size)
            {
                await using var output = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16);
                var reportBytes = onBytes is null ? null : new ForwardedProgress<long>(bytes => onBytes(offset + bytes));
                if (offset == 0)
                {
                    await using var hashing = new ChecksumStream(output, leaveOpen: true);
                    await store.GetAsync(key, hashing, 0, reportBytes, cancellationToken).ConfigureAwait(false);
                    streamed = hashing.GetChecksum();
                }
                else
                {
                    await store.GetAsync(key, output, offset, reportBytes, cancellationToken).ConfigureAwait(false);
                }
                // Flushed before the length is read and the bytes are trusted: a failed write must fail the download.
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                received = output.Length - offset;
            }
            if (streamed is null) await PackageVerifier.VerifyFileAsync(path, file, cancellationToken).ConfigureAwait(false);
            else RequireStreamedMatch(streamed, new FileInfo(path).Length, file, path);
        }
        catch (TierStorageException e) when (e.ErrorId == ErrorIds.ChecksumMismatch)
        {
            File.Delete(path);
            throw;
        }
        return received;
    }

    /// <summary>ErrorIds.ChecksumMismatch when the bytes written (as hashed on their way to disk, and the file's length)
    /// differ from the manifest's size, MD5 or SHA-256.</summary>
    private static void RequireStreamedMatch(FileChecksum actual, long lengthOnDisk, PackagedFile expected, string path)
    {
        var (what, found, wanted) =
            actual.Size != expected.Size || lengthOnDisk != expected.Size ? ("size", $"{Math.Max(actual.Size, lengthOnDisk):N0} bytes", $"{expected.Size:N0} bytes")
            : !string.Equals(actual.Md5, expected.Md5, StringComparison.OrdinalIgnoreCase) ? ("MD5", actual.Md5, expected.Md5)
            : !string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase) ? ("SHA-256", actual.Sha256, expected.Sha256)
            : (null, null, null);
        if (what is not null)
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"'{expected.Name}' does not match its manifest: its {what} is {found}, the manifest says {wanted} ('{path}'). The copy is corrupt; download it again.",
                expected.Name);
    }

    /// <summary>The tier and manifest key of a session's backup: from the catalog's verified manifests, else by searching
    /// the tiers' manifests (the catalog may be the thing that was lost).</summary>
    private async Task<(TierDefinition Tier, string ManifestKey)?> LocateBackupAsync(string sessionId, string? tierName, CancellationToken cancellationToken)
    {
        var candidates = tierName is null
            ? _workspace.Policy.Tiers.Where(t => !string.Equals(t.Name, _workspace.LocalTierName, StringComparison.OrdinalIgnoreCase)).OrderBy(t => t.Level).ToList()
            : [ResolveTier(tierName)];
        await foreach (var o in Catalog.ListObjectsAsync(null, sessionId, cancellationToken).ConfigureAwait(false))
        {
            if (o.VerifiedAt is null || !BackupLayout.IsSessionManifest(o.Key)) continue;
            if (candidates.FirstOrDefault(t => string.Equals(t.Name, o.Tier, StringComparison.OrdinalIgnoreCase)) is { } tier)
                return (tier, o.Key);
        }
        foreach (var tier in candidates.Where(t => t.Level != TierLevel.Archive))
        {
            await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
            await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false))
                if (BackupLayout.IsSessionManifest(info.Key) && BackupLayout.SessionOf(info.Key) == sessionId)
                    return (tier, info.Key);
        }
        return null;
    }

    /// <summary>Where the session's log goes in the workspace: where it already is, else logs/&lt;session&gt;.jsonl.</summary>
    private async Task<string> WorkspaceLogPathAsync(string sessionId, CancellationToken cancellationToken)
    {
        var record = await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return (record is null ? null : _workspace.LocateLog(record)) ?? _workspace.Layout.RetainedLogPath(sessionId);
    }

    /// <summary>ErrorIds.RestoreTargetExists when (without force) a file of the session is already in the workspace;
    /// ErrorIds.SessionStillActive when the session is the active one.</summary>
    private async Task RequireWorkspaceTargetAsync(SessionManifest manifest, bool force, CancellationToken cancellationToken)
    {
        var layout = _workspace.Layout;
        var sessionId = manifest.SessionId;
        var snapshots = manifest.Find(SessionPackager.SnapshotsFileName);
        if (!force)
        {
            var present = new[] { await WorkspaceLogPathAsync(sessionId, cancellationToken).ConfigureAwait(false),
                    manifest.Find(SessionPackager.HandoffFileName) is null ? null : layout.HandoffPath(sessionId) }
                .Concat(snapshots?.Contents.Select(c => Path.Combine(layout.StateDirectory, c.Name)) ?? [])
                .FirstOrDefault(p => p is not null && File.Exists(p));
            if (present is not null)
                throw new TierStorageException(ErrorIds.RestoreTargetExists, TierErrorKind.ResourceExists,
                    $"Session '{sessionId}' is already on the local tier ('{present}'); nothing was changed. Use -Force (--force) to replace it, or -Destination to restore elsewhere.",
                    sessionId);
        }
        if ((await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false))?.State == SessionState.Active)
            throw new TierStorageException(ErrorIds.SessionStillActive, TierErrorKind.InvalidOperation,
                $"Session '{sessionId}' is active; complete it before restoring over it.", sessionId);
    }

    /// <summary>The files go in place without overwriting (unless forced), so a file created since the check still fails the restore.</summary>
    private async Task<string> UnpackIntoWorkspaceAsync(SessionManifest manifest, string download, bool force, CancellationToken cancellationToken)
    {
        var layout = _workspace.Layout;
        var sessionId = manifest.SessionId;
        var logPath = await WorkspaceLogPathAsync(sessionId, cancellationToken).ConfigureAwait(false);
        var handoffPath = layout.HandoffPath(sessionId);
        var activity = RequireFile(manifest, SessionPackager.ActivityFileName);
        var snapshots = manifest.Find(SessionPackager.SnapshotsFileName);
        var handoff = manifest.Find(SessionPackager.HandoffFileName);

        // Everything is unpacked beside its target and verified before the first file is replaced. The snapshots and the
        // log decompress at once, each on a core; the log stays beside its target until the snapshots are in place, so
        // a refused snapshot archive leaves the workspace as it was (as when they ran one after the other).
        var logBeside = BesideTarget(logPath);
        try
        {
            await InParallelAsync(
                snapshots is null ? null : () => SafeExtractor.ExtractTarGzAsync(Path.Combine(download, snapshots.Name), layout.StateDirectory,
                    new ExtractionOptions { Expected = snapshots.Contents, Overwrite = force }, cancellationToken),
                () => SafeExtractor.DecompressGzipAsync(Path.Combine(download, activity.Name), logBeside, ActivitySize(activity), overwrite: true, cancellationToken)).ConfigureAwait(false);
            PlaceUnpacked(logBeside, logPath, force);
        }
        finally
        {
            AtomicFile.TryDelete(logBeside);
        }
        if (handoff is not null) CopyVerified(Path.Combine(download, handoff.Name), handoffPath, force);
        await _workspace.AdoptRestoredSessionAsync(sessionId, manifest.PhaseNumber, manifest.PhaseName, logPath, handoff is null ? null : handoffPath, cancellationToken).ConfigureAwait(false);
        return _workspace.Root;
    }

    /// <summary>ErrorIds.RestoreTargetExists when a plain file of the session is already in <paramref name="destination"/>.</summary>
    private static void RequireFreeDestination(SessionManifest manifest, string destination)
    {
        var plain = manifest.Files.Where(f => f.Name is not (SessionPackager.ActivityFileName or SessionPackager.SnapshotsFileName))
            .Select(f => f.Name == SessionPackager.CompressedAnalyticsFileName ? SessionPackager.AnalyticsFileName : f.Name)
            .Append(SessionPackager.ActivityEntryName).Append(SessionManifest.FileName);
        if (plain.Select(name => Path.Combine(destination, name)).FirstOrDefault(File.Exists) is { } present)
            throw new TierStorageException(ErrorIds.RestoreTargetExists, TierErrorKind.ResourceExists,
                $"'{present}' already exists; nothing was changed. Use -Force (--force) to replace it.", present);
    }

    private static async Task<string> UnpackIntoDirectoryAsync(SessionManifest manifest, string download, string destination, bool force, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var activity = RequireFile(manifest, SessionPackager.ActivityFileName);
        var snapshots = manifest.Find(SessionPackager.SnapshotsFileName);
        var analytics = manifest.Find(SessionPackager.CompressedAnalyticsFileName);
        // The three decompressions (snapshots, log, analytics snapshot) are independent: they run at once, one a core.
        // The log and the analytics snapshot wait beside their targets until the snapshots are in place, so a refused
        // snapshot archive writes nothing (as when they ran one after the other).
        var logPath = Path.Combine(destination, SessionPackager.ActivityEntryName);
        var analyticsPath = Path.Combine(destination, SessionPackager.AnalyticsFileName);
        var (logBeside, analyticsBeside) = (BesideTarget(logPath), BesideTarget(analyticsPath));
        try
        {
            await InParallelAsync(
                snapshots is null ? null : () => SafeExtractor.ExtractTarGzAsync(Path.Combine(download, snapshots.Name), Path.Combine(destination, "snapshots"),
                    new ExtractionOptions { Expected = snapshots.Contents, Overwrite = force }, cancellationToken),
                () => SafeExtractor.DecompressGzipAsync(Path.Combine(download, activity.Name), logBeside, ActivitySize(activity), overwrite: true, cancellationToken),
                analytics is null ? null : () => SessionPackager.UnpackAnalyticsAsync(Path.Combine(download, analytics.Name), analytics, analyticsBeside,
                    overwrite: true, cancellationToken)).ConfigureAwait(false);
            PlaceUnpacked(logBeside, logPath, force);
            if (analytics is not null) PlaceUnpacked(analyticsBeside, analyticsPath, force);
        }
        finally
        {
            AtomicFile.TryDelete(logBeside);
            AtomicFile.TryDelete(analyticsBeside);
        }
        foreach (var file in manifest.Files.Where(f => f.Name is not (SessionPackager.ActivityFileName or SessionPackager.SnapshotsFileName or SessionPackager.CompressedAnalyticsFileName)))
            CopyVerified(Path.Combine(download, file.Name), Path.Combine(destination, file.Name), force);
        await manifest.WriteAsync(Path.Combine(destination, SessionManifest.FileName), cancellationToken).ConfigureAwait(false);
        return destination;
    }

    /// <summary>A hidden name beside <paramref name="target"/> (same directory, so placing it is a rename) for a file
    /// unpacked before the others are known to be good.</summary>
    private static string BesideTarget(string target)
    {
        var full = Path.GetFullPath(target);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid().ToString("N")[..8]}.unpacked");
    }

    /// <summary>Moves an unpacked, verified file into place; without <paramref name="overwrite"/> an existing target is
    /// left alone and reported (ErrorIds.FileExists), as the extractor reports it.</summary>
    private static void PlaceUnpacked(string unpacked, string target, bool overwrite)
    {
        try
        {
            File.Move(unpacked, target, overwrite);
        }
        catch (IOException) when (!overwrite && File.Exists(target))
        {
            throw new TierStorageException(ErrorIds.FileExists, TierErrorKind.ResourceExists,
                $"'{target}' already exists; nothing was extracted. Restore with -Force to replace it, or choose another destination.", target);
        }
    }

    /// <summary>Runs the given steps (nulls skipped) at once, each on the thread pool, and waits for all of them: a
    /// failure is thrown (the first in the order given) only once every step has ended, so nothing is still writing.</summary>
    private static Task InParallelAsync(params Func<Task>?[] steps) =>
        Task.WhenAll(steps.Where(s => s is not null).Select(s => Task.Run(s!)));

    private static PackagedFile RequireFile(SessionManifest manifest, string name) =>
        manifest.Find(name) ?? throw new TierStorageException(ErrorIds.InvalidManifest, TierErrorKind.InvalidData,
            $"The manifest of session '{manifest.SessionId}' lists no {name}.", name);

    private static long ActivitySize(PackagedFile activity) =>
        activity.Contents.Count == 1 ? activity.Contents[0].Size : activity.SourceBytes;

    /// <summary>Files stored as they are (handoff, analytics snapshot) were verified in the download directory; they move into place.</summary>
    private static void CopyVerified(string from, string to, bool overwrite)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Move(from, to, overwrite);
    }
}
