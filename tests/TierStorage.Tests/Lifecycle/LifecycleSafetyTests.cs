using TierStorage.Contracts;
using TierStorage.Engine.Lifecycle;
using Xunit;
using static TierStorage.Tests.Lifecycle.LifecycleTestModels;

namespace TierStorage.Tests.Lifecycle;

/// <summary>The executor's last check before a Delete, against the model as it is when the step runs.</summary>
public sealed class LifecycleSafetyTests
{
    private static TierMove DeleteOf(string sessionId, int phase, string dataClass, string from, string rule = "retention.local_sessions = 2") => new()
    {
        Subject = $"{sessionId}/{dataClass}", SessionId = sessionId, Phase = phase, DataClass = dataClass,
        Action = TierMoveAction.Delete, From = from, Rule = rule,
    };

    [Fact]
    public void Local_delete_is_refused_when_the_backup_copy_is_not_verified()
    {
        var model = Seed();

        var reason = LifecycleSafety.CheckDelete(DeleteOf("s3a", 3, "snapshots", "local"), model);

        Assert.Equal("s3a/snapshots: local holds its only verified copy; kept until another tier has one", reason);
        Assert.Null(LifecycleSafety.CheckDelete(DeleteOf("s2a", 2, "snapshots", "local"), model));
    }

    [Fact]
    public void A_rule_name_alone_does_not_allow_deleting_the_last_copy()
    {
        var move = DeleteOf("s3a", 3, "snapshots", "local", "lifecycle[snapshots].delete_after_days = 365");

        Assert.NotNull(LifecycleSafety.CheckDelete(move, Seed()));
    }

    [Fact]
    public void Active_session_data_is_never_deleted()
    {
        var model = Replace(Seed(), i => i.SessionId == "s3b", i => i with { OnBackup = true });

        Assert.Equal("s3b/handoffs belongs to an active session", LifecycleSafety.CheckDelete(DeleteOf("s3b", 3, "handoffs", "local"), model));
    }

    [Fact]
    public void Archive_delete_needs_expiry_or_another_copy_of_everything_in_it()
    {
        var model = Replace(Seed(PolicyWith(archiveDays: 400)), i => i.SessionId == "s0a", i => i with { InArchive = true, OnBackup = false, OnLocal = false });
        model = model with { Phases = model.Phases.Select(p => p.Number == 0 ? p with { ArchivedAt = Now.AddDays(-100) } : p).ToArray() };
        var move = new TierMove { Subject = "Phase_0_setup", Phase = 0, Action = TierMoveAction.Delete, From = "s3", Rule = "retention.archive_days = 400" };

        Assert.Equal("Phase_0_setup: the archive holds the only verified copy of s0a/activity_logs and 2 more, and retention.archive_days has not passed",
            LifecycleSafety.CheckDelete(move, model));
        var expired = model with { Phases = model.Phases.Select(p => p.Number == 0 ? p with { ArchivedAt = Now.AddDays(-400) } : p).ToArray() };
        Assert.Null(LifecycleSafety.CheckDelete(move, expired));
    }

    [Fact]
    public void Deleting_a_copy_that_is_not_there_is_refused()
    {
        Assert.Equal("s3a/handoffs has no copy on drive", LifecycleSafety.CheckDelete(DeleteOf("s3a", 3, "handoffs", "drive"), Seed()));
    }
}
