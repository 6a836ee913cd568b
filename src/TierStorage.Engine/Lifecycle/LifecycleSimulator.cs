using TierStorage.Contracts;
using static TierStorage.Engine.Lifecycle.LifecycleRules;

namespace TierStorage.Engine.Lifecycle;

/// <summary>What a successful step does to the model: the tests execute plans with it, and the executor can use it
/// to keep its model current between steps so that each <see cref="LifecycleSafety.CheckDelete"/> sees the state as
/// it is. A step whose precondition no longer holds changes nothing.</summary>
public static class LifecycleSimulator
{
    /// <summary>The model after <paramref name="move"/> ran, and why it changed nothing when a Delete was refused.</summary>
    public static (LifecycleModel Model, string? Refused) Apply(LifecycleModel model, TierMove move)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(move);
        return move.Action switch
        {
            TierMoveAction.Copy => (Copy(model, move), null),
            TierMoveAction.Archive => (Archive(model, move), null),
            _ => LifecycleSafety.CheckDelete(move, model) is string reason ? (model, reason) : (Delete(model, move), null),
        };
    }

    /// <summary>Copies what the source still holds and the destination lacks. A whole-session Copy leaves out items
    /// already safe in an archive, as the planner does.</summary>
    private static LifecycleModel Copy(LifecycleModel model, TierMove move)
    {
        if (LevelOf(model.Policy, move.From) is not TierLevel from || LevelOf(model.Policy, move.To) is not TierLevel to) return model;
        var wholeSession = move.DataClass is null;
        return model with
        {
            Items = model.Items.Select(item =>
                item.Matches(move.SessionId, move.Phase, wholeSession ? item.DataClass : move.DataClass)
                && HasCopy(item, from) && !HasCopy(item, to) && !(wholeSession && item.InArchive)
                    ? WithCopy(item, to, true)
                    : item).ToArray(),
        };
    }

    /// <summary>Packs the phase's session items from the backup tier; fails (no change) when one of them is held
    /// somewhere but not on the backup tier, since the archive would then miss it.</summary>
    private static LifecycleModel Archive(LifecycleModel model, TierMove move)
    {
        var phase = move.Phase is int number ? model.FindPhase(number) : null;
        if (phase is null || phase.ArchivedAt is not null) return model;
        var held = model.Items.Where(i => i.Phase == phase.Number && i.SessionId is not null && (i.OnLocal || i.OnBackup)).ToArray();
        if (held.Length == 0 || held.Any(i => !i.OnBackup)) return model;
        return model with
        {
            Phases = model.Phases.Select(p => p == phase ? p with { ArchivedAt = model.Now } : p).ToArray(),
            Items = model.Items.Select(i => held.Contains(i) ? i with { InArchive = true } : i).ToArray(),
        };
    }

    private static LifecycleModel Delete(LifecycleModel model, TierMove move)
    {
        var level = LevelOf(model.Policy, move.From)!.Value;
        if (move.SessionId is null && move.DataClass is null)
        {
            return model with
            {
                Phases = model.Phases.Select(p => p.Number == move.Phase ? p with { ArchivedAt = null, ArchiveExpired = true } : p).ToArray(),
                Items = model.Items.Select(i => i.Phase == move.Phase ? i with { InArchive = false } : i).ToArray(),
            };
        }
        return model with
        {
            Items = model.Items.Select(i => i.Matches(move.SessionId, move.Phase, move.DataClass) ? WithCopy(i, level, false) : i).ToArray(),
        };
    }
}
