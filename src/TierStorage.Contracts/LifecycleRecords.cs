namespace TierStorage.Contracts;

/// <summary>What one lifecycle step does.</summary>
public enum TierMoveAction
{
    /// <summary>Copy to another tier and verify it there (a session backed up to level 2).</summary>
    Copy,
    /// <summary>Pack a phase into one archive on level 3 and verify it.</summary>
    Archive,
    /// <summary>Remove a copy from a tier (only once another verified copy exists, unless the policy's delete_after_days asks for the data to go).</summary>
    Delete,
}

public enum TierMoveState
{
    Planned,
    Done,
    /// <summary>Not run: -WhatIf, declined at the confirmation prompt, or its safety check no longer held.</summary>
    Skipped,
    Failed,
}

/// <summary>One planned or executed lifecycle step (Move-DataTier). The plan is ordered: copies and archives come before
/// the deletes that rely on them.</summary>
public sealed record TierMove
{
    /// <summary>What moves: a session id, "Phase_2_build" for an archive, or "session_x/snapshots" for one data class.</summary>
    public string Subject { get; init; } = "";
    public string? SessionId { get; init; }
    public int? Phase { get; init; }
    /// <summary>Data class (activity_logs, snapshots, handoffs, analytics, insights), or null for a whole session or phase.</summary>
    public string? DataClass { get; init; }
    public TierMoveAction Action { get; init; }
    /// <summary>Tier the data comes from (Copy, Archive) or is removed from (Delete).</summary>
    public string From { get; init; } = "";
    /// <summary>Tier the data goes to; null for Delete.</summary>
    public string? To { get; init; }
    /// <summary>The policy rule that asked for it, e.g. "retention.local_sessions = 2" or "lifecycle[snapshots].core_days = 2".</summary>
    public string Rule { get; init; } = "";
    public TierMoveState State { get; init; } = TierMoveState.Planned;
    public long Bytes { get; init; }
    public string? Message { get; init; }

    public override string ToString() => $"{Action} {Subject} {From}{(To is null ? "" : " -> " + To)} ({State})";
}

public enum TierHealth
{
    Healthy,
    Warning,
    Critical,
    /// <summary>The tier cannot be reached now: a folder tier's directory is gone (a disk or share not connected).</summary>
    Unavailable,
}

/// <summary>One tier's usage (Get-TierUsage).</summary>
public sealed record TierUsage
{
    public string Tier { get; init; } = "";
    public TierLevel Level { get; init; }
    public TierKind Kind { get; init; }
    public long UsedBytes { get; init; }
    /// <summary>Null when the tier is unbounded.</summary>
    public long? CapacityBytes { get; init; }
    /// <summary>Used / capacity in percent; null when unbounded.</summary>
    public double? Percent { get; init; }
    public TierHealth Status { get; init; }
    public long ObjectCount { get; init; }
    public decimal MonthlyCostUsd { get; init; }
    /// <summary>Average growth per week over the catalog's history, in bytes.</summary>
    public long GrowthBytesPerWeek { get; init; }
    /// <summary>When the tier fills at that growth; null when unbounded or not growing.</summary>
    public DateTimeOffset? ProjectedFullAt { get; init; }
    /// <summary>Where the figure comes from: disk, drive quota, catalog, listing.</summary>
    public string Source { get; init; } = "";
    public string? Message { get; init; }

    public override string ToString() =>
        $"{Tier}: {Readable.Bytes(UsedBytes)}{(CapacityBytes is { } capacity ? " of " + Readable.Bytes(capacity) : "")} ({Status})";
}

