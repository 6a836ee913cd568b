using System.Buffers;
using System.Formats.Tar;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Packaging;

/// <summary>The local files of one session to package, and where the package goes.</summary>
public sealed record SessionPackageRequest
{
    public required string SessionId { get; init; }
    public int PhaseNumber { get; init; }
    public string? PhaseName { get; init; }
    /// <summary>The session's JSONL log (logs/&lt;session&gt;.jsonl, or session_current.jsonl). Required.</summary>
    public required string ActivityLogPath { get; init; }
    /// <summary>state/&lt;session&gt;_snapNNN.json.gz files; stored in snapshots.tar.gz under their file names.</summary>
    public IReadOnlyList<string> SnapshotPaths { get; init; } = [];
    /// <summary>handoffs/&lt;session&gt;_handoff.md, or null when the session has none.</summary>
    public string? HandoffPath { get; init; }
    /// <summary>The analytics/catalog SQLite database whose rows of this session become analytics_snapshot.db(.gz); null to leave it out.</summary>
    public string? CatalogDatabasePath { get; init; }
    /// <summary>Writes the session's share of a catalog that is not an SQLite file (PostgreSQL) into the given file; used
    /// instead of <see cref="CatalogDatabasePath"/>.</summary>
    public Func<string, CancellationToken, Task>? WriteCatalogExtract { get; init; }
    /// <summary>Directory that receives the package; created when missing. Files of an earlier package there are replaced.</summary>
    public required string StagingDirectory { get; init; }
    /// <summary>The policy's gzip level, 1..9.</summary>
    public int CompressionLevel { get; init; } = 6;
    /// <summary>Time recorded in the manifest; now when null.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>
/// Builds a session package in a staging directory: activity.jsonl.gz, snapshots.tar.gz, handoff.md,
/// analytics_snapshot.db.gz and manifest.json, each source read once, each output checksummed as it is written.
/// Everything is written under temp names and renamed only when all outputs are complete (manifest last), so a
/// cancelled or failed run leaves no partial package; the session's own files are only ever opened for reading.
/// </summary>
public static class SessionPackager
{
    public const string ActivityFileName = "activity.jsonl.gz";
    public const string ActivityEntryName = "activity.jsonl";
    public const string SnapshotsFileName = "snapshots.tar.gz";
    public const string HandoffFileName = "handoff.md";
    /// <summary>The session's analytics snapshot as it is restored, and as packages of manifest format 1 stored it.</summary>
    public const string AnalyticsFileName = "analytics_snapshot.db";
    /// <summary>The analytics snapshot as packages store it since manifest format 2: gzip compresses the SQLite file about
    /// 4:1, and it was most of a package's bytes (issue 12). Its manifest entry lists <see cref="AnalyticsFileName"/> with its
    /// exact size as the one member, so restores unpack it byte for byte and no further than that.</summary>
    public const string CompressedAnalyticsFileName = AnalyticsFileName + ".gz";

    private const int CopyBufferSize = 1 << 18;
    private const int SqliteFull = 13;

    /// <summary>The analytics snapshot of a package: the compressed one (format 2), else the plain one of older packages.</summary>
    public static PackagedFile? FindAnalytics(SessionManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Find(CompressedAnalyticsFileName) ?? manifest.Find(AnalyticsFileName);
    }

    /// <summary>Writes the analytics snapshot <paramref name="file"/> (downloaded and verified at <paramref name="path"/>) as
    /// the plain SQLite file at <paramref name="target"/>: decompressed to exactly the size its manifest lists when it is
    /// the compressed one, moved when it is plain.</summary>
    public static async Task UnpackAnalyticsAsync(string path, PackagedFile file, string target, bool overwrite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        if (file.Name == CompressedAnalyticsFileName)
        {
            if (file.Contents is not [{ Name: AnalyticsFileName } entry])
                throw new TierStorageException(ErrorIds.InvalidManifest, TierErrorKind.InvalidData,
                    $"The manifest lists '{CompressedAnalyticsFileName}' without its one member '{AnalyticsFileName}' and its size.", file.Name);
            await SafeExtractor.DecompressGzipAsync(path, target, entry.Size, overwrite, cancellationToken).ConfigureAwait(false);
            File.Delete(path);
        }
        else File.Move(path, target, overwrite);
    }

