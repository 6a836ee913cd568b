using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;
using Xunit;
using static TierStorage.Tests.Lifecycle.LifecycleTestModels;

namespace TierStorage.Tests.Lifecycle;

/// <summary>Each planner rule on hand-built models, starting from the seed design (4 phases, 2 kept on backup, 2
/// sessions kept locally).</summary>
public sealed class LifecyclePlannerTests
{
    [Fact]
    public void Seed_archives_the_two_oldest_phases_then_deletes_their_sessions_from_backup()
    {
        var plan = LifecyclePlanner.Plan(Seed());

        var archives = plan.Where(m => m.Action == TierMoveAction.Archive).ToArray();
        Assert.Equal(["Phase_0_setup", "Phase_1_core"], archives.Select(m => m.Subject));
        Assert.All(archives, m => Assert.Equal(("drive", "s3", "retention.backup_phases = 2"), (m.From, m.To!, m.Rule)));

        var backupDeletes = plan.Where(m => m.Action == TierMoveAction.Delete && m.From == "drive").ToArray();
        Assert.Equal(["s0a", "s0b", "s1a"], backupDeletes.Select(m => m.SessionId!).Distinct());
        Assert.Equal(9, backupDeletes.Length);
        Assert.All(backupDeletes, m =>
        {
            Assert.Equal("retention.backup_phases = 2", m.Rule);
            Assert.True(plan.ToList().IndexOf(m) > plan.ToList().FindIndex(a => a.Action == TierMoveAction.Archive && a.Phase == m.Phase));
        });
    }

    [Fact]
    public void Seed_backs_up_the_completed_session_and_deletes_older_sessions_locally_after_their_backup()
    {
        var plan = LifecyclePlanner.Plan(Seed());

        var copy = Assert.Single(plan, m => m.Action == TierMoveAction.Copy);
        Assert.Equal(("s3a", "local", "drive", LifecyclePlanner.SessionBackupRule, 3000L), (copy.Subject, copy.From, copy.To!, copy.Rule, copy.Bytes));
        Assert.Equal(0, plan.ToList().IndexOf(copy));

        var localDeletes = plan.Where(m => m.Action == TierMoveAction.Delete && m.From == "local").ToArray();
        Assert.Equal(["s0a", "s0b", "s1a", "s2a"], localDeletes.Select(m => m.SessionId!).Distinct());
        Assert.All(localDeletes, m => Assert.Equal("retention.local_sessions = 2", m.Rule));
        Assert.Equal("s0a/activity_logs", localDeletes[0].Subject);
    }

    [Fact]
    public void Seed_plan_never_touches_the_active_session_or_its_phase()
    {
        var plan = LifecyclePlanner.Plan(Seed(PolicyWith(backupPhases: 1)));

        Assert.DoesNotContain(plan, m => m.SessionId == "s3b" || (m.Action == TierMoveAction.Archive && m.Phase == 3));
        Assert.Contains(plan, m => m.Action == TierMoveAction.Archive && m.Phase == 2);
    }

    [Fact]
    public void Unverified_session_is_deleted_locally_only_after_its_copy_succeeds()
    {
        var model = Replace(Seed(), i => i.SessionId == "s2a", i => i with { OnBackup = false });
        var plan = LifecyclePlanner.Plan(model);
        var copyIndex = plan.ToList().FindIndex(m => m.Action == TierMoveAction.Copy && m.SessionId == "s2a");
        Assert.True(copyIndex >= 0);
        Assert.All(plan.Where(m => m.SessionId == "s2a" && m.Action == TierMoveAction.Delete), m => Assert.True(plan.ToList().IndexOf(m) > copyIndex));

        var (after, refusals) = Execute(model, plan, fails: step => step == copyIndex);

        Assert.All(SessionClasses, c => Assert.True(Item(after, "s2a", c).OnLocal));
        Assert.Equal(3, refusals.Count(r => r.StartsWith("s2a/", StringComparison.Ordinal) && r.Contains("only verified copy", StringComparison.Ordinal)));
        Assert.All(SessionClasses, c => Assert.False(Item(after, "s0a", c).OnLocal));
    }

    [Fact]
    public void Snapshots_leave_the_workspace_after_core_days_only_with_a_backup_copy()
    {
        var model = Seed() with { Sessions = Seed().Sessions.Select(s => s.SessionId == "s3a" ? s with { EndedAt = Now.AddDays(-3) } : s).ToArray() };
        model = Replace(model, i => i.SessionId == "s3a", i => i with { WrittenAt = Now.AddDays(-3) });

        var plan = LifecyclePlanner.Plan(model);
        var delete = Assert.Single(plan, m => m.SessionId == "s3a" && m.Action == TierMoveAction.Delete);
        Assert.Equal(("s3a/snapshots", "local", "lifecycle[snapshots].core_days = 2"), (delete.Subject, delete.From, delete.Rule));
        Assert.True(plan.ToList().IndexOf(delete) > plan.ToList().FindIndex(m => m.Action == TierMoveAction.Copy && m.SessionId == "s3a"));

        var copyFails = Execute(model, plan, fails: step => plan[step].Action == TierMoveAction.Copy).Model;
        Assert.True(Item(copyFails, "s3a", "snapshots").OnLocal);
        var copySucceeds = Execute(model, plan).Model;
        Assert.False(Item(copySucceeds, "s3a", "snapshots").OnLocal);
        Assert.True(Item(copySucceeds, "s3a", "snapshots").OnBackup);
        Assert.True(Item(copySucceeds, "s3a", "activity_logs").OnLocal);
    }

