using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Packaging;

public sealed class SessionPackagerTests : IDisposable
{
    private const string SessionId = "session_20261122_090000";
    private readonly TempDirectory _dir = new();

    public SessionPackagerTests()
    {
        Directory.CreateDirectory(_dir.Combine("logs"));
        Directory.CreateDirectory(_dir.Combine("state"));
        Directory.CreateDirectory(_dir.Combine("handoffs"));
        Directory.CreateDirectory(_dir.Combine("analytics"));
        File.WriteAllBytes(LogPath, JsonLines(2_500_000, 1));
        for (var i = 1; i <= 3; i++) File.WriteAllBytes(SnapshotPath(i), RandomBytes(40_000 * i, i));
        File.WriteAllText(HandoffPath, "# Handoff\n\nNext: wire Backup-Session.\n");
        using var db = OpenDatabase(DatabasePath);
        Execute(db, "PRAGMA journal_mode = WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL);");
        for (var i = 0; i < 100; i++) Execute(db, $"INSERT INTO events (body) VALUES ('seed {i}');");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string LogPath => _dir.Combine("logs", SessionId + ".jsonl");
    private string SnapshotPath(int i) => _dir.Combine("state", $"{SessionId}_snap{i:000}.json.gz");
    private string HandoffPath => _dir.Combine("handoffs", SessionId + "_handoff.md");
    private string DatabasePath => _dir.Combine("analytics", "agent_metrics.db");
    private string Staging => _dir.Combine("staging", SessionId);

    private SessionPackageRequest Request => new()
    {
        SessionId = SessionId,
        PhaseNumber = 1,
        PhaseName = "setup",
        ActivityLogPath = LogPath,
        SnapshotPaths = [SnapshotPath(1), SnapshotPath(2), SnapshotPath(3)],
        HandoffPath = HandoffPath,
        CatalogDatabasePath = DatabasePath,
        StagingDirectory = Staging,
    };

    private static SqliteConnection OpenDatabase(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Execute(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>The staged analytics_snapshot.db.gz unpacked, as a restore unpacks it (to the size its manifest lists).</summary>
    private string UnpackedAnalytics()
    {
        var manifest = SessionManifest.ReadAsync(Path.Combine(Staging, SessionManifest.FileName), CancellationToken.None).GetAwaiter().GetResult();
        var file = SessionPackager.FindAnalytics(manifest)!;
        var plain = _dir.Combine("unpacked", SessionPackager.AnalyticsFileName);
        Directory.CreateDirectory(Path.GetDirectoryName(plain)!);
        SafeExtractor.DecompressGzipAsync(Path.Combine(Staging, file.Name), plain, file.Contents.Single().Size, overwrite: true, CancellationToken.None).GetAwaiter().GetResult();
        return plain;
    }

    private static long Count(SqliteConnection db) => Convert.ToInt64(Execute(db, "SELECT count(*) FROM events;"));

    private Dictionary<string, byte[]> Sources() =>
        new[] { LogPath, SnapshotPath(1), SnapshotPath(2), SnapshotPath(3), HandoffPath }.ToDictionary(p => p, File.ReadAllBytes);

    [Fact]
    public async Task Package_then_extract_gives_back_identical_files()
    {
        var manifest = await SessionPackager.PackageAsync(Request, null, CancellationToken.None);

        Assert.Equal(["activity.jsonl.gz", "snapshots.tar.gz", "handoff.md", "analytics_snapshot.db.gz"], manifest.Files.Select(f => f.Name).ToArray());
        var restore = _dir.Combine("restore");
        var snapshots = manifest.Find(SessionPackager.SnapshotsFileName)!;
        await SafeExtractor.ExtractTarGzAsync(Path.Combine(Staging, snapshots.Name), Path.Combine(restore, "state"),
            new ExtractionOptions { Expected = snapshots.Contents }, CancellationToken.None);
        var activity = manifest.Find(SessionPackager.ActivityFileName)!;
        await SafeExtractor.DecompressGzipAsync(Path.Combine(Staging, activity.Name), Path.Combine(restore, "log.jsonl"),
            activity.Contents.Single().Size, overwrite: false, CancellationToken.None);

        Assert.Equal(await File.ReadAllBytesAsync(LogPath), await File.ReadAllBytesAsync(Path.Combine(restore, "log.jsonl")));
        for (var i = 1; i <= 3; i++)
            Assert.Equal(await File.ReadAllBytesAsync(SnapshotPath(i)), await File.ReadAllBytesAsync(Path.Combine(restore, "state", Path.GetFileName(SnapshotPath(i)))));
        Assert.Equal(await File.ReadAllBytesAsync(HandoffPath), await File.ReadAllBytesAsync(Path.Combine(Staging, "handoff.md")));
        Assert.Equal(new FileInfo(LogPath).Length, activity.SourceBytes);
    }

    [Fact]
    public async Task Gzipped_snapshots_are_stored_in_the_tar_gz_not_deflated_again_and_other_files_are_compressed()
    {
        // Zeros deflate to almost nothing, so the package's size tells whether each member was deflated or stored.
        var gz = _dir.Combine("state", $"{SessionId}_snap007.json.gz");
        var plain = _dir.Combine("state", $"{SessionId}_snap008.json");
        File.WriteAllBytes(gz, new byte[300_000]);
        File.WriteAllBytes(plain, new byte[300_000]);

        var stored = await SessionPackager.PackageAsync(Request with { SnapshotPaths = [gz] }, null, CancellationToken.None);
        Assert.InRange(stored.Find(SessionPackager.SnapshotsFileName)!.Size, 300_000, 320_000);
        var deflated = await SessionPackager.PackageAsync(Request with { SnapshotPaths = [plain] }, null, CancellationToken.None);
        Assert.InRange(deflated.Find(SessionPackager.SnapshotsFileName)!.Size, 1, 10_000);

        var mixed = await SessionPackager.PackageAsync(Request with { SnapshotPaths = [gz, plain] }, null, CancellationToken.None);
        var snapshots = mixed.Find(SessionPackager.SnapshotsFileName)!;
        var restore = _dir.Combine("restore-mixed");
        await SafeExtractor.ExtractTarGzAsync(Path.Combine(Staging, snapshots.Name), restore, new ExtractionOptions { Expected = snapshots.Contents }, CancellationToken.None);
        Assert.Equal(new byte[300_000], await File.ReadAllBytesAsync(Path.Combine(restore, Path.GetFileName(gz))));
        Assert.Equal(new byte[300_000], await File.ReadAllBytesAsync(Path.Combine(restore, Path.GetFileName(plain))));
    }

    [Fact]
    public async Task A_session_without_snapshots_packages_a_valid_empty_tar_that_extracts_to_nothing()
    {
        var manifest = await SessionPackager.PackageAsync(Request with { SnapshotPaths = [] }, null, CancellationToken.None);

        var snapshots = manifest.Find(SessionPackager.SnapshotsFileName)!;
        Assert.Empty(snapshots.Contents);
        await using (var gzip = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(Staging, snapshots.Name)), System.IO.Compression.CompressionMode.Decompress))
        {
            var tar = new MemoryStream();
            await gzip.CopyToAsync(tar);
            Assert.Equal(new byte[1024], tar.ToArray());
        }
        var restore = _dir.Combine("restore");
        var extracted = await SafeExtractor.ExtractTarGzAsync(Path.Combine(Staging, snapshots.Name), restore,
            new ExtractionOptions { Expected = snapshots.Contents }, CancellationToken.None);
        Assert.Empty(extracted);
    }

    [Fact]
    public async Task An_earlier_package_whose_empty_snapshot_archive_holds_no_tar_blocks_still_restores()
    {
        var path = _dir.Combine("staging", "legacy.tar.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var gzip = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Fastest)) { }

        var extracted = await SafeExtractor.ExtractTarGzAsync(path, _dir.Combine("restore"), new ExtractionOptions { Expected = [] }, CancellationToken.None);

        Assert.Empty(extracted);
        // A tar cut inside its first header is still damage, not an empty archive.
        var cut = _dir.Combine("staging", "cut.tar.gz");
        await using (var gzip = new System.IO.Compression.GZipStream(File.Create(cut), System.IO.Compression.CompressionLevel.Fastest))
            await gzip.WriteAsync(new byte[100]);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(cut, _dir.Combine("restore2"), new ExtractionOptions { Expected = [] }, CancellationToken.None));
        Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
    }

    [Fact]
    public async Task Manifest_checksums_equal_independently_computed_ones_and_the_written_manifest()
    {
        var manifest = await SessionPackager.PackageAsync(Request, null, CancellationToken.None);

        foreach (var file in manifest.Files)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(Staging, file.Name));
            Assert.Equal(bytes.Length, file.Size);
            Assert.Equal(Md5(bytes), file.Md5);
            Assert.Equal(Sha256(bytes), file.Sha256);
        }
        var written = await SessionManifest.ReadAsync(Path.Combine(Staging, SessionManifest.FileName), CancellationToken.None);
        Assert.Equal(manifest.Files.Select(f => (f.Name, f.Size, f.Md5, f.Sha256)), written.Files.Select(f => (f.Name, f.Size, f.Md5, f.Sha256)));
        Assert.Equal(SessionId, written.SessionId);
        Assert.Equal("setup", written.PhaseName);
        await PackageVerifier.VerifyDirectoryAsync(Staging, written, CancellationToken.None);
        Assert.Equal(Sorted(Staging), Sorted(Staging).Where(n => !n.StartsWith('.')).ToArray());
    }

    private static string[] Sorted(string directory) => Directory.GetFileSystemEntries(directory).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public async Task Verifier_names_the_file_whose_bytes_changed()
    {
        var manifest = await SessionPackager.PackageAsync(Request, null, CancellationToken.None);
        var path = Path.Combine(Staging, SessionPackager.SnapshotsFileName);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => PackageVerifier.VerifyDirectoryAsync(Staging, manifest, CancellationToken.None));
        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.Equal(SessionPackager.SnapshotsFileName, ex.Target);
        Assert.Contains("MD5", ex.Message);
    }

    [Fact]
    public async Task Analytics_snapshot_is_a_consistent_sqlite_copy_taken_while_another_connection_writes()
    {
        using var stop = new CancellationTokenSource();
        long written = 0;
        var writer = Task.Run(() =>
        {
            using var db = OpenDatabase(DatabasePath);
            Execute(db, "PRAGMA busy_timeout = 10000;");
            while (!stop.IsCancellationRequested)
            {
                Execute(db, $"BEGIN; INSERT INTO events (body) VALUES ('{new string('w', 500)}'); INSERT INTO events (body) VALUES ('pair'); COMMIT;");
                Interlocked.Increment(ref written);
            }
        });
        SpinWait.SpinUntil(() => Interlocked.Read(ref written) > 20, TimeSpan.FromSeconds(10));

        await SessionPackager.PackageAsync(Request, null, CancellationToken.None);
        var whileWriting = Interlocked.Read(ref written);
        SpinWait.SpinUntil(() => Interlocked.Read(ref written) > whileWriting + 5, TimeSpan.FromSeconds(10));
        stop.Cancel();
        await writer;

        using var copy = OpenDatabase(UnpackedAnalytics());
        using (var check = copy.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", check.ExecuteScalar());
            check.CommandText = "PRAGMA journal_mode;";
            Assert.Equal("delete", check.ExecuteScalar());
        }
        var rows = Count(copy);
        Assert.True(rows > 100, $"{rows} rows");
        Assert.Equal(0, rows % 2); // each writer transaction adds two rows: a consistent copy never holds half of one
        using var source = OpenDatabase(DatabasePath);
        Assert.True(Count(source) > rows);
    }

    [Fact]
    public async Task Resumable_upload_addresses_stay_on_this_machine_and_never_travel_in_the_analytics_snapshot()
    {
        await using (var catalog = await TierStorage.Engine.Catalog.CatalogDatabase.OpenAsync(_dir.Combine("analytics", "catalog.db"), CancellationToken.None))
        {
            await catalog.SaveAsync(new TierStorage.Engine.Tiers.UploadState
            {
                Tier = "drive", Key = "Phase_1/sessions/s/activity.jsonl.gz", SessionUri = "https://www.googleapis.com/upload/drive/v3/files?upload_id=SECRET",
                Offset = 8 << 20, TotalBytes = 20 << 20, ContentMd5 = "0123456789abcdef0123456789abcdef", UpdatedAt = DateTimeOffset.UnixEpoch,
            }, CancellationToken.None);
        }

        await SessionPackager.PackageAsync(Request with { CatalogDatabasePath = _dir.Combine("analytics", "catalog.db") }, null, CancellationToken.None);

        using var copy = OpenDatabase(UnpackedAnalytics());
        Assert.Equal(0L, Convert.ToInt64(Execute(copy, "SELECT count(*) FROM sqlite_master WHERE name = 'upload_states';")));
        Assert.True(File.ReadAllBytes(UnpackedAnalytics()).AsSpan().IndexOf("upload_id=SECRET"u8) < 0,
            "the deleted address is still in the file's bytes");
        using var live = OpenDatabase(_dir.Combine("analytics", "catalog.db"));
        Assert.Equal(1L, Convert.ToInt64(Execute(live, "SELECT count(*) FROM upload_states;")));
    }

    [Fact]
    public async Task The_analytics_snapshot_holds_this_session_only_so_backups_do_not_grow_with_history()
    {
        var catalogPath = _dir.Combine("analytics", "catalog.db");
        await using (var catalog = await TierStorage.Engine.Catalog.CatalogDatabase.OpenAsync(catalogPath, CancellationToken.None))
        {
            foreach (var (id, phase) in new[] { (SessionId, 1), ("session_20261122_080000", 0), ("session_20261122_100000", 2) })
            {
                await catalog.InsertSessionAsync(new TierStorage.Engine.Catalog.SessionRecord { SessionId = id, Phase = phase, StartedAt = DateTimeOffset.UnixEpoch, State = SessionState.Completed }, CancellationToken.None);
                await catalog.AddEventsAsync(id, Enumerable.Range(0, 50).Select(i => new SessionEvent { Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(i), Type = SessionEventType.ToolCall, Tool = id }).ToList(), 1, CancellationToken.None);
            }
        }

        await SessionPackager.PackageAsync(Request with { CatalogDatabasePath = catalogPath }, null, CancellationToken.None);

        using var copy = OpenDatabase(UnpackedAnalytics());
        Assert.Equal(50L, Convert.ToInt64(Execute(copy, "SELECT count(*) FROM events;")));
        Assert.Equal(SessionId, Execute(copy, "SELECT DISTINCT session_id FROM events;"));
        Assert.Equal(SessionId, Execute(copy, "SELECT group_concat(session_id) FROM sessions;"));
        Assert.Equal(1L, Convert.ToInt64(Execute(copy, "SELECT group_concat(number) FROM phases;")));
        Assert.Equal(Convert.ToInt64(Execute(OpenDatabase(catalogPath), "PRAGMA user_version;")), Convert.ToInt64(Execute(copy, "PRAGMA user_version;")));
        // The catalog's secondary indexes stay behind (importers scan the one session whole); constraints come with their tables.
        Assert.Equal(0L, Convert.ToInt64(Execute(copy, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL;")));
        Assert.NotEqual(0L, Convert.ToInt64(Execute(OpenDatabase(catalogPath), "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL;")));
    }

    [Fact]
    public async Task Disk_full_while_packaging_raises_DiskFull_and_leaves_the_session_intact()
    {
        if (!File.Exists("/dev/full")) return; // only Linux has a device that is always full
        var before = Sources();
        Directory.CreateDirectory(Staging);
        var temp = AtomicFile.TempPathFor(Path.Combine(Staging, SessionPackager.ActivityFileName));
        File.CreateSymbolicLink(temp, "/dev/full");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SessionPackager.PackageAsync(Request, null, CancellationToken.None));

        Assert.Equal(ErrorIds.DiskFull, ex.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(Staging));
        foreach (var (path, bytes) in before) Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Cancelling_part_way_leaves_no_outputs()
    {
        using var cts = new CancellationTokenSource();
        var progress = new CancelOnReport(cts, afterBytes: 1_000_000);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SessionPackager.PackageAsync(Request, progress, cts.Token));
        Assert.Empty(Directory.GetFileSystemEntries(Staging));
        Assert.True(progress.Last >= 1_000_000);
    }

    [Fact]
    public async Task Progress_reaches_the_total_source_bytes_and_a_rerun_replaces_the_package()
    {
        var progress = new CancelOnReport(null, long.MaxValue);
        await SessionPackager.PackageAsync(Request with { HandoffPath = null }, progress, CancellationToken.None);
        var total = new[] { LogPath, SnapshotPath(1), SnapshotPath(2), SnapshotPath(3), DatabasePath }.Sum(p => new FileInfo(p).Length);
        Assert.Equal(total, progress.Last);

        var rerun = await SessionPackager.PackageAsync(Request with { SnapshotPaths = [SnapshotPath(1)] }, null, CancellationToken.None);
        Assert.Equal([Path.GetFileName(SnapshotPath(1))], rerun.Find(SessionPackager.SnapshotsFileName)!.Contents.Select(c => c.Name).ToArray());
        await PackageVerifier.VerifyDirectoryAsync(Staging, rerun, CancellationToken.None);
    }

    [Fact]
    public async Task A_missing_source_is_named_and_nothing_is_staged()
    {
        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            SessionPackager.PackageAsync(Request with { SnapshotPaths = [SnapshotPath(9)] }, null, CancellationToken.None));
        Assert.Equal(ErrorIds.PackageSourceNotFound, ex.ErrorId);
        Assert.Equal(SnapshotPath(9), ex.Target);
        Assert.False(Directory.Exists(Staging));
    }

    /// <summary>Synchronous progress (Progress&lt;T&gt; would report later, on the thread pool).</summary>
    private sealed class CancelOnReport(CancellationTokenSource? cts, long afterBytes) : IProgress<long>
    {
        public long Last { get; private set; }

        public void Report(long value)
        {
            Assert.True(value >= Last);
            Last = value;
            if (value >= afterBytes) cts?.Cancel();
        }
    }
}
