using System.Globalization;
using TierStorage.Contracts;
using static TierStorage.Engine.Lifecycle.LifecycleRules;

namespace TierStorage.Engine.Lifecycle;

/// <summary>Turns the policy and a <see cref="LifecycleModel"/> into the ordered steps of Move-DataTier. Pure: no I/O,
/// no clock; the executor runs the steps and asks <see cref="LifecycleSafety.CheckDelete"/> before each delete.</summary>
/// <remarks>
/// <para>Active sessions, and phases that contain one, are never touched. Every rule below looks at the state the
/// earlier steps of the same plan will leave (assuming they succeed), so a Delete can rely on a Copy or Archive
/// planned before it; if that step fails at run time, the safety check refuses the Delete.</para>
/// <para>The steps come in this order:</para>
/// <list type="number">
/// <item><b>Expiry</b> (<c>lifecycle[c].delete_after_days</c>): an item older than that is deleted from the local
/// and backup tiers, even when that is its last copy: the policy asks for the data to go. It first, so nothing is
/// copied or archived only to be deleted. A copy inside a phase archive stays: the archive is one file, so that copy
/// expires with the archive only.</item>
/// <item><b>Copy</b> local → backup, one step per completed session (and one per phase-level item of a finished
/// phase): every local item with no verified copy on another tier, whatever rule later wants it gone. Not for items
/// whose phase archive has already expired: their phase has left the backup tier for good.</item>
/// <item><b>Archive</b> backup → archive, one step per phase: the phase is older than the newest
/// <c>retention.backup_phases</c> phases (by number), or it has ended and all its sessions ended longer ago than
/// the smallest <c>archive_after_days</c> of activity_logs, snapshots and handoffs. Only when every session item
/// still held somewhere has a verified backup copy by then, never for a phase with an active session, never twice,
/// and never again once its archive expired. Phase-level files (insights) stay on the backup tier.</item>
/// <item><b>Delete local</b>: sessions beyond the newest <c>retention.local_sessions</c> (by start time, active ones
/// counted and kept), and items older than <c>lifecycle[c].core_days</c>; only with a verified copy on the backup
/// tier or in an archive that is not expiring in this plan.</item>
/// <item><b>Delete backup</b>: the session items of a phase that qualifies for archiving, once they are in its
/// archive, and items older than <c>lifecycle[c].main_days</c> that are in an archive; never relying on an archive
/// that expires in this plan.</item>
/// <item><b>Delete archive</b> (<c>retention.archive_days</c>, never when null): the whole phase archive once it
/// is that old. Deep Archive's 180-day minimum is the executor's concern; the Message gives the archive's age.</item>
/// </list>
/// <para>Executing a plan and planning again yields no steps (a fixed point); after a partial execution the new
/// plan holds only what is left to do.</para>
/// </remarks>
public static class LifecyclePlanner
{
    /// <summary>Rule of a Copy that backs up a completed session: a backup comes before anything leaves the workspace.</summary>
    public const string SessionBackupRule = "completed session not yet on backup";

    /// <summary>Rule of a Copy that backs up a finished phase's own files (insights).</summary>
    public const string PhaseBackupRule = "finished phase not yet on backup";

    /// <summary>Classes whose archive_after_days can send a whole phase to the archive.</summary>
    private static readonly string[] SessionClasses = ["activity_logs", "snapshots", "handoffs"];

    public static IReadOnlyList<TierMove> Plan(LifecycleModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Planning(model).Run();
    }

    /// <summary>One planning pass: the projected state after each planned step lives here.</summary>
    private sealed class Planning(LifecycleModel model)
    {
        private readonly string? _local = TierName(model.Policy, TierLevel.Local);
        private readonly string? _backup = TierName(model.Policy, TierLevel.Backup);
        private readonly string? _archive = TierName(model.Policy, TierLevel.Archive);
        private readonly List<TierMove> _steps = [];
        private readonly LifecycleItem[] _items = model.Items.ToArray();
        private readonly Dictionary<int, LifecyclePhase> _phases = model.Phases.ToDictionary(p => p.Number);

        public IReadOnlyList<TierMove> Run()
        {
            var order = ItemOrder();
            var expiringArchives = model.Phases
                .Where(p => !model.HasActiveSession(p.Number) && IsArchiveExpired(model, p))
                .Select(p => p.Number).ToHashSet();

            foreach (var i in order) PlanExpiry(i);
            PlanCopies(order);
            foreach (var phase in model.Phases.OrderBy(p => p.Number)) PlanArchive(phase.Number);
            foreach (var i in order) PlanLocalDelete(i, expiringArchives);
            foreach (var i in order) PlanBackupDelete(i, expiringArchives);
            foreach (var number in expiringArchives.Order()) PlanArchiveDelete(_phases[number]);
            return _steps;
        }