    /// <summary>Packages the session. <paramref name="progress"/> receives the cumulative source bytes processed.
    /// Fails with ErrorIds.PackageSourceNotFound for a missing source, ErrorIds.DiskFull when the staging disk fills up.</summary>
    public static async Task<SessionManifest> PackageAsync(SessionPackageRequest request, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        SessionIds.Validate(request.SessionId);
        _ = ParallelGzipStream.MapLevel(request.CompressionLevel);
        RequireSource(request.ActivityLogPath, "activity log");
        foreach (var snapshot in request.SnapshotPaths) RequireSource(snapshot, "snapshot");
        if (request.HandoffPath is not null) RequireSource(request.HandoffPath, "handoff");
        if (request.CatalogDatabasePath is not null) RequireSource(request.CatalogDatabasePath, "analytics database");
        var duplicate = request.SnapshotPaths.GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"Two snapshots of session '{request.SessionId}' have the file name '{duplicate.Key}'; snapshot names must be unique in a package.", duplicate.Key);

        var staging = Path.GetFullPath(request.StagingDirectory);
        var run = new Run(staging, progress);
        try
        {
            IoErrors.Guard("creating the staging directory", staging, () => Directory.CreateDirectory(staging));
            // The database copy is page copying on one thread, mostly waiting on I/O: it runs beside the compression,
            // which is what keeps the cores busy, instead of after it.
            var database = request.CatalogDatabasePath is null && request.WriteCatalogExtract is null ? null
                : run.AnalyticsSnapshotAsync(request, cancellationToken);
            var files = new List<PackagedFile>();
            try
            {
                files.Add(await run.GzipFileAsync(request.ActivityLogPath, request.CompressionLevel, cancellationToken).ConfigureAwait(false));
                files.Add(await run.TarGzAsync(request.SnapshotPaths, request.CompressionLevel, cancellationToken).ConfigureAwait(false));
                if (request.HandoffPath is not null)
                    files.Add(await run.CopyAsync(request.HandoffPath, HandoffFileName, cancellationToken).ConfigureAwait(false));
            }
            catch when (database is not null)
            {
                // Its temp file must exist before the cleanup below deletes it; its own error, if any, is secondary.
                await Task.WhenAny(database).ConfigureAwait(false);
                _ = database.Exception;
                throw;
            }
            if (database is not null) files.Add(await database.ConfigureAwait(false));

            var manifest = new SessionManifest
            {
                SessionId = request.SessionId,
                PhaseNumber = request.PhaseNumber,
                PhaseName = request.PhaseName,
                CreatedAt = request.CreatedAt ?? DateTimeOffset.UtcNow,
                Files = files,
            };
            await run.WriteManifestAsync(manifest, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            run.Commit();
            return manifest;
        }
        catch (Exception ex) when (Classify(ex, run.CurrentPath ?? staging) is { } classified)
        {
            run.DeleteTemps();
            throw classified;
        }
        catch
        {
            run.DeleteTemps();
            throw;
        }
    }

    private static TierStorageException? Classify(Exception ex, string path) => ex switch
    {
        TierStorageException => null,
        SqliteException { SqliteErrorCode: SqliteFull } => new TierStorageException(ErrorIds.DiskFull, TierErrorKind.WriteError,
            $"The disk is full while packaging into '{path}'; the session's files are unchanged. Free some space and run the backup again.", path, ex),
        _ => IoErrors.Classify(ex, "packaging into", path),
    };

    private static void RequireSource(string path, string what)
    {
        if (!File.Exists(path))
            throw new TierStorageException(ErrorIds.PackageSourceNotFound, TierErrorKind.ObjectNotFound,
                $"The session's {what} '{path}' does not exist, so the session cannot be packaged.", path);
    }

    private static FileStream OpenSource(string path) =>
        // Readers share everything: a log may still be appended to, and nothing here may block the session's own writers.
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>State of one packaging run: the temp files it made and the bytes it has processed.</summary>
    private sealed class Run(string staging, IProgress<long>? progress)
    {
        private readonly List<(string Temp, string Final)> _outputs = [];
        private readonly List<string> _scratch = [];
        private long _processed;

        /// <summary>The output being written, named in a disk-full error.</summary>
        public string? CurrentPath { get; private set; }

