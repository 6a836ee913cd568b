using TierStorage.Contracts;
using TierStorage.Engine.Collections;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;

namespace TierStorage.Tests.Collections;

/// <summary>Clean-up rules (local files deleted by age), and the collections in the policy run.</summary>
public sealed class CollectionCleanupTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private BackupTestBed _bed = null!;
    private TierWorkspace _ws = null!;
    private string _logs = null!;

    public async Task InitializeAsync()
    {
        _bed = await BackupTestBed.CreateAsync(extraYaml: """
            collections:
              - name: logs
                path: ../logs
                exclude: [cache]
                cleanup:
                  - include: ['*.log']
                    older_than_days: 30
                  - include: ['cache/**']
                    older_than_days: 7
                    require_backup: false
            """);
        _logs = Path.Combine(_bed.Root, "logs");
        Directory.CreateDirectory(Path.Combine(_logs, "app"));
        Directory.CreateDirectory(Path.Combine(_logs, "cache"));
        _ws = await _bed.OpenAsync();
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private CollectionDefinition Logs => _ws.Collections.GetCollection("logs");

    /// <summary>A file last written <paramref name="daysAgo"/> days before the bed's clock.</summary>
    private string Write(string relative, string text, double daysAgo)
    {
        var path = Path.Combine(_logs, relative.Replace('/', Path.DirectorySeparatorChar));
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, _bed.Time.Now.UtcDateTime.AddDays(-daysAgo));
        return path;
    }

    private static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    [Fact]
    public async Task Only_old_files_the_newest_version_holds_are_planned_and_a_rule_without_backup_takes_excluded_caches()
    {
        Write("app/old.log", "old and backed up", 40);
        Write("app/young.log", "too young", 3);
        Write("app/changed.log", "backed up like this", 40);
        Write("cache/blob.bin", "a cache", 10);
        Write("cache/fresh.bin", "a fresh cache", 1);
        await _ws.Collections.BackupAsync(Logs, null, None);
        Write("app/changed.log", "then changed, and its time set back", 40);
        Write("app/unversioned.log", "never backed up", 50);

        var plan = await _ws.Collections.PlanCleanupAsync(Logs, None);

        Assert.Equal(["logs:app/old.log", "logs:cache/blob.bin"], plan.Select(m => m.Subject).Order(StringComparer.Ordinal));
        Assert.All(plan, m => Assert.Equal((TierMoveAction.Delete, TierMoveState.Planned, "local", CollectionOperations.CleanupDataClass), (m.Action, m.State, m.From, m.DataClass)));
        Assert.StartsWith("collections[logs].cleanup[1]: cache/** older than 7 days", plan.Single(m => m.Subject.EndsWith(".bin", StringComparison.Ordinal)).Rule, StringComparison.Ordinal);
        var usage = await _ws.Collections.GetUsageAsync(Logs, 1, 0, None);
        var held = usage.Single(u => u.Kind == CollectionUsageKind.CleanupHeld);
        Assert.Equal((2, "cleanup[0]: *.log older than 30 days"), (held.FileCount, held.Path));
        Assert.Equal(["cleanup[0]: *.log older than 30 days", "cleanup[1]: cache/** older than 7 days, backup not required"],
            usage.Where(u => u.Kind == CollectionUsageKind.Cleanup).Select(u => u.Path));
        Assert.Equal("old and backed up".Length, usage.First(u => u.Kind == CollectionUsageKind.Cleanup).Bytes);
    }

    [Fact]
    public async Task Apply_deletes_what_was_planned_and_skips_a_file_whose_bytes_changed_behind_the_same_size_and_time()
    {
        var same = Write("app/same.log", "aaaa", 40);
        var swapped = Write("app/swapped.log", "bbbb", 40);
        Write("cache/blob.bin", "a cache", 10);
        await _ws.Collections.BackupAsync(Logs, null, None);
        var plan = await _ws.Collections.PlanCleanupAsync(Logs, None);
        Assert.Equal(3, plan.Count);
        // Other bytes of the same length, with the time put back: only the SHA-256 can tell.
        var time = File.GetLastWriteTimeUtc(swapped);
        File.WriteAllText(swapped, "cccc");
        File.SetLastWriteTimeUtc(swapped, time);

        var done = await ListAsync(_ws.Collections.ApplyCleanupAsync(Logs, plan, None));

        Assert.Equal(TierMoveState.Done, done.Single(m => m.Subject == "logs:app/same.log").State);
        Assert.Equal(4, done.Single(m => m.Subject == "logs:app/same.log").Bytes);
        var skipped = done.Single(m => m.Subject == "logs:app/swapped.log");
        Assert.Equal(TierMoveState.Skipped, skipped.State);
        Assert.Contains("bytes differ", skipped.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(same));
        Assert.Equal("cccc", File.ReadAllText(swapped));
        Assert.False(File.Exists(Path.Combine(_logs, "cache", "blob.bin")));
    }

    [Fact]
    public async Task Apply_deletes_nothing_the_plan_did_not_name_and_skips_a_file_touched_since_the_plan()
    {
        var touched = Write("app/touched.log", "old", 40);
        var other = Write("app/other.log", "old too", 40);
        await _ws.Collections.BackupAsync(Logs, null, None);
        var plan = await _ws.Collections.PlanCleanupAsync(Logs, None);
        File.AppendAllText(touched, " and written again");

        var done = await ListAsync(_ws.Collections.ApplyCleanupAsync(Logs, plan.Where(m => m.Subject.EndsWith("touched.log", StringComparison.Ordinal)), None));

        Assert.Equal(TierMoveState.Skipped, Assert.Single(done).State);
        Assert.True(File.Exists(touched));
        Assert.True(File.Exists(other), "a file the approved steps did not name is never deleted");
        // A hand-made step naming a path outside the folder, or another collection's, is refused the same way.
        var forged = await ListAsync(_ws.Collections.ApplyCleanupAsync(Logs, [plan[0] with { Subject = "logs:../../etc/passwd" }, plan[0] with { Subject = "other:app/other.log" }], None));
        Assert.All(forged, m => Assert.Equal(TierMoveState.Skipped, m.State));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public async Task A_link_in_the_folder_is_not_followed_by_a_clean_up()
    {
        var outside = Path.Combine(_bed.Root, "outside");
        Directory.CreateDirectory(outside);
        var victim = Path.Combine(outside, "precious.log");
        File.WriteAllText(victim, "not the collection's");
        File.SetLastWriteTimeUtc(victim, _bed.Time.Now.UtcDateTime.AddDays(-400));
        Directory.CreateSymbolicLink(Path.Combine(_logs, "linked"), outside);
        Write("app/old.log", "old", 40);
        await _ws.Collections.BackupAsync(Logs, null, None);
        // require_backup: false for every *.log, so only the link keeps the outside file safe.
        Logs.Cleanup[0].RequireBackup = false;

        var plan = await _ws.Collections.PlanCleanupAsync(Logs, None);
        await ListAsync(_ws.Collections.ApplyCleanupAsync(Logs, plan, None));

        Assert.Equal("logs:app/old.log", Assert.Single(plan).Subject);
        Assert.True(File.Exists(victim));
    }

    [Fact]
    public async Task An_unreachable_tier_holds_back_every_file_that_needs_a_backup_but_not_the_caches()
    {
        Write("app/old.log", "old", 40);
        Write("cache/blob.bin", "a cache", 10);
        await _ws.Collections.BackupAsync(Logs, null, None);
        _bed.Faults.Offline = true;

        var plan = await _ws.Collections.PlanCleanupAsync(Logs, None);

        Assert.Equal("logs:cache/blob.bin", Assert.Single(plan).Subject);
        var usage = await _ws.Collections.GetUsageAsync(Logs, 0, 0, None);
        Assert.Equal(1, usage.Single(u => u.Kind == CollectionUsageKind.CleanupHeld).FileCount);
    }

    [Fact]
    public async Task A_version_s_age_is_how_old_it_is_by_the_workspace_clock()
    {
        Write("app/a.log", "a", 1);
        await _ws.Collections.BackupAsync(Logs, null, None);
        _bed.Time.Advance(TimeSpan.FromDays(3));

        var version = Assert.Single(await ListAsync(_ws.Collections.GetVersionsAsync(Logs, None)));

        Assert.Equal(TimeSpan.FromDays(3), version.Age);
    }

    [Fact]
    public async Task The_policy_run_backs_up_a_due_collection_then_cleans_up_and_its_WhatIf_plan_shows_both()
    {
        var old = Write("app/old.log", "old", 40);
        Write("cache/blob.bin", "a cache", 10);

        var whatIf = await _ws.Lifecycle.PlanCollectionsAsync(None);
        var copy = Assert.Single(whatIf, m => m.Action == TierMoveAction.Copy);
        Assert.Equal(("logs", "local", BackupTestBed.BackupTier), (copy.Subject, copy.From, copy.To));
        Assert.Equal("logs:cache/blob.bin", Assert.Single(whatIf, m => m.Action == TierMoveAction.Delete).Subject);
        Assert.True(File.Exists(old));

        var run = await _ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.Equal(PolicyRunStatus.Succeeded, run.Status);
        var version = Assert.Single(run.Collections);
        Assert.Equal((CollectionBackupStatus.Succeeded, 1), (version.Status, version.FileCount));
        Assert.Equal(["logs:app/old.log", "logs:cache/blob.bin"], run.Moves.Where(m => m.State == TierMoveState.Done).Select(m => m.Subject).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(old));
        // The deleted log is in the version that was taken first.
        var restored = await ListAsync(_ws.Collections.RestoreAsync(new CollectionRestoreRequest { Collection = "logs" }, null, None));
        Assert.Equal(CollectionRestoreAction.Restored, Assert.Single(restored).Action);
        Assert.Equal("old", File.ReadAllText(old));
        // Not due again the same day: the next run takes no version.
        Assert.Empty((await _ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None)).Collections);
    }
}

