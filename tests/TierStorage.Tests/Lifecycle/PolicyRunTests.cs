using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Lifecycle;

public class PolicyRunTests : TierStorage.Tests.Backup.CatalogProviderTests
{
    public PolicyRunTests() : this(null) { }

    protected PolicyRunTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture? postgres) : base(postgres) { }

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_run_backs_up_completed_sessions_moves_by_the_policy_and_reports_usage()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using (var bed = await CreateAsync(localSessions: 1, tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
              - name: archive
                level: 3
                kind: folder
                path: {Path.Combine(root, "archive")}
            """))
        {
            var ws = await bed.OpenAsync();
            for (var phase = 0; phase < 4; phase++)
            {
                bed.Time.Advance(TimeSpan.FromHours(1));
                await ws.StartSessionAsync(new StartSessionRequest { Phase = phase }, None);
                await ws.CompleteSessionAsync(null, None);
            }

            var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

            Assert.Equal(PolicyRunStatus.Succeeded, run.Status);
            Assert.Equal(4, run.Backups.Count(b => b.Status == BackupStatus.Succeeded));
            Assert.Equal(2, run.Moves.Count(m => m.Action == TierMoveAction.Archive && m.State == TierMoveState.Done));
            Assert.Equal(["local", "backup", "archive"], run.Usage.Select(u => u.Tier));
            Assert.Empty(run.Alerts);

            var again = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.Equal((PolicyRunStatus.Succeeded, 0), (again.Status, again.Moves.Count));
            Assert.DoesNotContain(again.Backups, b => b.BytesSent > 0);

            // Issue 11 #3: a torn archive, after the backup copies were deleted, left its sessions with no readable copy
            // and the next run exited 0 without a word. Every run re-checks the archives it relies on.
            var archive = Directory.EnumerateFiles(Path.Combine(root, "archive", bed.Namespace), "Phase_0*.tar.gz").Single();
            File.WriteAllBytes(archive, File.ReadAllBytes(archive)[..^100]);
            var torn = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.Equal(PolicyRunStatus.Failed, torn.Status);
            Assert.Contains(torn.Alerts, a => a.StartsWith("Archive check: Corrupt " + Path.GetFileName(archive), StringComparison.Ordinal));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task One_sessions_failed_backup_does_not_leave_the_others_unattempted()
    {
        // Issue 11 #9: on a backup tier that failed the first session, the run stopped there and backed up nothing else.
        await using var bed = await CreateAsync(localSessions: 3);
        var ws = await bed.OpenAsync();
        var first = await bed.CompletedSessionAsync(ws, seed: 1);
        var second = await bed.CompletedSessionAsync(ws, seed: 2);
        bed.Faults.WrongMd5ForSuffix = $"{first}/activity.jsonl.gz";

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.Equal(PolicyRunStatus.Failed, run.Status);
        Assert.Equal(BackupStatus.Failed, Assert.Single(run.Backups, b => b.SessionId == first).Status);
        Assert.Contains(ErrorIds.ChecksumMismatch, Assert.Single(run.Backups, b => b.SessionId == first).Message);
        Assert.Equal(BackupStatus.Succeeded, Assert.Single(run.Backups, b => b.SessionId == second).Status);
        Assert.Contains(run.Alerts, a => a.StartsWith($"Backup of {first} Failed", StringComparison.Ordinal));
        Assert.Equal(SessionState.Completed, (await SessionAsync(ws, first)).State);
    }

    [Fact]
    public async Task Two_runs_never_overlap_and_a_crashed_runs_lock_does_not_block_the_next()
    {
        await using var bed = await CreateAsync();
        var first = await bed.OpenAsync();
        var second = await bed.OpenAsync();
        var lockPath = Path.Combine(bed.Layout.LogsDirectory, ".policy-run.lock");

        PolicyRunResult held;
        using (await FileLock.AcquireAsync(lockPath, TimeSpan.FromSeconds(5), None))
        {
            File.WriteAllText(Path.Combine(bed.Layout.LogsDirectory, ".policy-run.lease.json"), """{"pid":4242,"host":"other-box","started":"2026-11-22T09:00:00Z"}""");
            held = await second.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        }

        Assert.Equal(PolicyRunStatus.AlreadyRunning, held.Status);
        Assert.Contains("process 4242 on other-box", Assert.Single(held.Alerts));

        // The holder is gone (its OS lock died with it); the lease file it left behind does not block anyone.
        var next = await first.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.NotEqual(PolicyRunStatus.AlreadyRunning, next.Status);
    }

    [Fact]
    public async Task A_critical_local_tier_with_migrate_on_critical_has_older_sessions_moved_off_after_their_copies_are_verified()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-migrate-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var bed = await CreateAsync(localSessions: 3, tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
            """);
        await using (bed)
        {
            // The local tier: tiny, so three sessions put it past critical (on PostgreSQL the catalog is not a file on it,
            // so the sessions' own files must do it: a smaller tier).
            var policy = Path.Combine(bed.WorkspaceRoot, "tierstorage.yaml");
            var capacity = Postgres is null ? "64KB" : "16KB";
            File.WriteAllText(policy, File.ReadAllText(policy).Replace("capacity: 20MB", $"capacity: {capacity}\n    migrate_on_critical: true"));
            var ws = await bed.OpenAsync();
            var ids = new List<string>();
            for (var i = 0; i < 3; i++) ids.Add(await bed.CompletedSessionAsync(ws, events: 100, seed: i + 1));

            var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

            Assert.Contains(run.Moves, m => m.Rule.StartsWith("migrate_on_critical: retention.local_sessions = 1", StringComparison.Ordinal) && m.State == TierMoveState.Done);
            Assert.Contains(run.Alerts, a => a.Contains("migrate_on_critical", StringComparison.Ordinal));
            // Issue 11 #5: the catalog alone keeps a 64 KB tier critical; that is an alert for a person, not a failed job.
            Assert.Contains(run.Alerts, a => a.StartsWith("Tier 'local' is Critical", StringComparison.Ordinal));
            Assert.Equal(PolicyRunStatus.CompletedWithAlerts, run.Status);
            Assert.Null((await SessionAsync(ws, ids[0])).LogPath);
            Assert.Null((await SessionAsync(ws, ids[1])).LogPath);
            Assert.NotNull((await SessionAsync(ws, ids[2])).LogPath);
            Assert.All(ids, id => Assert.True(SessionAsync(ws, id).GetAwaiter().GetResult().Verified, id));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_unreachable_backup_tier_queues_the_night_s_backups_and_the_run_reports_alerts_not_failure()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-offline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using (var bed = await CreateAsync(localSessions: 1, tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "nas-not-mounted", "backup")}
            """))
        {
            var ws = await bed.OpenAsync();
            var ids = new List<string>();
            for (var i = 0; i < 3; i++) ids.Add(await bed.CompletedSessionAsync(ws, seed: i + 1));

            var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

            Assert.Equal(PolicyRunStatus.CompletedWithAlerts, run.Status);
            Assert.All(run.Backups, b => Assert.Equal(BackupStatus.Queued, b.Status));
            Assert.DoesNotContain(run.Moves, m => m.Action == TierMoveAction.Delete && m.State == TierMoveState.Done);
            Assert.All(ids, id => Assert.NotNull(SessionAsync(ws, id).GetAwaiter().GetResult().LogPath));
        }
        Directory.Delete(root, true);
    }
}

/// <summary>Every test of <see cref="PolicyRunTests"/> with the workspace's catalog on a real PostgreSQL.</summary>
[Collection(TierStorage.Tests.Catalog.Postgres.PostgresCollection.Name)]
public sealed class PostgresPolicyRunTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture server) : PolicyRunTests(server);