        /// <summary>Indexes of the items the planner may touch, oldest first (phase, session start, class).</summary>
        private int[] ItemOrder() => Enumerable.Range(0, _items.Length)
            .Where(i => !model.IsActive(_items[i]))
            .OrderBy(i => _items[i].Phase)
            .ThenBy(i => _items[i].SessionId is null ? 1 : 0)
            .ThenBy(i => _items[i].SessionId is string id ? model.FindSession(id)?.StartedAt : null)
            .ThenBy(i => _items[i].SessionId, StringComparer.Ordinal)
            .ThenBy(i => _items[i].DataClass, StringComparer.OrdinalIgnoreCase)
            .ToArray();

        private void PlanExpiry(int i)
        {
            var item = _items[i];
            if (!IsExpired(model, item)) return;
            var rule = $"lifecycle[{item.DataClass}].delete_after_days = {RuleFor(model.Policy, item.DataClass)!.DeleteAfterDays}";
            var message = $"written {Days(item.WrittenAt)} days ago";
            if (item.OnLocal && _local is not null) AddDelete(i, TierLevel.Local, _local, rule, message);
            if (_items[i].OnBackup && _backup is not null) AddDelete(i, TierLevel.Backup, _backup, rule, message);
        }

        private void PlanCopies(int[] order)
        {
            if (_local is null || _backup is null) return;
            foreach (var group in order.Where(i => NeedsBackup(_items[i])).GroupBy(i => (_items[i].Phase, _items[i].SessionId)))
            {
                var indexes = group.ToArray();
                var first = _items[indexes[0]];
                if (first.SessionId is null && model.FindPhase(first.Phase)?.EndedAt is null) continue;
                foreach (var i in indexes) _items[i] = _items[i] with { OnBackup = true };
                var wholeSession = first.SessionId is not null;
                _steps.Add(new TierMove
                {
                    Subject = wholeSession ? first.SessionId! : model.ItemName(first),
                    SessionId = first.SessionId,
                    Phase = first.Phase,
                    DataClass = wholeSession ? null : first.DataClass,
                    Action = TierMoveAction.Copy,
                    From = _local,
                    To = _backup,
                    Rule = wholeSession ? SessionBackupRule : PhaseBackupRule,
                    Bytes = indexes.Sum(i => _items[i].Bytes),
                    Message = wholeSession
                        ? "no verified copy of " + string.Join(", ", indexes.Select(i => _items[i].DataClass)) + " on another tier"
                        : "no verified copy on another tier",
                });
            }
        }

        /// <summary>Local data that only the workspace holds. Phase-level items wait for their phase to end (see
        /// <see cref="PlanCopies"/>).</summary>
        private bool NeedsBackup(LifecycleItem item) =>
            item.OnLocal && !item.OnBackup && !item.InArchive && !IsExpired(model, item)
            && _phases.GetValueOrDefault(item.Phase)?.ArchiveExpired != true;

        private void PlanArchive(int number)
        {
            var phase = _phases[number];
            if (_archive is null || _backup is null || phase.ArchivedAt is not null || phase.ArchiveExpired) return;
            var rule = ArchiveRule(number);
            if (rule is null) return;
            var held = Enumerable.Range(0, _items.Length)
                .Where(i => _items[i].Phase == number && _items[i].SessionId is not null && (_items[i].OnLocal || _items[i].OnBackup))
                .ToArray();
            if (held.Length == 0 || held.Any(i => !_items[i].OnBackup)) return;

            foreach (var i in held) _items[i] = _items[i] with { InArchive = true };
            _phases[number] = phase with { ArchivedAt = model.Now };
            var sessions = held.Select(i => _items[i].SessionId).Distinct().Count();
            _steps.Add(new TierMove
            {
                Subject = model.PhaseName(number),
                Phase = number,
                Action = TierMoveAction.Archive,
                From = _backup,
                To = _archive,
                Rule = rule,
                Bytes = held.Sum(i => _items[i].Bytes),
                Message = $"{sessions} session(s), {held.Length} item(s)",
            });
        }

