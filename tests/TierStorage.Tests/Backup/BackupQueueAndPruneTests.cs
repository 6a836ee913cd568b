using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>The offline queue, pruning only what is verified, and a full disk while packaging.</summary>
public class BackupQueueAndPruneTests : CatalogProviderTests
{
    public BackupQueueAndPruneTests() : this(null) { }

    protected BackupQueueAndPruneTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture? postgres) : base(postgres) { }

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Offline_backup_is_queued_keeps_the_session_and_is_sent_when_the_queue_is_drained()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        var originals = await bed.LocalFilesAsync(ws, id);
        var originalLog = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        bed.Faults.Offline = true;

        var queued = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(BackupStatus.Queued, queued.Status);
        Assert.False(queued.Verified);
        Assert.Contains("cannot be reached", queued.Message);
        var row = Assert.Single(await QueueAsync(ws));
        Assert.Equal((id, BackupTier), (row.SessionId, row.Tier));
        Assert.Equal(SessionState.Completed, (await SessionAsync(ws, id)).State);

        // Newer sessions push it beyond retention (1): it stays, having no verified copy.
        await bed.CompletedSessionAsync(ws, seed: 2);
        await bed.CompletedSessionAsync(ws, seed: 3);
        Assert.All(originals, kv => Assert.True(File.Exists(kv.Key) || kv.Key.StartsWith(bed.Layout.LogsDirectory, StringComparison.Ordinal), kv.Key));
        var kept = await SessionAsync(ws, id);
        Assert.Equal(originalLog, File.ReadAllBytes(kept.LogPath!));
        Assert.Contains("no verified backup", kept.Note);

        // Online again: Sync-BackupQueue = drain only, no session named.
        bed.Faults.Offline = false;
        var drained = Assert.Single(await ToListAsync(ws.Backups.BackupAsync(new BackupRequest { DrainQueue = true }, null, None)));

        Assert.Equal((id, BackupStatus.Succeeded, true), (drained.SessionId, drained.Status, drained.Verified));
        Assert.Empty(await QueueAsync(ws));
        Assert.Equal(SessionState.BackedUp, (await SessionAsync(ws, id)).State);
        Assert.Contains(id, drained.PrunedSessions);
        Assert.Null((await SessionAsync(ws, id)).LogPath);

        // Nothing lost: it comes back byte for byte.
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id }, null, None);
        Assert.Equal(originalLog, File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!));
    }

    [Fact]
    public async Task Next_backup_of_another_session_drains_the_queue_too()
    {
        await using var bed = await CreateAsync(localSessions: 5);
        var ws = await bed.OpenAsync();
        var first = await bed.CompletedSessionAsync(ws, seed: 1);
        bed.Faults.Offline = true;
        Assert.Equal(BackupStatus.Queued, Assert.Single(await BackupAsync(ws, first)).Status);
        var second = await bed.CompletedSessionAsync(ws, seed: 2);
        bed.Faults.Offline = false;

        var results = await BackupAsync(ws, second);

        Assert.Equal([(first, BackupStatus.Succeeded), (second, BackupStatus.Succeeded)], results.Select(r => (r.SessionId, r.Status)));
        Assert.Empty(await QueueAsync(ws));
        Assert.All(results, r => Assert.True(r.Verified));
        Assert.Contains($"Phase_1/sessions/{first}/{SessionManifest.FileName}", bed.TierKeys());
    }

    [Fact]
    public async Task Queued_backup_that_fails_verification_does_not_block_the_backup_of_another_session()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var queued = await bed.CompletedSessionAsync(ws, seed: 1);
        bed.Faults.Offline = true;
        Assert.Equal(BackupStatus.Queued, Assert.Single(await BackupAsync(ws, queued)).Status);
        var asked = await bed.CompletedSessionAsync(ws, seed: 2);
        bed.Faults.Offline = false;
        // Online again, but the tier keeps reporting a bad copy of the queued session's log.
        bed.Faults.WrongMd5ForSuffix = $"/{queued}/{SessionPackager.ActivityFileName}";

        var results = await BackupAsync(ws, asked);

        var failed = results.Single(r => r.SessionId == queued);
        Assert.Equal(BackupStatus.Failed, failed.Status);
        Assert.False(failed.Verified);
        Assert.Contains(SessionPackager.ActivityFileName, failed.Message);
        var done = results.Single(r => r.SessionId == asked);
        Assert.Equal((BackupStatus.Succeeded, true), (done.Status, done.Verified));
        var row = Assert.Single(await QueueAsync(ws));
        Assert.Equal(queued, row.SessionId);
        Assert.Equal(2, row.Attempts);
        Assert.NotNull((await SessionAsync(ws, queued)).LogPath);
        Assert.Equal(SessionState.Completed, (await SessionAsync(ws, queued)).State);

        // A session asked for by name still fails loudly.
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(ws, queued));
        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
    }

    [Fact]
    public async Task Staged_package_damaged_while_queued_is_packaged_again_instead_of_failing_every_rerun()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 100);
        bed.Faults.Offline = true;
        Assert.Equal(BackupStatus.Queued, Assert.Single(await BackupAsync(ws, id)).Status);
        bed.Faults.Offline = false;
        // Bit rot in the staged copy: same size, other bytes.
        var staged = Path.Combine(bed.Layout.StagingDirectory, id, SessionPackager.ActivityFileName);
        var bytes = File.ReadAllBytes(staged);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(staged, bytes);

        var rerun = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal((BackupStatus.Succeeded, true), (rerun.Status, rerun.Verified));
        var activity = rerun.Files.Single(f => f.Name == SessionPackager.ActivityFileName);
        Assert.NotEqual(Md5(bytes), activity.Md5);
        Assert.Equal(activity.Md5, Md5(File.ReadAllBytes(bed.TierPath(activity.Key))));
        var restored = Path.Combine(bed.Root, "restored");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = restored }, null, None);
        Assert.Equal(File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!), File.ReadAllBytes(Path.Combine(restored, SessionPackager.ActivityEntryName)));
    }

    [Fact]
    public async Task What_if_plans_each_session_and_changes_nothing()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        var before = bed.WorkspaceSnapshot();

        var plan = Assert.Single(await ToListAsync(ws.Backups.PlanAsync(new BackupRequest { SessionIds = [id] }, None)));

        Assert.Equal((id, BackupStatus.Planned, BackupTier, $"Phase_1/sessions/{id}/"), (plan.SessionId, plan.Status, plan.Tier, plan.Location));
        Assert.Empty(bed.TierKeys());
        Assert.Equal(before, bed.WorkspaceSnapshot());
        Assert.Equal(SessionState.Completed, (await SessionAsync(ws, id)).State);
    }

    [Fact]
    public async Task Quota_exceeded_queues_the_backup_instead_of_failing_it()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        bed.Faults.QuotaExceeded = true;

        var result = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(BackupStatus.Queued, result.Status);
        Assert.Equal(id, Assert.Single(await QueueAsync(ws)).SessionId);
        Assert.Equal(SessionState.Completed, (await SessionAsync(ws, id)).State);

        bed.Faults.QuotaExceeded = false;
        Assert.Equal(BackupStatus.Succeeded, Assert.Single(await ToListAsync(ws.Backups.BackupAsync(new BackupRequest(), null, None))).Status);
        Assert.Empty(await QueueAsync(ws));
    }

    [Theory]
    [InlineData(SessionPackager.ActivityFileName)]
    [InlineData(SessionManifest.FileName)]
    public async Task Session_is_not_pruned_when_its_backup_fails_verification(string badFile)
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, seed: 1);
        var newer = await bed.CompletedSessionAsync(ws, seed: 2);
        var originals = await bed.LocalFilesAsync(ws, id);
        bed.Faults.WrongMd5ForSuffix = "/" + badFile;

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(ws, id));

        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.Contains(badFile, ex.Message);
        await bed.CompletedSessionAsync(ws, seed: 3); // Start-Session prunes too
        var after = await SessionAsync(ws, id);
        Assert.Equal(SessionState.Completed, after.State);
        Assert.False(after.Verified);
        Assert.NotNull(after.LogPath);
        foreach (var (path, bytes) in originals.Where(kv => !kv.Key.StartsWith(bed.Layout.LogsDirectory, StringComparison.Ordinal)))
            Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(originals.Single(kv => kv.Key.StartsWith(bed.Layout.LogsDirectory, StringComparison.Ordinal)).Value, File.ReadAllBytes(after.LogPath!));

        // Once the tier reports the right checksums, the backup verifies and the session beyond retention is pruned.
        bed.Faults.WrongMd5ForSuffix = null;
        var result = Assert.Single(await BackupAsync(ws, id));

        Assert.True(result.Verified);
        Assert.Equal([id], result.PrunedSessions);
        Assert.Null((await SessionAsync(ws, id)).LogPath);
        Assert.Empty(bed.Layout.EnumerateSnapshots(id));
        Assert.False(File.Exists(bed.Layout.HandoffPath(id)));
        Assert.NotNull((await SessionAsync(ws, newer)).LogPath);
    }

    [Fact]
    public async Task Disk_full_while_packaging_leaves_the_session_intact_and_a_rerun_succeeds()
    {
        if (!File.Exists("/dev/full")) return; // only Linux has a device that is always full
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 200);
        var originals = await bed.LocalFilesAsync(ws, id);
        var staging = Path.Combine(bed.Layout.StagingDirectory, id);
        Directory.CreateDirectory(staging);
        var full = AtomicFile.TempPathFor(Path.Combine(staging, SessionPackager.ActivityFileName));
        File.CreateSymbolicLink(full, "/dev/full");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(ws, id));

        Assert.Equal(ErrorIds.DiskFull, ex.ErrorId);
        foreach (var (path, bytes) in originals) Assert.Equal(bytes, File.ReadAllBytes(path));
        var after = await SessionAsync(ws, id);
        Assert.Equal(SessionState.Completed, after.State);
        Assert.False(after.Verified);
        Assert.Empty(bed.TierKeys());
        Assert.Empty(await QueueAsync(ws));

        // Space is back.
        if (File.Exists(full) || new FileInfo(full).LinkTarget is not null) File.Delete(full);
        var rerun = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal((BackupStatus.Succeeded, true), (rerun.Status, rerun.Verified));
        Assert.Equal(SessionState.BackedUp, (await SessionAsync(ws, id)).State);
    }

    [Fact]
    public async Task A_drive_tier_nobody_signed_in_to_queues_the_backup_until_connect_tier_drive_has_run()
    {
        await using var bed = await CreateAsync(tierYaml: """
              - name: drive
                level: 2
                kind: google-drive
                root_folder: TierStorage
            """);
        // The real factory: it looks for the OAuth token under credentials/ and finds none.
        var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = bed.WorkspaceRoot, Time = bed.Time }, None);
        await using (ws)
        {
            var id = await bed.CompletedSessionAsync(ws);

            var noClient = Assert.Single(await ToListAsync(ws.Backups.BackupAsync(new BackupRequest { SessionIds = [id] }, null, None)));
            Assert.Equal(BackupStatus.Queued, noClient.Status);
            Assert.Contains("client_secret.json", noClient.Message);

            File.WriteAllText(Path.Combine(bed.Layout.CredentialsDirectory, "client_secret.json"), """
                {"installed":{"client_id":"id.apps.googleusercontent.com","client_secret":"s","auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token","redirect_uris":["http://localhost"]}}
                """);
            var noToken = Assert.Single(await ToListAsync(ws.Backups.BackupAsync(new BackupRequest { SessionIds = [id] }, null, None)));

            Assert.Equal(BackupStatus.Queued, noToken.Status);
            Assert.Contains("Connect-TierDrive", noToken.Message);
            var row = Assert.Single(await QueueAsync(ws));
            Assert.Equal((id, "drive", 2), (row.SessionId, row.Tier, row.Attempts));
            Assert.Equal(SessionState.Completed, (await SessionAsync(ws, id)).State);
        }
    }
}

/// <summary>Every test of <see cref="BackupQueueAndPruneTests"/> with the workspace's catalog on a real PostgreSQL.</summary>
[Collection(TierStorage.Tests.Catalog.Postgres.PostgresCollection.Name)]
public sealed class PostgresBackupQueueAndPruneTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture server) : BackupQueueAndPruneTests(server);