        private string BeginOutput(string fileName)
        {
            var final = Path.Combine(staging, fileName);
            var temp = AtomicFile.TempPathFor(final);
            lock (_outputs) _outputs.Add((temp, final));
            CurrentPath = final;
            return temp;
        }

        /// <summary>Reports under a lock: the database copy runs on another thread, and reports must not go backwards.</summary>
        private void Processed(long bytes)
        {
            lock (_outputs)
            {
                _processed += bytes;
                progress?.Report(_processed);
            }
        }

        public async Task<PackagedFile> GzipFileAsync(string source, int level, CancellationToken cancellationToken)
        {
            var temp = BeginOutput(ActivityFileName);
            await using var input = OpenSource(source);
            // A log that is still growing is packaged up to its length now, so size and checksums describe one state.
            var length = input.Length;
            var checksum = await WriteCompressedAsync(temp, level, gzip => CopyExactlyAsync(input, source, length, gzip, cancellationToken), cancellationToken).ConfigureAwait(false);
            return Describe(ActivityFileName, checksum, length, [new PackagedEntry(ActivityEntryName, length)]);
        }

        /// <summary>Copies the first <paramref name="length"/> bytes of <paramref name="input"/>, reporting progress.</summary>
        private async Task CopyExactlyAsync(Stream input, string source, long length, Stream output, CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                for (var remaining = length; remaining > 0;)
                {
                    var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                    if (read == 0) throw new IOException($"'{source}' became shorter while it was being packaged.");
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    remaining -= read;
                    Processed(read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public async Task<PackagedFile> TarGzAsync(IReadOnlyList<string> sources, int level, CancellationToken cancellationToken)
        {
            var temp = BeginOutput(SnapshotsFileName);
            var entries = new List<PackagedEntry>();
            var checksum = await WriteCompressedAsync(temp, level, async gzip =>
            {
                // TarWriter ends the archive only after an entry; with no snapshots, the two zero blocks that make an
                // empty tar are written here, so any tar reader (ours included) sees a valid, empty archive.
                if (sources.Count == 0)
                {
                    await gzip.WriteAsync(new byte[2 * 512], cancellationToken).ConfigureAwait(false);
                    return;
                }
                await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
                foreach (var source in sources)
                {
                    var name = Path.GetFileName(source);
                    // Snapshots are saved gzipped (snapshot save): deflate would find nothing to remove and spend the CPU
                    // looking. They are stored in the gzip stream instead, as the phase archive stores its .gz members.
                    await gzip.SetStoredAsync(name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase), cancellationToken).ConfigureAwait(false);
                    await using var input = OpenSource(source);
                    var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
                    {
                        DataStream = input,
                        ModificationTime = File.GetLastWriteTimeUtc(source),
                        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    };
                    var size = input.Length;
                    await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
                    entries.Add(new PackagedEntry(name, size));
                    Processed(size);
                }
            }, cancellationToken).ConfigureAwait(false);
            return Describe(SnapshotsFileName, checksum, entries.Sum(e => e.Size), entries);
        }

        public async Task<PackagedFile> CopyAsync(string source, string fileName, CancellationToken cancellationToken)
        {
            var temp = BeginOutput(fileName);
            await using var input = OpenSource(source);
            var length = input.Length;
            var checksum = await WriteFileAsync(temp, async output =>
            {
                await input.CopyToAsync(output, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                Processed(length);
            }, cancellationToken).ConfigureAwait(false);
            return Describe(fileName, checksum, length, []);
        }

        /// <summary>
        /// The session's share of the analytics database (<see cref="CatalogExtract.WriteSession"/>): its session row, phase,
        /// events, snapshots, objects and backup runs. A copy of the whole catalog would grow with every earlier session and
        /// make each backup carry all of them again (measured: 96% of a phase's bytes). The extract is a scratch file beside
        /// the outputs; what the package stores is its gzip, checksummed as it is written.
        /// </summary>
        public async Task<PackagedFile> AnalyticsSnapshotAsync(SessionPackageRequest request, CancellationToken cancellationToken)
        {
            var (sessionId, phase, level) = (request.SessionId, request.PhaseNumber, request.CompressionLevel);
            // The temp name the plain snapshot of earlier versions had, so the staging sweep also clears a scratch file
            // (and its journal) that a killed run left behind.
            var extract = AtomicFile.TempPathFor(Path.Combine(staging, AnalyticsFileName));
            lock (_outputs) _scratch.Add(extract);
            var temp = BeginOutput(CompressedAnalyticsFileName);
            AtomicFile.TryDelete(extract);
            cancellationToken.ThrowIfCancellationRequested();
            if (request.WriteCatalogExtract is { } write) await write(extract, cancellationToken).ConfigureAwait(false);
            else await Task.Run(() => CatalogExtract.WriteSession(request.CatalogDatabasePath!, extract, sessionId, phase, scratch: true), cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            long length;
            FileChecksum checksum;
            await using (var input = OpenSource(extract))
            {
                length = input.Length;
                checksum = await WriteCompressedAsync(temp, level, gzip => CopyExactlyAsync(input, extract, length, gzip, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            AtomicFile.TryDelete(extract);
            return Describe(CompressedAnalyticsFileName, checksum, length, [new PackagedEntry(AnalyticsFileName, length)]);
        }

        public Task WriteManifestAsync(SessionManifest manifest, CancellationToken cancellationToken)
        {
            var temp = BeginOutput(SessionManifest.FileName);
            var json = manifest.ToUtf8Json();
            return WriteFileAsync(temp, output => output.WriteAsync(json, cancellationToken).AsTask(), cancellationToken);
        }

        private static async Task<FileChecksum> WriteCompressedAsync(string temp, int level, Func<ParallelGzipStream, Task> produce, CancellationToken cancellationToken) =>
            await WriteFileAsync(temp, async output =>
            {
                var gzip = new ParallelGzipStream(output, level, leaveOpen: true);
                try
                {
                    await produce(gzip).ConfigureAwait(false);
                    await gzip.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await gzip.AbandonAsync().ConfigureAwait(false);
                    throw;
                }
                await gzip.DisposeAsync().ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);

        /// <summary>Writes a temp output through a checksum. Staged files are not fsynced: the staging directory is a
        /// working copy that can always be rebuilt from the untouched sources, and a file torn by a crash cannot pass
        /// for a good one, because its bytes no longer match the checksums of the manifest that uploads are verified
        /// against. Durability is the tier's job (the folder store fsyncs what it stores). Skipping five fsyncs is
        /// about a third of the packaging time on this machine's disk.</summary>
        private static async Task<FileChecksum> WriteFileAsync(string temp, Func<Stream, Task> write, CancellationToken cancellationToken)
        {
            await using var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            var checksum = new ChecksumStream(file, leaveOpen: true);
            await using (checksum.ConfigureAwait(false))
            {
                await write(checksum).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                return checksum.GetChecksum();
            }
        }

        private static PackagedFile Describe(string name, FileChecksum checksum, long sourceBytes, IReadOnlyList<PackagedEntry> contents) => new()
        {
            Name = name,
            Size = checksum.Size,
            Md5 = checksum.Md5,
            Sha256 = checksum.Sha256,
            SourceBytes = sourceBytes,
            Contents = contents,
        };

        /// <summary>Moves the finished outputs into place. The old manifest goes first and the new one last, so at no
        /// moment does a manifest describe files of another run; outputs of an earlier run that this one did not
        /// produce (a handoff since removed) are deleted for the same reason.</summary>
        public void Commit()
        {
            CurrentPath = Path.Combine(staging, SessionManifest.FileName);
            File.Delete(CurrentPath);
            foreach (var stale in new[] { ActivityFileName, SnapshotsFileName, HandoffFileName, AnalyticsFileName, CompressedAnalyticsFileName })
                if (!_outputs.Any(o => Path.GetFileName(o.Final) == stale)) File.Delete(Path.Combine(staging, stale));
            foreach (var (temp, final) in _outputs)
            {
                CurrentPath = final;
                File.Move(temp, final, overwrite: true);
            }
        }

        public void DeleteTemps()
        {
            foreach (var (temp, _) in _outputs) AtomicFile.TryDelete(temp);
            foreach (var scratch in _scratch)
                foreach (var suffix in new[] { "", "-journal" }) AtomicFile.TryDelete(scratch + suffix);
        }
    }
}
