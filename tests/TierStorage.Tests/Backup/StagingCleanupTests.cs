using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>What backups leave in staging/ (issue 11 #9): lock files, and the partial package of a killed run.</summary>
public sealed class StagingCleanupTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Backups_leave_no_lock_files_in_staging()
    {
        await using var bed = await CreateAsync(localSessions: 5);
        var ws = await bed.OpenAsync();
        var first = await bed.CompletedSessionAsync(ws, seed: 1);
        var second = await bed.CompletedSessionAsync(ws, seed: 2);

        Assert.All(await BackupAsync(ws, first, second), r => Assert.Equal(BackupStatus.Succeeded, r.Status));
        Assert.Equal(BackupStatus.Skipped, Assert.Single(await BackupAsync(ws, first)).Status);

        Assert.Empty(Directory.EnumerateFiles(bed.Layout.StagingDirectory, "*.lock"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(bed.Layout.StagingDirectory));
    }

    [Fact]
    public async Task A_killed_backups_partial_package_and_lock_file_are_removed_by_the_next_backup()
    {
        await using var bed = await CreateAsync(localSessions: 5);
        var ws = await bed.OpenAsync();
        var killed = await bed.CompletedSessionAsync(ws, seed: 1);
        var next = await bed.CompletedSessionAsync(ws, seed: 2);
        // What a backup killed while packaging leaves: half-written temps, an output already renamed, no manifest, its lock.
        var staging = Path.Combine(bed.Layout.StagingDirectory, killed);
        Directory.CreateDirectory(staging);
        File.WriteAllBytes(Path.Combine(staging, ".activity.jsonl.gz.tmp"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(staging, ".analytics_snapshot.db.tmp"), new byte[8192]);
        File.WriteAllBytes(Path.Combine(staging, ".analytics_snapshot.db.tmp-journal"), new byte[512]);
        File.WriteAllBytes(Path.Combine(staging, "snapshots.tar.gz"), new byte[100]);
        File.WriteAllText(Path.Combine(bed.Layout.StagingDirectory, killed + ".lock"), "");
        // Not the workspace's to remove: a file of some other name, and a folder no session is named after.
        File.WriteAllText(Path.Combine(bed.Layout.StagingDirectory, "notes.txt"), "mine");
        Directory.CreateDirectory(Path.Combine(bed.Layout.StagingDirectory, "someone-else"));

        Assert.Equal(BackupStatus.Succeeded, Assert.Single(await BackupAsync(ws, next)).Status);

        Assert.False(Directory.Exists(staging));
        Assert.Empty(Directory.EnumerateFiles(bed.Layout.StagingDirectory, "*.lock"));
        Assert.True(File.Exists(Path.Combine(bed.Layout.StagingDirectory, "notes.txt")));
        Assert.True(Directory.Exists(Path.Combine(bed.Layout.StagingDirectory, "someone-else")));
        // And the killed session itself backs up from scratch, verified.
        var result = Assert.Single(await BackupAsync(ws, killed));
        Assert.Equal((BackupStatus.Succeeded, true), (result.Status, result.Verified));
    }

    [Fact]
    public async Task A_complete_staged_package_is_kept_for_its_sessions_next_backup_and_a_running_backups_staging_is_left_alone()
    {
        await using var bed = await CreateAsync(localSessions: 5);
        var ws = await bed.OpenAsync();
        var running = await bed.CompletedSessionAsync(ws, seed: 1);
        var other = await bed.CompletedSessionAsync(ws, seed: 2);
        var staging = Path.Combine(bed.Layout.StagingDirectory, running);
        Directory.CreateDirectory(staging);
        var partial = Path.Combine(staging, ".activity.jsonl.gz.tmp");
        File.WriteAllBytes(partial, new byte[64]);

        using (await FileLock.AcquireAsync(Path.Combine(bed.Layout.StagingDirectory, running + ".lock"), TimeSpan.Zero, removeWhenReleased: true, None))
        {
            Assert.Equal(BackupStatus.Succeeded, Assert.Single(await BackupAsync(ws, other)).Status);
            Assert.True(File.Exists(partial));
        }
        Assert.False(File.Exists(Path.Combine(bed.Layout.StagingDirectory, running + ".lock")));
    }

    [Fact]
    public async Task On_a_full_backup_tier_the_policy_run_attempts_every_session_and_queues_them()
    {
        // Issue 11 #9: the first session's failure on a full tier stopped the run before the others were attempted.
        await using var bed = await CreateAsync(localSessions: 5);
        var ws = await bed.OpenAsync();
        var first = await bed.CompletedSessionAsync(ws, seed: 1);
        var second = await bed.CompletedSessionAsync(ws, seed: 2);
        var third = await bed.CompletedSessionAsync(ws, seed: 3);
        bed.Faults.QuotaExceeded = true;

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.Equal([first, second, third], run.Backups.Select(b => b.SessionId).Order(StringComparer.Ordinal));
        Assert.All(run.Backups, b => Assert.Equal(BackupStatus.Queued, b.Status));
        Assert.Equal([first, second, third], (await QueueAsync(ws)).Select(q => q.SessionId).Order(StringComparer.Ordinal));
        Assert.All(run.Backups, b => Assert.Contains(run.Alerts, a => a.StartsWith($"Backup of {b.SessionId} Queued", StringComparison.Ordinal)));
        Assert.Empty(Directory.EnumerateFiles(bed.Layout.StagingDirectory, "*.lock"));

        bed.Faults.QuotaExceeded = false;
        var retry = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.All(retry.Backups, b => Assert.Equal(BackupStatus.Succeeded, b.Status));
        Assert.Equal(3, retry.Backups.Count);
    }
}