    [Fact]
    public void Snapshots_younger_than_core_days_stay_local()
    {
        var plan = LifecyclePlanner.Plan(Seed());

        Assert.DoesNotContain(plan, m => m.SessionId == "s3a" && m.Action == TierMoveAction.Delete);
    }

    [Fact]
    public void Finished_phase_older_than_the_smallest_archive_after_days_is_archived_by_that_rule()
    {
        var model = Seed(PolicyWith(backupPhases: 4));
        model = model with { Sessions = model.Sessions.Select(s => s.Phase == 2 ? s with { EndedAt = Now.AddDays(-31) } : s).ToArray() };

        var plan = LifecyclePlanner.Plan(model);

        var archive = Assert.Single(plan, m => m.Action == TierMoveAction.Archive && m.Phase == 2);
        Assert.Equal("lifecycle[snapshots].archive_after_days = 30", archive.Rule);
        Assert.Single(plan, m => m.Action == TierMoveAction.Archive);
    }

    [Fact]
    public void Main_days_deletes_from_backup_only_what_an_archive_holds()
    {
        var rules = new List<LifecycleRule> { new() { DataClass = "handoffs", MainDays = 15 } };
        var model = Seed(PolicyWith(backupPhases: 4, localSessions: 9, rules: rules));
        model = Replace(model, i => i.Phase == 0, i => i with { InArchive = true });
        model = model with { Phases = model.Phases.Select(p => p.Number == 0 ? p with { ArchivedAt = Now.AddDays(-24) } : p).ToArray() };

        var deletes = LifecyclePlanner.Plan(model).Where(m => m.Action == TierMoveAction.Delete).ToArray();

        Assert.Equal(["s0a/handoffs", "s0b/handoffs"], deletes.Select(m => m.Subject));
        Assert.All(deletes, m => Assert.Equal(("drive", "lifecycle[handoffs].main_days = 15"), (m.From, m.Rule)));
    }

    [Fact]
    public void Delete_after_days_removes_even_the_last_copy()
    {
        var model = Replace(Seed(), i => i.SessionId == "s2a" && i.DataClass == "snapshots", i => i with { WrittenAt = Now.AddDays(-366), OnBackup = false });

        var plan = LifecyclePlanner.Plan(model);

        var delete = plan.First();
        Assert.Equal(("s2a/snapshots", TierMoveAction.Delete, "local", "lifecycle[snapshots].delete_after_days = 365"), (delete.Subject, delete.Action, delete.From, delete.Rule));
        Assert.Null(LifecycleSafety.CheckDelete(delete, model));
        Assert.DoesNotContain(plan, m => m.Action == TierMoveAction.Copy && m.SessionId == "s2a");
        Assert.False(Item(Execute(model, plan).Model, "s2a", "snapshots").Exists);
    }

    [Fact]
    public void Archive_older_than_archive_days_is_deleted_and_no_copy_is_deleted_relying_on_it()
    {
        var model = Seed(PolicyWith(archiveDays: 400));
        model = Replace(model, i => i.Phase == 0, i => i with { InArchive = true, OnBackup = false });
        model = model with { Phases = model.Phases.Select(p => p.Number == 0 ? p with { ArchivedAt = Now.AddDays(-450) } : p).ToArray() };

        var plan = LifecyclePlanner.Plan(model);

        var delete = Assert.Single(plan, m => m.Phase == 0);
        Assert.Equal(("Phase_0_setup", TierMoveAction.Delete, "s3", "retention.archive_days = 400"), (delete.Subject, delete.Action, delete.From, delete.Rule));
        Assert.Contains("450 days old", delete.Message, StringComparison.Ordinal);
        Assert.Same(delete, plan[^1]);

        var after = Execute(model, plan).Model;
        Assert.True(after.FindPhase(0)!.ArchiveExpired);
        Assert.All(after.Items.Where(i => i.Phase == 0), i => Assert.True(i.OnLocal && !i.InArchive));
        Assert.Empty(LifecyclePlanner.Plan(after));
    }

    [Fact]
    public void Archive_is_kept_forever_when_archive_days_is_null()
    {
        var model = Seed() with { Phases = Seed().Phases.Select(p => p.Number == 0 ? p with { ArchivedAt = Now.AddDays(-4000) } : p).ToArray() };

        Assert.DoesNotContain(LifecyclePlanner.Plan(model), m => m.Action == TierMoveAction.Delete && m.From == "s3");
    }

    [Fact]
    public void Seed_plan_reaches_a_fixed_point()
    {
        var model = Seed();
        var plan = LifecyclePlanner.Plan(model);

        var (after, refusals) = Execute(model, plan);

        Assert.Empty(refusals);
        Assert.Empty(LifecyclePlanner.Plan(after));
        Assert.Equal(["s3a", "s3b"], after.Items.Where(i => i.OnLocal).Select(i => i.SessionId!).Distinct());
        Assert.All(after.Items.Where(i => i.Phase <= 1), i => Assert.True(i.InArchive && !i.OnBackup));
    }

    [Fact]
    public void Seed_rerun_after_a_crash_continues_with_exactly_the_steps_left()
    {
        var model = Seed();
        var plan = LifecyclePlanner.Plan(model);

        for (var done = 0; done <= plan.Count; done++)
        {
            var (partial, _) = Execute(model, plan, stopAfter: done);
            Assert.Equal(plan.Skip(done), LifecyclePlanner.Plan(partial));
        }
    }
}