        /// <summary>The rule that sends the phase to the archive, or null when it stays on the backup tier.</summary>
        private string? ArchiveRule(int number)
        {
            if (model.HasActiveSession(number)) return null;
            var keep = model.Policy.Retention.BackupPhases;
            if (model.Phases.Count(p => p.Number > number) >= keep) return $"retention.backup_phases = {keep}";

            var phase = _phases[number];
            var sessions = model.Sessions.Where(s => s.Phase == number).ToArray();
            var youngest = SessionClasses
                .Select(c => (Class: c, Days: RuleFor(model.Policy, c)?.ArchiveAfterDays))
                .Where(r => r.Days is not null)
                .OrderBy(r => r.Days)
                .FirstOrDefault();
            if (youngest.Days is not int days || phase.EndedAt is null || sessions.Length == 0) return null;
            return sessions.All(s => s.EndedAt is DateTimeOffset ended && AgeDays(model, ended) >= days)
                ? $"lifecycle[{youngest.Class}].archive_after_days = {days}"
                : null;
        }

        private void PlanLocalDelete(int i, HashSet<int> expiringArchives)
        {
            var item = _items[i];
            if (_local is null || !item.OnLocal || !HasLastingCopy(item, TierLevel.Local, expiringArchives)) return;
            var rule = BeyondLocalSessions(item) ? $"retention.local_sessions = {model.Policy.Retention.LocalSessions}"
                : RuleFor(model.Policy, item.DataClass)?.CoreDays is int days && AgeDays(model, item.WrittenAt) >= days
                    ? $"lifecycle[{item.DataClass}].core_days = {days}"
                    : null;
            if (rule is not null) AddDelete(i, TierLevel.Local, _local, rule, $"written {Days(item.WrittenAt)} days ago; {CopyNote(i, TierLevel.Local)}");
        }

        private bool BeyondLocalSessions(LifecycleItem item) =>
            item.SessionId is string id && model.Sessions
                .OrderByDescending(s => s.StartedAt).ThenByDescending(s => s.SessionId, StringComparer.Ordinal)
                .Skip(model.Policy.Retention.LocalSessions)
                .Any(s => string.Equals(s.SessionId, id, StringComparison.Ordinal));

        private void PlanBackupDelete(int i, HashSet<int> expiringArchives)
        {
            var item = _items[i];
            if (_backup is null || !item.OnBackup || !item.InArchive || expiringArchives.Contains(item.Phase)) return;
            var rule = item.SessionId is not null ? ArchiveRule(item.Phase) : null;
            rule ??= RuleFor(model.Policy, item.DataClass)?.MainDays is int days && AgeDays(model, item.WrittenAt) >= days
                ? $"lifecycle[{item.DataClass}].main_days = {days}"
                : null;
            if (rule is not null) AddDelete(i, TierLevel.Backup, _backup, rule, $"in the verified archive {model.PhaseName(item.Phase)}");
        }

        private void PlanArchiveDelete(LifecyclePhase phase)
        {
            if (_archive is null) return;
            var archivedAt = phase.ArchivedAt!.Value;
            var inArchive = Enumerable.Range(0, _items.Length).Where(i => _items[i].Phase == phase.Number && _items[i].InArchive).ToArray();
            foreach (var i in inArchive) _items[i] = _items[i] with { InArchive = false };
            _phases[phase.Number] = phase with { ArchivedAt = null, ArchiveExpired = true };
            _steps.Add(new TierMove
            {
                Subject = model.PhaseName(phase.Number),
                Phase = phase.Number,
                Action = TierMoveAction.Delete,
                From = _archive,
                Rule = $"retention.archive_days = {model.Policy.Retention.ArchiveDays}",
                Bytes = inArchive.Sum(i => _items[i].Bytes),
                Message = $"archive is {Days(archivedAt)} days old (written {archivedAt:yyyy-MM-dd})",
            });
        }

        /// <summary>A verified copy on another tier that this plan does not itself take away.</summary>
        private bool HasLastingCopy(LifecycleItem item, TierLevel from, HashSet<int> expiringArchives) =>
            (from != TierLevel.Backup && item.OnBackup)
            || (from != TierLevel.Archive && item.InArchive && !expiringArchives.Contains(item.Phase))
            || (from != TierLevel.Local && item.OnLocal);

        private string CopyNote(int i, TierLevel from) =>
            _items[i].OnBackup && from != TierLevel.Backup ? $"verified copy on {_backup}" : $"in the verified archive {model.PhaseName(_items[i].Phase)}";

        private void AddDelete(int i, TierLevel level, string tier, string rule, string message)
        {
            var item = _items[i];
            _items[i] = WithCopy(item, level, false);
            _steps.Add(new TierMove
            {
                Subject = model.ItemName(item),
                SessionId = item.SessionId,
                Phase = item.Phase,
                DataClass = item.DataClass,
                Action = TierMoveAction.Delete,
                From = tier,
                Rule = rule,
                Bytes = item.Bytes,
                Message = message,
            });
        }

        private string Days(DateTimeOffset since) => Math.Floor(AgeDays(model, since)).ToString(CultureInfo.InvariantCulture);
    }
}
