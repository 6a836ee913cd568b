using TierStorage.Contracts;
using static TierStorage.Engine.Lifecycle.LifecycleRules;

namespace TierStorage.Engine.Lifecycle;

/// <summary>The executor's last check before each Delete, against the model as it is at that moment (after the
/// steps already run, successful or not). The plan may have counted on a Copy or Archive that failed; this is where
/// that shows and the Delete is skipped, leaving both copies (invariants 1 and 6).</summary>
public static class LifecycleSafety
{
    /// <summary>Null when the Delete may run; otherwise why not. A Delete runs only when another tier holds a verified
    /// copy, or when the policy wants the data gone: the item's delete_after_days has passed, or, for a whole phase
    /// archive, retention.archive_days has. Data of an active session is never deleted.</summary>
    public static string? CheckDelete(TierMove move, LifecycleModel current)
    {
        ArgumentNullException.ThrowIfNull(move);
        ArgumentNullException.ThrowIfNull(current);
        if (move.Action != TierMoveAction.Delete) throw new ArgumentException($"{move.Subject}: {move.Action} is not a Delete.", nameof(move));
        if (LevelOf(current.Policy, move.From) is not TierLevel level) return $"{move.Subject}: tier '{move.From}' is not in the policy";
        return move.SessionId is null && move.DataClass is null ? CheckArchiveDelete(move, level, current) : CheckItemDelete(move, level, current);
    }

    private static string? CheckArchiveDelete(TierMove move, TierLevel level, LifecycleModel current)
    {
        if (level != TierLevel.Archive || move.Phase is not int number) return $"{move.Subject}: only a phase archive is deleted whole";
        var phase = current.FindPhase(number);
        var name = current.PhaseName(number);
        if (phase?.ArchivedAt is null) return $"{name} has no verified archive on {move.From}";
        if (current.HasActiveSession(number)) return $"{name} has an active session";
        if (IsArchiveExpired(current, phase)) return null;
        var onlyHere = current.Items.Where(i => i.Phase == number && i.InArchive && !i.OnLocal && !i.OnBackup).ToArray();
        return onlyHere.Length == 0 ? null
            : $"{name}: the archive holds the only verified copy of {current.ItemName(onlyHere[0])}"
              + (onlyHere.Length > 1 ? $" and {onlyHere.Length - 1} more" : "") + ", and retention.archive_days has not passed";
    }

    private static string? CheckItemDelete(TierMove move, TierLevel level, LifecycleModel current)
    {
        var item = current.Items.FirstOrDefault(i => i.Matches(move.SessionId, move.Phase, move.DataClass));
        if (item is null) return $"{move.Subject} is not in the catalog";
        var name = current.ItemName(item);
        if (current.IsActive(item)) return $"{name} belongs to an active session";
        if (!HasCopy(item, level)) return $"{name} has no copy on {move.From}";
        if (IsExpired(current, item) || HasCopyElsewhere(item, level)) return null;
        return $"{name}: {move.From} holds its only verified copy; kept until another tier has one";
    }
}
