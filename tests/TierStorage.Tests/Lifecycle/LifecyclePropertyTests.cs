using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;
using Xunit;
using static TierStorage.Tests.Lifecycle.LifecycleTestModels;

namespace TierStorage.Tests.Lifecycle;

/// <summary>A random policy and catalog, and a random run of its plan: which steps fail and where the process dies.</summary>
public sealed record LifecycleScenario(LifecycleModel Model, int FailureSeed, int FailurePercent, int CrashAfter)
{
    public bool Fails(int step) => new Random(HashCode.Combine(FailureSeed, step)).Next(100) < FailurePercent;

    public override string ToString() =>
        $"policy local_sessions={Model.Policy.Retention.LocalSessions} backup_phases={Model.Policy.Retention.BackupPhases} " +
        $"archive_days={Model.Policy.Retention.ArchiveDays?.ToString() ?? "forever"} archive tier={Model.Policy.GetTier(TierLevel.Archive) is not null}; " +
        string.Join("; ", Model.Policy.Lifecycle.Select(r => $"{r.DataClass} {r.CoreDays}/{r.MainDays}/{r.ArchiveAfterDays}/{r.DeleteAfterDays}")) + "\n" +
        string.Join("\n", Model.Phases.Select(p => $"  {p}")) + "\n" + string.Join("\n", Model.Sessions.Select(s => $"  {s}")) + "\n" +
        string.Join("\n", Model.Items.Select(i => $"  {i}")) + $"\n  failures {FailurePercent}% seed {FailureSeed}, crash after {CrashAfter}";
}

/// <summary>Random policies and catalogs, including ones the policy loader would reject (stages out of order), since
/// the planner must stay safe whatever it is given.</summary>
public static class LifecycleArbitraries
{
    private static Gen<int?> Days(int max) =>
        Gen.Frequency((1, Gen.Constant<int?>(null)), (3, Gen.Choose(1, max).Select(d => (int?)d)));

    private static readonly Gen<LifecycleRule[]> Rules = Gen.CollectToArray(
        [.. SessionClasses, "insights"],
        c => from core in Days(40) from main in Days(120) from archive in Days(200) from delete in Days(500)
             select new LifecycleRule { DataClass = c, CoreDays = core, MainDays = main, ArchiveAfterDays = archive, DeleteAfterDays = delete });

    private static readonly Gen<TierPolicy> Policies =
        from local in Gen.Choose(1, 4)
        from phases in Gen.Choose(1, 4)
        from archiveDays in Days(600)
        from hasArchive in Gen.Frequency((1, Gen.Constant(false)), (6, Gen.Constant(true)))
        from rules in Rules
        select WithoutArchiveTierUnless(hasArchive, PolicyWith(local, phases, archiveDays, [.. rules]));

    private static TierPolicy WithoutArchiveTierUnless(bool hasArchive, TierPolicy policy)
    {
        if (!hasArchive) policy.Tiers.RemoveAll(t => t.Level == TierLevel.Archive);
        return policy;
    }

    private static readonly Gen<bool> Coin = Gen.Elements(true, false);

    private static Gen<LifecycleItem> ItemGen(int phase, string? sessionId, string dataClass, DateTimeOffset writtenAt, bool active, bool archived) =>
        from local in Coin
        from backup in Coin
        from inArchive in Coin
        from bytes in Gen.Choose(1, 5000)
        select new LifecycleItem
        {
            Phase = phase, SessionId = sessionId, DataClass = dataClass, Bytes = bytes, WrittenAt = writtenAt,
            OnLocal = active || local, OnBackup = !active && backup, InArchive = !active && archived && inArchive,
        };

    private static Gen<(LifecycleSession Session, LifecycleItem[] Items)> SessionGen(int phase, int index, bool archived) =>
        from endedDaysAgo in Gen.Choose(0, 500)
        from active in Gen.Frequency((1, Gen.Constant(true)), (7, Gen.Constant(false)))
        from classes in Gen.SubListOf(SessionClasses)
        let session = active ? Active($"s{phase}_{index}", phase) : Completed($"s{phase}_{index}", phase, endedDaysAgo)
        from items in Gen.CollectToArray(classes, c => ItemGen(phase, session.SessionId, c, session.EndedAt ?? Now, active, archived))
        select (session, items);

    private static Gen<(LifecyclePhase Phase, LifecycleSession[] Sessions, LifecycleItem[] Items)> PhaseGen(int number) =>
        from ended in Gen.Frequency((1, Gen.Constant(false)), (4, Gen.Constant(true)))
        from archive in Gen.Elements(0, 0, 1, 2)
        from archivedDaysAgo in Gen.Choose(0, 600)
        from endedDaysAgo in Gen.Choose(0, 500)
        from sessionCount in Gen.Choose(0, 3)
        from sessions in Gen.CollectToArray(Enumerable.Range(0, sessionCount), k => SessionGen(number, k, archive == 1))
        from insights in Gen.Frequency((1, Gen.Constant(true)), (2, Gen.Constant(false)))
        from insightItem in ItemGen(number, null, "insights", Now.AddDays(-endedDaysAgo), false, false)
        select (
            new LifecyclePhase
            {
                Number = number, Name = $"p{number}", StartedAt = Now.AddDays(-endedDaysAgo - 30),
                EndedAt = ended ? Now.AddDays(-endedDaysAgo) : null,
                ArchivedAt = archive == 1 ? Now.AddDays(-archivedDaysAgo) : null,
                ArchiveExpired = archive == 2,
            },
            sessions.Select(s => s.Session).ToArray(),
            sessions.SelectMany(s => s.Items).Concat(insights ? [insightItem] : []).ToArray());

