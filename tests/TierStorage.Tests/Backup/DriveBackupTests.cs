using System.Text.RegularExpressions;
using TierStorage.Contracts;
using TierStorage.DriveFake;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.GoogleDrive;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Tiers.GoogleDrive;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Backup-Session to a google-drive tier, against the Drive fake (the real HTTP path), stores wired through
/// WorkspaceOptions.StoreFactory with the fake's credential.</summary>
public sealed class DriveBackupTests : IAsyncLifetime
{
    private const string DriveTier = "drive";
    private const int Chunk = GoogleDriveStoreOptions.ChunkGranularity;
    private static readonly CancellationToken None = CancellationToken.None;
    private DriveTestBed _drive = null!;
    private BackupTestBed _bed = null!;

    /// <summary>Options of the stores the workspace opens; tests change them between "processes".</summary>
    private Func<GoogleDriveStoreOptions, GoogleDriveStoreOptions> _configure = o => o;

    public async Task InitializeAsync()
    {
        _drive = await DriveTestBed.StartAsync();
        _bed = await BackupTestBed.CreateAsync(tierYaml: $"""
              - name: {DriveTier}
                level: 2
                kind: google-drive
                root_folder: {DriveTestBed.RootFolder}
                capacity: 15GB
                price_per_gb_month: 0
            """);
        _bed.StoreFactory = async (tier, _, _) => await _drive.OpenStoreAsync(o => _configure(o with
        {
            TierName = tier.Name,
            ChunkSize = Chunk,
            ResumableThreshold = Chunk,
        }));
    }

    public async Task DisposeAsync()
    {
        await _bed.DisposeAsync();
        await _drive.DisposeAsync();
    }

