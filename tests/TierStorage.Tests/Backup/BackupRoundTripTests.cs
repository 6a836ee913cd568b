using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Backup-Session and Restore-Session against a folder tier: the round trip, reruns, and what is refused.</summary>
public class BackupRoundTripTests : CatalogProviderTests
{
    public BackupRoundTripTests() : this(null) { }

    protected BackupRoundTripTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture? postgres) : base(postgres) { }

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Backup_prune_and_restore_round_trips_every_file_byte_identical()
    {
        await using var bed = await CreateAsync(localSessions: 2);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 30, snapshots: 3);
        var originals = await bed.LocalFilesAsync(ws, id);
        var originalLog = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        var originalHandoff = File.ReadAllBytes(bed.Layout.HandoffPath(id));
        var originalSnapshots = bed.Layout.EnumerateSnapshots(id).ToDictionary(s => Path.GetFileName(s.Path), s => File.ReadAllBytes(s.Path));
        var events = await EventCountAsync(ws, id);
        Assert.Equal(5, originals.Count);
        Assert.Equal(3, originalSnapshots.Count);

        var result = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal((BackupStatus.Succeeded, true, id), (result.Status, result.Verified, result.SessionId));
        Assert.Equal($"Phase_1/sessions/{id}/", result.Location);
        Assert.Equal(
            [SessionPackager.ActivityFileName, SessionPackager.CompressedAnalyticsFileName, SessionPackager.HandoffFileName, SessionManifest.FileName, SessionPackager.SnapshotsFileName],
            result.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.All(result.Files, f =>
        {
            Assert.Matches("^[0-9a-f]{32}$", f.Md5);
            Assert.Matches("^[0-9a-f]{64}$", f.Sha256);
            Assert.True(f.Verified && f.Transferred);
            Assert.Equal(new FileInfo(bed.TierPath(f.Key)).Length, f.SizeBytes);
            Assert.Equal(Md5(File.ReadAllBytes(bed.TierPath(f.Key))), f.Md5);
        });
        Assert.Equal(result.Files.Sum(f => f.SizeBytes), result.BytesSent);
        var objects = await ObjectsAsync(ws, id);
        Assert.Equal(result.Files.Select(f => f.Key).Order(), objects.Select(o => o.Key).Order());
        Assert.All(objects, o => Assert.NotNull(o.VerifiedAt));
        var info = await SessionAsync(ws, id);
        Assert.Equal(SessionState.BackedUp, info.State);
        Assert.True(info.Verified);
        Assert.False(Directory.Exists(Path.Combine(bed.Layout.StagingDirectory, id)), "the staged package is removed once verified");

        // Two newer sessions push it beyond local retention: it is pruned, its copy being verified.
        await bed.CompletedSessionAsync(ws, seed: 2);
        await bed.CompletedSessionAsync(ws, seed: 3);
        // The log's slot (session_current.jsonl) now holds a newer session's log: look for the session's own first line.
        Assert.All(originals.Keys.Where(p => !p.StartsWith(bed.Layout.LogsDirectory, StringComparison.Ordinal)), path => Assert.False(File.Exists(path), path));
        Assert.DoesNotContain(Directory.EnumerateFiles(bed.Layout.LogsDirectory, "*.jsonl"), p => File.ReadLines(p).FirstOrDefault()?.Contains(id) == true);
        Assert.Empty(bed.Layout.EnumerateSnapshots(id));
        Assert.Null((await SessionAsync(ws, id)).LogPath);

        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id }, null, None);

        Assert.True(restored.Verified);
        Assert.Equal(bed.WorkspaceRoot, restored.Destination);
        var after = await SessionAsync(ws, id);
        Assert.Equal(originalLog, File.ReadAllBytes(after.LogPath!));
        Assert.Equal(originalHandoff, File.ReadAllBytes(after.HandoffPath!));
        Assert.Equal(originalSnapshots.Keys.Order(), bed.Layout.EnumerateSnapshots(id).Select(s => Path.GetFileName(s.Path)).Order());
        foreach (var (name, bytes) in originalSnapshots)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(bed.Layout.StateDirectory, name)));
        Assert.Equal(events, await EventCountAsync(ws, id));
        Assert.Equal(SessionState.BackedUp, after.State);
        Assert.False(Directory.Exists(Path.Combine(bed.Layout.StagingDirectory, "restore-" + id)), "the download directory is removed");

        // -Destination: plain files elsewhere, the workspace untouched.
        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        var workspaceBefore = bed.WorkspaceSnapshot();
        var copy = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);

        Assert.Equal(elsewhere, copy.Destination);
        Assert.Equal(originalLog, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
        Assert.Equal(originalHandoff, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.HandoffFileName)));
        foreach (var (name, bytes) in originalSnapshots)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(elsewhere, "snapshots", name)));
        // The analytics snapshot travels gzipped (manifest format 2) and comes back as the very SQLite file that was packaged.
        var storedAnalytics = result.Files.Single(f => f.Name == SessionPackager.CompressedAnalyticsFileName);
        Assert.Equal(Gunzip(File.ReadAllBytes(bed.TierPath(storedAnalytics.Key))), File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.AnalyticsFileName)));
        Assert.False(File.Exists(Path.Combine(elsewhere, SessionPackager.CompressedAnalyticsFileName)));
        Assert.Equal(id, (await SessionManifest.ReadAsync(Path.Combine(elsewhere, SessionManifest.FileName), None)).SessionId);
        Assert.Equal(workspaceBefore, bed.WorkspaceSnapshot());
    }

    [Fact]
    public async Task Second_backup_of_the_same_session_sends_nothing_and_says_skipped()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        Assert.Equal(BackupStatus.Succeeded, Assert.Single(await BackupAsync(ws, id)).Status);
        var puts = bed.Faults.Puts;
        var tierBefore = bed.TierKeys().ToDictionary(k => k, k => File.GetLastWriteTimeUtc(bed.TierPath(k)));

        var again = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(BackupStatus.Skipped, again.Status);
        Assert.Equal(0, again.BytesSent);
        Assert.True(again.Verified);
        Assert.All(again.Files, f => Assert.False(f.Transferred));
        Assert.Equal(puts, bed.Faults.Puts);
        Assert.Equal(tierBefore, bed.TierKeys().ToDictionary(k => k, k => File.GetLastWriteTimeUtc(bed.TierPath(k))));
    }

    [Fact]
    public async Task Skipped_rerun_removes_a_staged_package_left_by_a_run_that_died_after_verifying()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        await BackupAsync(ws, id);
        // What a process killed between recording the verified copy and cleaning up leaves behind.
        var staging = Path.Combine(bed.Layout.StagingDirectory, id);
        Directory.CreateDirectory(staging);
        await File.WriteAllTextAsync(Path.Combine(staging, SessionPackager.ActivityFileName), "left over");

        Assert.Equal(BackupStatus.Skipped, Assert.Single(await BackupAsync(ws, id)).Status);

        Assert.False(Directory.Exists(staging), "the local tier is small: a package of a verified session is not kept");
    }

    [Fact]
    public async Task Rerun_after_the_catalog_forgot_the_objects_uploads_nothing_the_tier_already_holds()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        var first = Assert.Single(await BackupAsync(ws, id));
        // The staged package is gone after success, so the rerun packages again: only the analytics snapshot (the
        // catalog changed since) and the manifest that lists it may differ; the session's own files are skipped by MD5.
        await ws.Catalog.DeleteObjectsAsync(BackupTier, first.Location, None);

        var again = Assert.Single(await BackupAsync(ws, id));

        Assert.True(again.Verified);
        Assert.False(again.Files.Single(f => f.Name == SessionPackager.ActivityFileName).Transferred);
        Assert.False(again.Files.Single(f => f.Name == SessionPackager.SnapshotsFileName).Transferred);
        Assert.False(again.Files.Single(f => f.Name == SessionPackager.HandoffFileName).Transferred);
    }

    [Fact]
    public async Task Restore_killed_mid_download_resumes_from_what_reached_the_disk()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 40, randomBytesPerEvent: 30_000);
        var log = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        await BackupAsync(ws, id);
        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        using var kill = new CancellationTokenSource();
        long before = 0;
        var progress = new InlineProgress<BackupProgress>(p =>
        {
            if (p.Stage != "Downloading" || p.BytesDone < 512 * 1024 || kill.IsCancellationRequested) return;
            before = p.BytesDone;
            kill.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, progress, kill.Token));
        Assert.True(before >= 512 * 1024);

        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);

        var total = restored.Files.Sum(f => f.SizeBytes);
        Assert.InRange(restored.BytesReceived, 1, total - before);
        Assert.Equal(log, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
    }

    [Fact]
    public async Task Active_session_is_refused()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var active = await ws.StartSessionAsync(new Engine.Workspace.StartSessionRequest { Phase = 1 }, None);

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(ws, active.SessionId));

        Assert.Equal(ErrorIds.SessionStillActive, ex.ErrorId);
        Assert.Empty(bed.TierKeys());
        Assert.Empty(await QueueAsync(ws));
    }

    [Fact]
    public async Task Restore_over_an_existing_local_session_without_force_fails_and_changes_nothing()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        await BackupAsync(ws, id);
        // A local edit that a restore would silently undo.
        var handoff = bed.Layout.HandoffPath(id);
        await File.AppendAllTextAsync(handoff, "\nlocal notes\n");
        var before = bed.WorkspaceSnapshot();

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id }, null, None));

        Assert.Equal(ErrorIds.RestoreTargetExists, ex.ErrorId);
        Assert.Contains(id, ex.Message);
        // Refused before anything was downloaded: not even the staging area changed.
        Assert.Equal(before, bed.WorkspaceSnapshot());
        Assert.False(Directory.Exists(Path.Combine(bed.Layout.StagingDirectory, "restore-" + id)));
        Assert.EndsWith("local notes\n", await File.ReadAllTextAsync(handoff));

        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        await File.WriteAllTextAsync(Path.Combine(elsewhere, SessionPackager.HandoffFileName), "mine");
        var there = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None));
        Assert.Equal(ErrorIds.RestoreTargetExists, there.ErrorId);
        Assert.Equal([Path.Combine(elsewhere, SessionPackager.HandoffFileName)], Directory.GetFileSystemEntries(elsewhere));
        Assert.Equal(before, bed.WorkspaceSnapshot());

        var forced = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Force = true }, null, None);
        Assert.True(forced.Verified);
        Assert.DoesNotContain("local notes", await File.ReadAllTextAsync(handoff));
    }
}

/// <summary>Every test of <see cref="BackupRoundTripTests"/> with the workspace's catalog on a real PostgreSQL.</summary>
[Collection(TierStorage.Tests.Catalog.Postgres.PostgresCollection.Name)]
public sealed class PostgresBackupRoundTripTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture server) : BackupRoundTripTests(server);