    private static readonly Gen<LifecycleModel> Models =
        from policy in Policies
        from phaseCount in Gen.Choose(1, 5)
        from phases in Gen.CollectToArray(Enumerable.Range(0, phaseCount), PhaseGen)
        select new LifecycleModel
        {
            Now = Now,
            Policy = policy,
            Phases = phases.Select(p => p.Phase).ToArray(),
            Sessions = phases.SelectMany(p => p.Sessions).ToArray(),
            Items = phases.SelectMany(p => p.Items).ToArray(),
        };

    public static Arbitrary<LifecycleScenario> Scenarios() => Arb.From(
        from model in Models
        from seed in Gen.Choose(0, int.MaxValue)
        from percent in Gen.Elements(0, 10, 30, 60, 100)
        from crash in Gen.Choose(0, 80)
        select new LifecycleScenario(model, seed, percent, crash));
}

/// <summary>The issue's guarantee: no plan and no crash ever deletes the last verified copy of anything, unless the
/// policy asks for that data to go; and plans are resumable fixed points that leave active sessions alone.</summary>
public sealed class LifecyclePropertyTests
{
    private const int Cases = 500;

    [Property(MaxTest = Cases, Arbitrary = [typeof(LifecycleArbitraries)])]
    public void No_prefix_of_a_plan_with_any_failures_loses_the_last_copy_of_data_the_policy_keeps(LifecycleScenario scenario)
    {
        var model = scenario.Model;
        var (after, _) = Execute(model, LifecyclePlanner.Plan(model), scenario.Fails, scenario.CrashAfter);

        foreach (var before in model.Items.Where(i => i.Exists))
        {
            var now = Find(after, before);
            if (now.Exists || ExpiredByClass(model, before)) continue;
            var onlyInExpiredArchive = before is { InArchive: true, OnLocal: false, OnBackup: false }
                && model.Policy.Retention.ArchiveDays is int days && Now - model.FindPhase(before.Phase)!.ArchivedAt >= TimeSpan.FromDays(days);
            Assert.True(onlyInExpiredArchive, $"{model.ItemName(before)} lost its last copy");
        }
    }

    [Property(MaxTest = Cases, Arbitrary = [typeof(LifecycleArbitraries)])]
    public void Every_delete_in_a_plan_passes_the_safety_check_when_the_steps_before_it_succeed(LifecycleScenario scenario)
    {
        var model = scenario.Model;
        foreach (var move in LifecyclePlanner.Plan(model))
        {
            if (move.Action == TierMoveAction.Delete) Assert.Null(LifecycleSafety.CheckDelete(move, model));
            model = LifecycleSimulator.Apply(model, move).Model;
        }
    }

    [Property(MaxTest = Cases, Arbitrary = [typeof(LifecycleArbitraries)])]
    public void Planning_after_full_execution_yields_no_steps(LifecycleScenario scenario)
    {
        var (after, _) = Execute(scenario.Model, LifecyclePlanner.Plan(scenario.Model));

        Assert.Empty(LifecyclePlanner.Plan(after));
    }

    [Property(MaxTest = Cases, Arbitrary = [typeof(LifecycleArbitraries)])]
    public void A_rerun_after_a_crash_does_only_what_is_left_and_then_reaches_the_fixed_point(LifecycleScenario scenario)
    {
        var (partial, _) = Execute(scenario.Model, LifecyclePlanner.Plan(scenario.Model), scenario.Fails, scenario.CrashAfter);

        var model = partial;
        foreach (var move in LifecyclePlanner.Plan(partial))
        {
            var next = LifecycleSimulator.Apply(model, move).Model;
            Assert.False(SameState(model, next), $"{move.Action} {move.Subject} ({move.Rule}) had nothing left to do");
            model = next;
        }
        Assert.Empty(LifecyclePlanner.Plan(model));
    }

    [Property(MaxTest = Cases, Arbitrary = [typeof(LifecycleArbitraries)])]
    public void Active_sessions_and_their_phases_are_never_touched(LifecycleScenario scenario)
    {
        var model = scenario.Model;
        var active = model.Sessions.Where(s => s.State == SessionState.Active).ToArray();
        var plan = LifecyclePlanner.Plan(model);

        Assert.DoesNotContain(plan, m => active.Any(s => s.SessionId == m.SessionId || (m.SessionId is null && s.Phase == m.Phase)));
        var (after, _) = Execute(model, plan, scenario.Fails, scenario.CrashAfter);
        Assert.All(model.Items.Where(model.IsActive), i => Assert.Equal(i, Find(after, i)));
    }

    private static LifecycleItem Find(LifecycleModel model, LifecycleItem item) =>
        model.Items.Single(i => i.Phase == item.Phase && i.SessionId == item.SessionId && i.DataClass == item.DataClass);

    private static bool ExpiredByClass(LifecycleModel model, LifecycleItem item) =>
        model.Policy.Lifecycle.Single(r => r.DataClass == item.DataClass).DeleteAfterDays is int days && Now - item.WrittenAt >= TimeSpan.FromDays(days);

    private static bool SameState(LifecycleModel a, LifecycleModel b) => a.Items.SequenceEqual(b.Items) && a.Phases.SequenceEqual(b.Phases);
}