    /// <param name="cancel">Killed by cancellation (Ctrl+C, a closed terminal) instead of a dropped connection.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Backup_killed_mid_upload_resumes_in_a_new_workspace_from_the_saved_offset_and_ends_verified(bool cancel)
    {
        // First process: no retries, so a dropped connection ends the run as a crash would.
        _configure = o => o with { Retry = DriveTestBed.FastRetry with { MaxRetries = 0 } };
        var ws = await _bed.OpenAsync();
        // Random base64 in the events: a log of about 3 MB that gzip cannot shrink much.
        var id = await _bed.CompletedSessionAsync(ws, events: 60, snapshots: 1, randomBytesPerEvent: 40_000);
        var activityKey = $"Phase_1/sessions/{id}/{SessionPackager.ActivityFileName}";
        var armed = false;
        using var kill = new CancellationTokenSource();
        var progress = new InlineProgress<BackupProgress>(p =>
        {
            if (armed || p.Stage != "Uploading" || p.File != SessionPackager.ActivityFileName || p.BytesDone < 3 * Chunk) return;
            armed = true;
            if (cancel) kill.Cancel();
            else _drive.Server.Faults.DropNextUploadAfter(100_000);
        });

        if (cancel)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ToListAsync(ws.Backups.BackupAsync(new BackupRequest { SessionIds = [id] }, progress, kill.Token)));
        }
        else
        {
            // A tier that drops the connection counts as unreachable: the backup is queued.
            var crashed = Assert.Single(await ToListAsync(ws.Backups.BackupAsync(new BackupRequest { SessionIds = [id] }, progress, None)));
            Assert.Equal(BackupStatus.Queued, crashed.Status);
            Assert.Equal(id, Assert.Single(await QueueAsync(ws)).SessionId);
        }

        Assert.True(armed);
        Assert.NotEqual(SessionState.BackedUp, (await SessionAsync(ws, id)).State);
        var saved = await ws.Catalog.GetAsync(DriveTier, activityKey, None);
        Assert.NotNull(saved);
        Assert.Equal(3 * Chunk, saved.Offset);
        var staged = await SessionManifest.ReadAsync(Path.Combine(_bed.Layout.StagingDirectory, id, SessionManifest.FileName), None);
        var activity = staged.Find(SessionPackager.ActivityFileName)!;
        Assert.True(activity.Size > 2 * 1024 * 1024, $"the log packs to {activity.Size:N0} bytes; the test needs several chunks");
        var uploadId = Regex.Match(saved.SessionUri, "upload_id=([^&]+)").Groups[1].Value;
        Assert.NotEmpty(uploadId);
        await _bed.CloseAsync(ws);

        // Second process: a new workspace (catalog connection) and new stores, normal retries.
        _configure = o => o;
        var resumedWorkspace = await _bed.OpenAsync();
        var resumed = Assert.Single(await BackupAsync(resumedWorkspace, id));

        Assert.Equal((BackupStatus.Succeeded, true), (resumed.Status, resumed.Verified));
        Assert.Empty(await QueueAsync(resumedWorkspace));
        Assert.Null(await resumedWorkspace.Catalog.GetAsync(DriveTier, activityKey, None));
        // The staged package was reused: the same bytes (the analytics copy would differ if packaged again, the catalog
        // having changed since), so the saved upload session applied.
        Assert.Equal(staged.Files.Select(f => (f.Name, f.Md5)), resumed.Files.Where(f => f.Name != SessionManifest.FileName).Select(f => (f.Name, f.Md5)));
        // The same Drive upload session finished the file, having received its bytes once plus the cut-off tail.
        var sessionBytes = _drive.Server.SessionBytesReceived(uploadId);
        Assert.InRange(sessionBytes, activity.Size, activity.Size + 2 * Chunk);
        var onDrive = Assert.Single(_drive.Named(SessionPackager.ActivityFileName), f => !f.Trashed);
        Assert.Equal(activity.Md5, onDrive.Md5);
        Assert.Equal(SessionState.BackedUp, (await SessionAsync(resumedWorkspace, id)).State);
    }

    [Fact]
    public async Task Rate_limit_storm_still_completes_a_drive_backup_and_the_copy_restores()
    {
        _configure = o => o with { Retry = DriveTestBed.FastRetry with { MaxRetries = 16 } };
        var ws = await _bed.OpenAsync();
        var id = await _bed.CompletedSessionAsync(ws, events: 50, snapshots: 2);
        var log = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        _drive.Server.Faults.RetryAfterSeconds = 1; // capped by MaxDelay (20 ms) so the test stays fast
        _drive.Server.Faults.FailNext(DriveFault.UserRateLimitExceeded, 8);
        _drive.Server.Faults.FailNext(DriveFault.TooManyRequests, 3);
        _drive.Server.Faults.FailNext(DriveFault.RateLimitExceeded, 2);
        _drive.Server.Faults.FailNext(DriveFault.UserRateLimitExceeded, 3, requestKind: "upload.");

        var result = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal((BackupStatus.Succeeded, true), (result.Status, result.Verified));
        foreach (var file in result.Files)
        {
            var copy = Assert.Single(_drive.Named(file.Name), f => !f.Trashed);
            Assert.Equal(file.Md5, copy.Md5);
        }
        // Every queued fault was served: the next request succeeds at once.
        await using (var probe = await _drive.OpenStoreAsync(o => o with { Retry = DriveTestBed.FastRetry with { MaxRetries = 0 } }))
            Assert.NotNull(await probe.StatAsync(result.Files[0].Key, None));

        var elsewhere = Path.Combine(_bed.Root, "restored");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);
        Assert.Equal(log, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
    }

    [Fact]
    public async Task Rerun_that_lost_its_catalog_rows_skips_every_file_drive_holds_with_the_same_md5_and_a_cut_download_still_restores()
    {
        var ws = await _bed.OpenAsync();
        var id = await _bed.CompletedSessionAsync(ws, events: 60, snapshots: 1, randomBytesPerEvent: 20_000);
        var log = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        var first = Assert.Single(await BackupAsync(ws, id));
        await ws.Catalog.DeleteObjectsAsync(DriveTier, first.Location, None);
        var uploaded = _drive.Server.UploadBytesReceived;

        var again = Assert.Single(await BackupAsync(ws, id));

        Assert.True(again.Verified);
        var activity = again.Files.Single(f => f.Name == SessionPackager.ActivityFileName);
        Assert.False(activity.Transferred);
        // Only what changed since (the analytics copy, the manifest listing it) went up again.
        Assert.Equal(again.Files.Where(f => f.Transferred).Sum(f => f.SizeBytes), again.BytesSent);
        // Drive received what the result says was sent (plus multipart framing), so not the log.
        Assert.InRange(_drive.Server.UploadBytesReceived - uploaded, again.BytesSent, again.BytesSent + 16 * 1024);
        Assert.Single(_drive.Named(SessionPackager.ActivityFileName), f => !f.Trashed);

        _drive.Server.Faults.DropNextDownloadAfter(300_000);
        var elsewhere = Path.Combine(_bed.Root, "restored");
        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);
        Assert.True(restored.Verified);
        Assert.Equal(log, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
    }

    [Fact]
    public async Task Daily_upload_limit_queues_the_backup()
    {
        _configure = o => o with { Retry = DriveTestBed.FastRetry with { MaxRetries = 2 } };
        var ws = await _bed.OpenAsync();
        var id = await _bed.CompletedSessionAsync(ws);
        _drive.Server.Faults.FailNext(DriveFault.UploadLimitExceeded, 1, requestKind: "upload.");

        var result = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(BackupStatus.Queued, result.Status);
        Assert.Equal(id, Assert.Single(await QueueAsync(ws)).SessionId);
        Assert.Equal(BackupStatus.Succeeded, Assert.Single(await ToListAsync(ws.Backups.BackupAsync(new BackupRequest(), null, None))).Status);
    }
}

/// <summary>Progress reported on the calling thread, so a test can react at a given point.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
