using TierStorage.Contracts;
using TierStorage.Engine.Backup;

namespace TierStorage.Engine.Lifecycle;

/// <summary>Everything <see cref="LifecyclePlanner"/> decides from: a snapshot of the catalog and the disks at one
/// instant. The planner does no I/O, so the same snapshot always gives the same plan.</summary>
public sealed record LifecycleModel
{
    /// <summary>The instant ages are measured from.</summary>
    public DateTimeOffset Now { get; init; }

    /// <summary>The effective policy; tier names are taken from its level 1, 2 and 3 tiers.</summary>
    public TierPolicy Policy { get; init; } = new();

    public IReadOnlyList<LifecyclePhase> Phases { get; init; } = [];

    public IReadOnlyList<LifecycleSession> Sessions { get; init; } = [];

    /// <summary>One entry per session per data class (activity_logs, snapshots, handoffs), plus one per phase for
    /// phase-level files (insights). Analytics stays local by design and is left out.</summary>
    public IReadOnlyList<LifecycleItem> Items { get; init; } = [];

    public LifecyclePhase? FindPhase(int number) => Phases.FirstOrDefault(p => p.Number == number);

    public LifecycleSession? FindSession(string sessionId) =>
        Sessions.FirstOrDefault(s => string.Equals(s.SessionId, sessionId, StringComparison.Ordinal));

    /// <summary>True when a session of the phase is still being written: such a phase is never archived.</summary>
    public bool HasActiveSession(int phase) =>
        Sessions.Any(s => s.Phase == phase && s.State == SessionState.Active);

    /// <summary>True when the item belongs to an active session or, for a phase-level item, to a phase with one.</summary>
    public bool IsActive(LifecycleItem item) =>
        item.SessionId is null ? HasActiveSession(item.Phase) : FindSession(item.SessionId)?.State == SessionState.Active;

    /// <summary>Name used in <see cref="TierMove.Subject"/> for a phase and its archive: Phase_2_build.</summary>
    public string PhaseName(int phase) => BackupLayout.PhaseFolder(phase, FindPhase(phase)?.Name);

    /// <summary>Name used in <see cref="TierMove.Subject"/> for one data class: "session_x/snapshots" or
    /// "Phase_2_build/insights".</summary>
    public string ItemName(LifecycleItem item) => $"{item.SessionId ?? PhaseName(item.Phase)}/{item.DataClass}";
}

/// <summary>A phase as the catalog records it.</summary>
public sealed record LifecyclePhase
{
    public int Number { get; init; }
    public string? Name { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>Null while the phase is current.</summary>
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>When the phase's archive on level 3 was written and verified; null when it has none.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }
    /// <summary>The archive existed and was deleted by retention.archive_days. The phase is then never archived
    /// again: its data had the life the policy gave it.</summary>
    public bool ArchiveExpired { get; init; }
}

/// <summary>A session as the catalog records it.</summary>
public sealed record LifecycleSession
{
    public string SessionId { get; init; } = "";
    public int Phase { get; init; }
    public SessionState State { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>Null while the session is active.</summary>
    public DateTimeOffset? EndedAt { get; init; }
}

/// <summary>One data class of one session (or of one phase, when <see cref="SessionId"/> is null) and the tiers that
/// hold a verified copy of it. A copy that is present but not verified counts as no copy.</summary>
public sealed record LifecycleItem
{
    public int Phase { get; init; }
    /// <summary>Null for phase-level files (insights).</summary>
    public string? SessionId { get; init; }
    /// <summary>activity_logs, snapshots, handoffs or insights.</summary>
    public string DataClass { get; init; } = "";
    public long Bytes { get; init; }
    /// <summary>When the data was written; ages for the lifecycle rules count from here (the session's end time, or
    /// the phase's for phase-level files).</summary>
    public DateTimeOffset WrittenAt { get; init; }
    /// <summary>Present in the local workspace (level 1).</summary>
    public bool OnLocal { get; init; }
    /// <summary>Verified on the backup tier (level 2): size and checksums match the session manifest.</summary>
    public bool OnBackup { get; init; }
    /// <summary>Inside the phase's verified archive on level 3 (listed in its manifest).</summary>
    public bool InArchive { get; init; }

    /// <summary>True when some tier holds a copy.</summary>
    public bool Exists => OnLocal || OnBackup || InArchive;

    public bool Matches(string? sessionId, int? phase, string? dataClass) =>
        string.Equals(SessionId, sessionId, StringComparison.Ordinal)
        && (sessionId is not null || Phase == phase)
        && string.Equals(DataClass, dataClass, StringComparison.OrdinalIgnoreCase);
}
