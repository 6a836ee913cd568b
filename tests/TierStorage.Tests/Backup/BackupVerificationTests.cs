using System.Formats.Tar;
using System.IO.Compression;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>What a damaged or hostile tier copy does to Restore-Session and Test-Backup.</summary>
public sealed class BackupVerificationTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string ActivityKey(string id) => $"Phase_1/sessions/{id}/{SessionPackager.ActivityFileName}";

    /// <summary>Flips one byte in the middle of a file on the tier; with <paramref name="keepTime"/> its modification time
    /// is put back, so the folder store's MD5 sidecar still describes the old bytes (silent bit rot).</summary>
    private static void FlipByte(string path, bool keepTime)
    {
        var time = File.GetLastWriteTimeUtc(path);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, keepTime ? time : time.AddSeconds(5));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Corrupted_download_is_refused_named_and_not_kept_and_the_workspace_is_unchanged(bool keepTime)
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 100);
        await BackupAsync(ws, id);
        FlipByte(bed.TierPath(ActivityKey(id)), keepTime);
        var before = bed.WorkspaceSnapshot();

        // Force: the local copy would be replaced, so nothing may be touched before every download is verified.
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Force = true }, null, None));

        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.Contains(SessionPackager.ActivityFileName, ex.Message);
        Assert.Equal(before, bed.WorkspaceSnapshot());
        Assert.False(File.Exists(Path.Combine(bed.Layout.StagingDirectory, "restore-" + id, SessionPackager.ActivityFileName)), "the bad download is discarded");

        var checks = await CheckAsync(ws, readData: true);
        var corrupt = Assert.Single(checks, c => c.Status == BackupCheckStatus.Corrupt);
        Assert.Equal((id, ActivityKey(id)), (corrupt.SessionId, corrupt.Key));
        Assert.DoesNotContain(checks, c => c.SessionId == id && c.Status == BackupCheckStatus.Ok && c.Key is null);
        if (!keepTime)
        {
            // The folder store rehashes a file whose time changed: Test-Backup sees it without reading the data.
            var quick = Assert.Single(await CheckAsync(ws), c => c.Status == BackupCheckStatus.Corrupt);
            Assert.Equal(ActivityKey(id), quick.Key);
            Assert.False(quick.DataRead);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Session_whose_copy_test_backup_found_damaged_is_not_pruned_until_backed_up_again(bool silentRot, bool deleted)
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 100);
        Assert.Empty(Assert.Single(await BackupAsync(ws, id)).PrunedSessions); // the newest session stays local
        var originals = await bed.LocalFilesAsync(ws, id);
        if (deleted) File.Delete(bed.TierPath(ActivityKey(id)));
        else FlipByte(bed.TierPath(ActivityKey(id)), keepTime: silentRot);

        var checks = await CheckAsync(ws, readData: silentRot);

        Assert.Contains(checks, c => c.Key == ActivityKey(id) && c.Status == (deleted ? BackupCheckStatus.Missing : BackupCheckStatus.Corrupt));
        Assert.False((await SessionAsync(ws, id)).Verified);
        await bed.CompletedSessionAsync(ws, seed: 2); // Start-Session prunes beyond retention
        foreach (var (path, bytes) in originals.Where(kv => !kv.Key.StartsWith(bed.Layout.LogsDirectory, StringComparison.Ordinal)))
            Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.NotNull((await SessionAsync(ws, id)).LogPath);
        Assert.Contains(await CheckAsync(ws), c => (c.SessionId, c.Status, c.Key) == (id, BackupCheckStatus.Missing, null));

        // Backing it up again mends the copy; then it may go.
        var mended = Assert.Single(await BackupAsync(ws, id));
        Assert.True(mended.Verified);
        Assert.Equal([id], mended.PrunedSessions);
    }

    [Fact]
    public async Task Test_backup_piped_into_backup_session_leaves_the_mended_copy_verified_in_the_catalog()
    {
        // Regression: Test-Backup | Where-Object Status -ne Ok | Backup-Session. The backup mends the session as soon as the
        // first finding arrives, while the check is still on that session's objects; the check then wrote its stale row
        // of the re-sent manifest back (old MD5, unverified), and the next Test-Backup found the fresh copy Missing and Corrupt.
        await using var bed = await CreateAsync(localSessions: 2);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 30);
        Assert.Single(await BackupAsync(ws, id));
        File.Delete(bed.TierPath(ActivityKey(id)));

        var mended = new List<BackupResult>();
        await foreach (var finding in ws.Backups.CheckAsync(new BackupCheckRequest(), CancellationToken.None))
            if (finding.Status != BackupCheckStatus.Ok && mended.Count == 0)
                mended.AddRange(await BackupAsync(ws, finding.SessionId));

        Assert.Equal(BackupStatus.Succeeded, Assert.Single(mended).Status);
        Assert.All(await CheckAsync(ws), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        Assert.All(await ObjectsAsync(ws, id), o => Assert.NotNull(o.VerifiedAt));
        Assert.True((await SessionAsync(ws, id)).Verified);
    }

    [Fact]
    public async Task The_workspaces_own_phase_files_on_the_tier_are_not_orphans()
    {
        // Regression: after Start-Phase (current_phase.json) and Invoke-PhaseReview (the reports in the phase folder) the
        // nightly job's Test-Backup | Where-Object Status -ne Ok listed five Orphans of our own making.
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        await ws.StartPhaseAsync(1, "build", CancellationToken.None);
        var id = await bed.CompletedSessionAsync(ws);
        Assert.Single(await BackupAsync(ws, id));
        await ws.ReviewPhaseAsync(1, CancellationToken.None);
        Assert.True(File.Exists(bed.TierPath("current_phase.json")));
        Assert.True(File.Exists(bed.TierPath("Phase_1_build/phase_insights.md")));
        File.WriteAllText(bed.TierPath("Phase_1_build/stray.txt"), "x");

        var checks = await CheckAsync(ws);

        Assert.Equal("Phase_1_build/stray.txt", Assert.Single(checks, c => c.Status != BackupCheckStatus.Ok).Key);
    }

    [Fact]
    public async Task A_swapped_package_with_a_rewritten_manifest_is_refused_against_the_catalog()
    {
        // Issue 11 #11: restore trusted the tier's manifest over the catalog, so a tier that swapped snapshots.tar.gz and
        // rewrote the manifest to match had the swapped content restored as verified.
        await using var bed = await CreateAsync(localSessions: 2);
        var ws = await bed.OpenAsync();
        var victim = await bed.CompletedSessionAsync(ws, seed: 1);
        var other = await bed.CompletedSessionAsync(ws, seed: 2);
        await BackupAsync(ws, victim, other);
        string Key(string id, string name) => $"Phase_1/sessions/{id}/{name}";
        File.Copy(bed.TierPath(Key(other, "snapshots.tar.gz")), bed.TierPath(Key(victim, "snapshots.tar.gz")), overwrite: true);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(bed.TierPath(Key(victim, "manifest.json"))))!;
        var theirs = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(bed.TierPath(Key(other, "manifest.json"))))!;
        var files = manifest["files"]!.AsArray();
        var index = files.Select((f, i) => (f, i)).Single(x => (string?)x.f!["name"] == "snapshots.tar.gz").i;
        files[index] = theirs["files"]!.AsArray().Single(f => (string?)f!["name"] == "snapshots.tar.gz")!.DeepClone();
        File.WriteAllText(bed.TierPath(Key(victim, "manifest.json")), manifest.ToJsonString());
        var destination = Path.Combine(bed.Root, "restored");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            ws.Backups.RestoreAsync(new RestoreRequest { SessionId = victim, Destination = destination }, null, CancellationToken.None));

        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.Contains("manifest.json", ex.Message);
        Assert.False(Directory.Exists(destination));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Hostile_tar_on_the_tier_is_refused_and_nothing_is_written(bool toDestination)
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, seed: 1);
        var backup = Assert.Single(await BackupAsync(ws, id));
        await bed.CompletedSessionAsync(ws, seed: 2); // prunes the first session: it is restorable only from the tier
        Assert.Null((await SessionAsync(ws, id)).LogPath);

        // A snapshots.tar.gz with ../evil, and a manifest whose checksums match it, so only the extractor stands in the way.
        var hostile = new MemoryStream();
        await using (var gzip = new GZipStream(hostile, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var evil = new PaxTarEntry(TarEntryType.RegularFile, "../evil") { DataStream = new MemoryStream("pwned"u8.ToArray()) };
            await tar.WriteEntryAsync(evil);
        }
        var hostileBytes = hostile.ToArray();
        var prefix = backup.Location;
        var manifestBytes = File.ReadAllBytes(bed.TierPath(prefix + SessionManifest.FileName));
        var manifest = SessionManifest.Parse(manifestBytes, "test");
        var sum = new FileChecksum(hostileBytes.Length, Md5(hostileBytes), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(hostileBytes)));
        manifest = manifest with
        {
            Files = manifest.Files.Select(f => f.Name == SessionPackager.SnapshotsFileName ? f with { Size = sum.Size, Md5 = sum.Md5, Sha256 = sum.Sha256 } : f).ToList(),
        };
        await using (var tier = new FolderObjectStore(BackupTier, bed.TierRoot))
        {
            await tier.PutAsync(prefix + SessionPackager.SnapshotsFileName, new MemoryStream(hostileBytes), null, None);
            await tier.PutAsync(prefix + SessionManifest.FileName, new MemoryStream(manifest.ToUtf8Json()), null, None);
        }
        // The catalog would refuse the rewritten manifest (A_swapped_package_with_a_rewritten_manifest_is_refused_against_the_catalog);
        // one rebuilt from this tier knows only what the tier says, and then the extractor is what stands in the way.
        await ToListAsync(ws.Backups.RebuildCatalogAsync(null, None));
        var before = bed.WorkspaceSnapshot();

        // The log and analytics snapshot decompress while the snapshots are extracted: neither may land anywhere.
        var destination = toDestination ? Path.Combine(bed.Root, "restored") : null;
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None));
        if (destination is not null)
            Assert.False(Directory.Exists(destination) && Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories).Any(), "nothing is written to the destination");

        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Contains("../evil", ex.Message);
        Assert.Empty(Directory.EnumerateFiles(bed.Root, "evil", SearchOption.AllDirectories));
        Assert.Equal(before, bed.WorkspaceSnapshot().Where(kv => !kv.Key.StartsWith(bed.Layout.StagingDirectory, StringComparison.Ordinal)).ToDictionary());
        Assert.Null((await SessionAsync(ws, id)).LogPath);
        Assert.Empty(bed.Layout.EnumerateSnapshots(id));
    }

    [Fact]
    public async Task Test_backup_reports_ok_missing_corrupt_orphan_and_unverified_and_missing_pipes_into_backup()
    {
        await using var bed = await CreateAsync(localSessions: 10);
        var ws = await bed.OpenAsync();
        var healthy = await bed.CompletedSessionAsync(ws, seed: 1);
        var neverBackedUp = await bed.CompletedSessionAsync(ws, seed: 2);
        var lostObject = await bed.CompletedSessionAsync(ws, seed: 3);
        var corrupted = await bed.CompletedSessionAsync(ws, seed: 4);
        var unverified = await bed.CompletedSessionAsync(ws, seed: 5);
        bed.Time.Advance(TimeSpan.FromMinutes(1));
        var active = (await ws.StartSessionAsync(new Engine.Workspace.StartSessionRequest { Phase = 1 }, None)).SessionId;
        await BackupAsync(ws, healthy, lostObject, corrupted, unverified);

        File.Delete(bed.TierPath(ActivityKey(lostObject)));
        FlipByte(bed.TierPath(ActivityKey(corrupted)), keepTime: false);
        const string strayKey = "Phase_1/sessions/session_20200101_000000/notes.txt";
        await using (var tier = new FolderObjectStore(BackupTier, bed.TierRoot))
            await tier.PutAsync(strayKey, new MemoryStream("stray"u8.ToArray()), null, None);
        var handoffObject = (await ObjectsAsync(ws, unverified)).Single(o => o.Key.EndsWith("/" + SessionPackager.HandoffFileName, StringComparison.Ordinal));
        await ws.Catalog.UpsertObjectAsync(handoffObject with { VerifiedAt = null }, None);

        var checks = await CheckAsync(ws);

        Assert.Contains(checks, c => (c.SessionId, c.Status, c.Key) == (healthy, BackupCheckStatus.Ok, null));
        Assert.Contains(checks, c => (c.SessionId, c.Status, c.Key) == (neverBackedUp, BackupCheckStatus.Missing, null));
        Assert.Contains(checks, c => (c.SessionId, c.Status, c.Key) == (lostObject, BackupCheckStatus.Missing, ActivityKey(lostObject)));
        Assert.Contains(checks, c => (c.SessionId, c.Status, c.Key) == (corrupted, BackupCheckStatus.Corrupt, ActivityKey(corrupted)));
        Assert.Contains(checks, c => (c.SessionId, c.Status, c.Key) == (unverified, BackupCheckStatus.Unverified, handoffObject.Key));
        Assert.Contains(checks, c => (c.SessionId, c.Status, c.Key) == ("session_20200101_000000", BackupCheckStatus.Orphan, strayKey));
        Assert.DoesNotContain(checks, c => c.SessionId == active);
        Assert.All(checks.Where(c => c.Status != BackupCheckStatus.Ok), c => Assert.False(string.IsNullOrEmpty(c.Message)));
        Assert.Equal(5, checks.Count(c => c.Status != BackupCheckStatus.Ok));

        // -ReadData reads the unverified object back and, finding it intact, verifies it.
        var read = await CheckAsync(ws, readData: true);
        Assert.DoesNotContain(read, c => c.Status == BackupCheckStatus.Unverified);
        Assert.Contains(read, c => (c.SessionId, c.Status, c.Key, c.DataRead) == (unverified, BackupCheckStatus.Ok, null, true));

        // Test-Backup | Where-Object Status -ne Ok | Backup-Session
        var toMend = checks.Where(c => c.Status is BackupCheckStatus.Missing or BackupCheckStatus.Corrupt).Select(c => c.SessionId).Distinct().ToArray();
        Assert.Equal([neverBackedUp, lostObject, corrupted], toMend.Order(StringComparer.Ordinal));
        var mended = await BackupAsync(ws, toMend);
        Assert.All(mended, r => Assert.True(r.Verified, r.SessionId));

        var recheck = await CheckAsync(ws);
        Assert.Equal([BackupCheckStatus.Orphan], recheck.Where(c => c.Status != BackupCheckStatus.Ok).Select(c => c.Status));
        foreach (var session in new[] { healthy, neverBackedUp, lostObject, corrupted, unverified })
            Assert.Contains(recheck, c => (c.SessionId, c.Status, c.Key) == (session, BackupCheckStatus.Ok, null));
    }
}