/// <summary>How the policy run orders and limits collection backups: priority, a critical tier, a time limit, a failure.</summary>
public sealed class CollectionPolicyRunTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<BackupTestBed> BedAsync(string tierExtra = "", string alerts = "")
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-cprun-" + Guid.NewGuid().ToString("N"));
        var bed = await BackupTestBed.CreateAsync(tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "tier")}
                price_per_gb_month: 0
            {tierExtra}
            """, extraYaml: """
            collections:
              - name: low-one
                path: ../low
                priority: low
              - name: high-one
                path: ../high
                priority: high
              - name: gone
                path: ../not-there
            """ + alerts);
        Directory.CreateDirectory(Path.Combine(root, "tier"));
        foreach (var folder in new[] { "low", "high" })
        {
            Directory.CreateDirectory(Path.Combine(bed.Root, folder));
            await File.WriteAllTextAsync(Path.Combine(bed.Root, folder, "a.txt"), folder);
        }
        return bed;
    }

    [Fact]
    public async Task Due_collections_go_high_priority_first_and_one_that_fails_fails_the_run_but_not_the_others()
    {
        await using var bed = await BedAsync();
        var ws = await bed.OpenAsync();

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.True(run.Collections.Count == 3, string.Join("\n", run.Alerts));
        Assert.Equal(["high-one", "gone", "low-one"], run.Collections.Select(c => c.Collection));
        Assert.Equal([CollectionBackupStatus.Succeeded, CollectionBackupStatus.Failed, CollectionBackupStatus.Succeeded], run.Collections.Select(c => c.Status));
        Assert.Contains(run.Alerts, a => a.StartsWith("Collection 'gone' backup failed: CollectionSourceNotFound", StringComparison.Ordinal));
        Assert.Equal(PolicyRunStatus.Failed, run.Status);
    }

    [Fact]
    public async Task On_a_critical_tier_only_high_priority_collections_are_backed_up_and_the_rest_are_alerted()
    {
        await using var bed = await BedAsync("    capacity: 64KB");
        var ws = await bed.OpenAsync();
        // The project's own older data fills the tier to 98 %.
        var tierFolder = Path.Combine(ws.Policy.GetTier("backup")!.Path!, bed.Namespace);
        Directory.CreateDirectory(tierFolder);
        await File.WriteAllBytesAsync(Path.Combine(tierFolder, "filler.bin"), new byte[63 * 1024]);

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.Equal(CollectionBackupStatus.Succeeded, run.Collections.Single(c => c.Collection == "high-one").Status);
        var low = run.Collections.Single(c => c.Collection == "low-one");
        Assert.Equal(CollectionBackupStatus.Skipped, low.Status);
        Assert.Contains("critical", low.Message, StringComparison.Ordinal);
        Assert.Contains(run.Alerts, a => a.StartsWith("Collection 'low-one' was not backed up: tier 'backup' is critical", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Past_the_time_limit_no_collection_starts_and_each_is_reported()
    {
        await using var bed = await BedAsync();
        var ws = await bed.OpenAsync();

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions { TimeLimit = TimeSpan.FromTicks(1) }, null, None);

        Assert.Equal(3, run.Collections.Count);
        Assert.All(run.Collections, c => Assert.Equal(CollectionBackupStatus.Skipped, c.Status));
        Assert.Equal(3, run.Alerts.Count(a => a.Contains("time limit", StringComparison.Ordinal)));
        Assert.Equal(PolicyRunStatus.CompletedWithAlerts, run.Status);
    }

    [Fact]
    public async Task An_unreachable_tier_leaves_every_collection_due_for_the_next_run_with_an_alert_not_a_failure()
    {
        await using var bed = await BedAsync();
        var ws = await bed.OpenAsync();
        bed.Faults.Offline = true;

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.Equal(3, run.Collections.Count);
        Assert.All(run.Collections, c => Assert.Equal(CollectionBackupStatus.Skipped, c.Status));
        Assert.Contains(run.Alerts, a => a.StartsWith("Collection 'high-one' was not backed up: its tier cannot be reached", StringComparison.Ordinal));
        var plan = await ws.Lifecycle.PlanCollectionsAsync(None);
        Assert.Equal(["high-one", "gone", "low-one"], plan.Where(m => m.Action == TierMoveAction.Copy).Select(m => m.Subject));
        Assert.All(plan, m => Assert.Equal(TierMoveState.Skipped, m.State));
        bed.Faults.Offline = false;
        var next = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.Equal(2, next.Collections.Count(c => c.Status == CollectionBackupStatus.Succeeded));
    }

    [Fact]
    public async Task A_collection_failing_for_backup_failing_runs_in_a_row_is_one_alert_that_resolves_once_it_is_backed_up()
    {
        await using var bed = await BedAsync(alerts: """

            alerts:
              backup_failing_runs: 2
              channels:
                - kind: file
            """);
        var ws = await bed.OpenAsync();

        var first = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.DoesNotContain(first.TierAlerts, a => a.Condition == "backup-failing");
        bed.Time.Advance(TimeSpan.FromDays(1));
        var second = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        var failing = Assert.Single(second.TierAlerts, a => a.Condition == "backup-failing");
        Assert.Equal(("backup-failing:collection:gone", AlertSeverity.Critical), (failing.Key, failing.Severity));
        Assert.Contains("Backup-Collection gone", failing.Fix, StringComparison.Ordinal);
        Assert.EndsWith("(2 runs in a row)", failing.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(bed.Root, "not-there"));
        bed.Time.Advance(TimeSpan.FromDays(1));
        var third = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.All(third.Collections, c => Assert.Equal(CollectionBackupStatus.Succeeded, c.Status));
        Assert.DoesNotContain(third.TierAlerts, a => a.Condition == "backup-failing");
        Assert.Contains(ws.Alerts.GetAlerts(includeResolved: true), a => a.Key == "backup-failing:collection:gone" && a.State == TierAlertState.Resolved);
    }
}