/// <summary>How an archive of one phase ended (Move-DataTier's Archive step, or archiving by hand).</summary>
public sealed record PhaseArchiveResult
{
    public int Phase { get; init; }
    public string? PhaseName { get; init; }
    public string Tier { get; init; } = "";
    public string Key { get; init; } = "";
    public string ManifestKey { get; init; } = "";
    public IReadOnlyList<string> Sessions { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    public long SizeBytes { get; init; }
    public string Md5 { get; init; } = "";
    public string Sha256 { get; init; } = "";
    public bool Verified { get; init; }
    public TimeSpan Duration { get; init; }
}

public enum PolicyRunStatus
{
    /// <summary>Every backup verified, every step done, every tier healthy.</summary>
    Succeeded,
    /// <summary>Done, with alerts: a tier was unreachable (work queued), or a tier is at its warning threshold.</summary>
    CompletedWithAlerts,
    /// <summary>A backup or a lifecycle step failed, or a tier is critical.</summary>
    Failed,
    /// <summary>Another run holds the policy-run lock; this one did nothing.</summary>
    AlreadyRunning,
}

/// <summary>What one scheduled run (Invoke-TierPolicy, tierstorage run) did.</summary>
public sealed record PolicyRunResult
{
    public PolicyRunStatus Status { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public TimeSpan Duration { get; init; }
    public IReadOnlyList<BackupResult> Backups { get; init => field = Readable.List(value); } = ReadableList<BackupResult>.None;
    public IReadOnlyList<TierMove> Moves { get; init => field = Readable.List(value); } = ReadableList<TierMove>.None;
    /// <summary>The collections whose schedule was due: a new version each, or why not (Skipped, Failed).</summary>
    public IReadOnlyList<CollectionBackupResult> Collections { get; init => field = Readable.List(value); } = ReadableList<CollectionBackupResult>.None;
    public IReadOnlyList<TierUsage> Usage { get; init => field = Readable.List(value); } = ReadableList<TierUsage>.None;
    /// <summary>Interrupted multipart uploads left on S3 tiers by crashed processes, now aborted.</summary>
    public int AbortedUploads { get; init; }
    /// <summary>What a person should look at: failures, queued work, tiers at their thresholds.</summary>
    public IReadOnlyList<string> Alerts { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    /// <summary>The alert conditions open after this run, each with a stable key, its figures and the command that fixes it
    /// (what the policy's alert channels were told; Get-TierAlert lists them).</summary>
    public IReadOnlyList<TierAlert> TierAlerts { get; init => field = Readable.List(value); } = ReadableList<TierAlert>.None;
}

/// <summary>A phase of the project (Start-Phase, Get-Phase): its dates, sessions and where they live.</summary>
public sealed record PhaseInfo
{
    public int Phase { get; init; }
    public string? Name { get; init; }
    /// <summary>Phase_&lt;n&gt;_&lt;name&gt;: its folder on the backup tier and its archive's name.</summary>
    public string Folder { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>The phase new sessions start in.</summary>
    public bool IsCurrent { get; init; }
    public int SessionCount { get; init; }
    public long EventCount { get; init; }
    /// <summary>Sessions with their log on the local tier.</summary>
    public int LocalSessions { get; init; }
    /// <summary>Sessions with a verified copy on the backup tier.</summary>
    public int BackedUpSessions { get; init; }
    public bool Archived { get; init; }
    public DateTimeOffset? ReviewedAt { get; init; }
    public bool Reviewed => ReviewedAt is not null;
}

/// <summary>One Claude Code transcript imported (Import-ClaudeSession): into which session, how many events, and what was skipped.</summary>
public sealed record ClaudeImportResult
{
    public string TranscriptPath { get; init; } = "";
    public string SessionId { get; init; } = "";
    public string? ClaudeSessionId { get; init; }
    public bool IsSubagent { get; init; }
    /// <summary>For a subagent's transcript, the agent its events are attributed to: the subagent_type of the Task call that started it
    /// (else the agentType of the .meta.json beside it, or "compaction" for context compaction).</summary>
    public string? Agent { get; init; }
    public long EventsImported { get; init; }
    public long DuplicatesSkipped { get; init; }
    /// <summary>"line N (byte B): reason" for every line that could not be read; never fatal.</summary>
    public IReadOnlyList<string> MalformedLines { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    public long BytesRead { get; init; }
    /// <summary>Lines read by this import: only those appended since the previous one.</summary>
    public long LinesRead { get; init; }
    /// <summary>The file no longer matched what was imported before, so it was read again from the start (nothing stored twice).</summary>
    public bool Restarted { get; init; }
    /// <summary>The session is finished (idle past the threshold, or -Complete) and was completed: session_end and handoff note written.</summary>
    public bool SessionCompleted { get; init; }
    /// <summary>Why a file found in a project's folder was not imported (it is not a Claude Code transcript); null when it was.</summary>
    public string? SkippedReason { get; init; }
}
