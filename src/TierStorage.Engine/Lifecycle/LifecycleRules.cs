using TierStorage.Contracts;

namespace TierStorage.Engine.Lifecycle;

/// <summary>Policy look-ups shared by the planner, the safety check and the simulator, so that the three agree on
/// what "expired" and "a copy on that tier" mean.</summary>
internal static class LifecycleRules
{
    public static LifecycleRule? RuleFor(TierPolicy policy, string dataClass) =>
        policy.Lifecycle.FirstOrDefault(r => string.Equals(r.DataClass, dataClass, StringComparison.OrdinalIgnoreCase));

    public static double AgeDays(LifecycleModel model, DateTimeOffset writtenAt) => (model.Now - writtenAt).TotalDays;

    /// <summary>The class's delete_after_days has passed: the policy wants the data gone from every tier.</summary>
    public static bool IsExpired(LifecycleModel model, LifecycleItem item) =>
        RuleFor(model.Policy, item.DataClass)?.DeleteAfterDays is int days && AgeDays(model, item.WrittenAt) >= days;

    /// <summary>The phase's archive is older than retention.archive_days.</summary>
    public static bool IsArchiveExpired(LifecycleModel model, LifecyclePhase phase) =>
        phase.ArchivedAt is DateTimeOffset archivedAt && model.Policy.Retention.ArchiveDays is int days
        && AgeDays(model, archivedAt) >= days;

    public static string? TierName(TierPolicy policy, TierLevel level) => policy.GetTier(level)?.Name;

    public static TierLevel? LevelOf(TierPolicy policy, string? tierName) =>
        tierName is null ? null : policy.GetTier(tierName)?.Level;

    public static bool HasCopy(LifecycleItem item, TierLevel level) => level switch
    {
        TierLevel.Local => item.OnLocal,
        TierLevel.Backup => item.OnBackup,
        TierLevel.Archive => item.InArchive,
        _ => false,
    };

    public static LifecycleItem WithCopy(LifecycleItem item, TierLevel level, bool present) => level switch
    {
        TierLevel.Local => item with { OnLocal = present },
        TierLevel.Backup => item with { OnBackup = present },
        TierLevel.Archive => item with { InArchive = present },
        _ => item,
    };

    public static bool HasCopyElsewhere(LifecycleItem item, TierLevel level) =>
        Enum.GetValues<TierLevel>().Any(other => other != level && HasCopy(item, other));
}
