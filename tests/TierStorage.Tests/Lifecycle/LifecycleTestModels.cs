using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Policy;

namespace TierStorage.Tests.Lifecycle;

/// <summary>Hand-built models and a plan runner shared by the example and property tests.</summary>
internal static class LifecycleTestModels
{
    public static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly string[] SessionClasses = ["activity_logs", "snapshots", "handoffs"];

    public static TierPolicy PolicyWith(int localSessions = 2, int backupPhases = 2, int? archiveDays = null, List<LifecycleRule>? rules = null) => new()
    {
        Tiers =
        [
            new() { Name = "local", Level = TierLevel.Local, Kind = TierKind.Folder },
            new() { Name = "drive", Level = TierLevel.Backup, Kind = TierKind.GoogleDrive },
            new() { Name = "s3", Level = TierLevel.Archive, Kind = TierKind.S3 },
        ],
        Retention = new() { LocalSessions = localSessions, BackupPhases = backupPhases, ArchiveDays = archiveDays },
        Lifecycle = rules ?? PolicyDefaults.LifecycleRules(),
    };

    public static LifecycleSession Completed(string id, int phase, double endedDaysAgo) => new()
    {
        SessionId = id,
        Phase = phase,
        State = SessionState.Completed,
        StartedAt = Now.AddDays(-endedDaysAgo - 0.5),
        EndedAt = Now.AddDays(-endedDaysAgo),
    };

    public static LifecycleSession Active(string id, int phase) => new()
    {
        SessionId = id, Phase = phase, State = SessionState.Active, StartedAt = Now.AddHours(-1),
    };

    /// <summary>The three session classes of a session, with the same copies each.</summary>
    public static IEnumerable<LifecycleItem> ItemsOf(LifecycleSession session, bool local = true, bool backup = true, bool archive = false) =>
        SessionClasses.Select(c => new LifecycleItem
        {
            Phase = session.Phase,
            SessionId = session.SessionId,
            DataClass = c,
            Bytes = 1000,
            WrittenAt = session.EndedAt ?? Now,
            OnLocal = local,
            OnBackup = backup,
            InArchive = archive,
        });

    /// <summary>The seed scenario: four phases, all sessions still local and backed up except the one completed
    /// yesterday (not yet backed up) and the active one.</summary>
    public static LifecycleModel Seed(TierPolicy? policy = null)
    {
        var sessions = new[]
        {
            Completed("s0a", 0, 26), Completed("s0b", 0, 25), Completed("s1a", 1, 20),
            Completed("s2a", 2, 10), Completed("s3a", 3, 1), Active("s3b", 3),
        };
        return new LifecycleModel
        {
            Now = Now,
            Policy = policy ?? PolicyWith(),
            Phases =
            [
                new() { Number = 0, Name = "setup", StartedAt = Now.AddDays(-40), EndedAt = Now.AddDays(-25) },
                new() { Number = 1, Name = "core", StartedAt = Now.AddDays(-25), EndedAt = Now.AddDays(-20) },
                new() { Number = 2, Name = "build", StartedAt = Now.AddDays(-20), EndedAt = Now.AddDays(-10) },
                new() { Number = 3, Name = "polish", StartedAt = Now.AddDays(-10) },
            ],
            Sessions = sessions,
            Items = sessions.SelectMany(s => ItemsOf(s, backup: s.SessionId is not ("s3a" or "s3b"))).ToArray(),
        };
    }

    public static LifecycleItem Item(LifecycleModel model, string sessionId, string dataClass) =>
        model.Items.Single(i => i.SessionId == sessionId && i.DataClass == dataClass);

    public static LifecycleModel Replace(LifecycleModel model, Func<LifecycleItem, bool> which, Func<LifecycleItem, LifecycleItem> change) =>
        model with { Items = model.Items.Select(i => which(i) ? change(i) : i).ToArray() };

    /// <summary>Runs the steps in order with the simulator; <paramref name="fails"/> picks steps that fail (change
    /// nothing), and the run stops (a crash) after <paramref name="stopAfter"/> steps.</summary>
    public static (LifecycleModel Model, List<string> Refusals) Execute(LifecycleModel model, IReadOnlyList<TierMove> plan,
        Func<int, bool>? fails = null, int? stopAfter = null)
    {
        var refusals = new List<string>();
        for (var step = 0; step < Math.Min(plan.Count, stopAfter ?? int.MaxValue); step++)
        {
            if (fails?.Invoke(step) == true) continue;
            var (next, refused) = LifecycleSimulator.Apply(model, plan[step]);
            if (refused is not null) refusals.Add(refused);
            model = next;
        }
        return (model, refusals);
    }
}
