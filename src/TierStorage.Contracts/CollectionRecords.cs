using System.Globalization;

namespace TierStorage.Contracts;

/// <summary>Which collection goes first when time or quota runs short.</summary>
public enum CollectionPriority
{
    High,
    Medium,
    Low,
}

/// <summary>One entry of <c>collections:</c>: a folder of the user's kept as versioned data on a tier (issue 13).</summary>
public sealed class CollectionDefinition
{
    public string Name { get; set; } = "";
    /// <summary>The folder (environment variables and ~ expanded; relative to the workspace).</summary>
    public string Path { get; set; } = "";
    /// <summary>Globs of the files kept, relative to <see cref="Path"/>; empty: everything.</summary>
    public List<string> Include { get; set => field = PolicyList<string>.Of(value); } = new PolicyList<string>();
    /// <summary>Globs left out, besides <see cref="CollectionDefaults.Excludes"/> unless <see cref="DefaultExcludes"/> is off.</summary>
    public List<string> Exclude { get; set => field = PolicyList<string>.Of(value); } = new PolicyList<string>();
    public bool DefaultExcludes { get; set; } = true;
    public CollectionPriority Priority { get; set; } = CollectionPriority.Medium;
    /// <summary>daily, weekly, monthly, or a five-field cron expression.</summary>
    public string Schedule { get; set; } = "daily";
    /// <summary>The tier its versions go to; null: the policy's backup tier (level 2).</summary>
    public string? Tier { get; set; }
    public CollectionRetention Keep { get; set; } = new();
    /// <summary>Versions older than this many days (that the keep rules keep) have their contents packed into bundles on the
    /// policy's archive tier (level 3); the newest version stays. Null: never.</summary>
    public int? ArchiveAfterDays { get; set; }
    public int? DeleteAfterDays { get; set; }
    /// <summary>Local files of the folder deleted by age (old logs, caches), by Move-DataTier and Invoke-TierPolicy.</summary>
    public List<CollectionCleanupRule> Cleanup { get; set => field = PolicyList<CollectionCleanupRule>.Of(value); } = new PolicyList<CollectionCleanupRule>();

    public override string ToString() => $"{Name} ({Path})";
}

/// <summary>One entry of a collection's <c>cleanup:</c>: the files of its folder that match <see cref="Include"/> (and no
/// <see cref="Exclude"/>) and were last written more than <see cref="OlderThanDays"/> days ago are deleted from the disk.
/// With <see cref="RequireBackup"/> (the default) only a file the collection's newest version holds with the same bytes
/// is deleted, so a clean-up never removes the only copy of anything.</summary>
public sealed class CollectionCleanupRule
{
    public List<string> Include { get; set => field = PolicyList<string>.Of(value); } = new PolicyList<string>();
    public List<string> Exclude { get; set => field = PolicyList<string>.Of(value); } = new PolicyList<string>();
    public int OlderThanDays { get; set; }
    public bool RequireBackup { get; set; } = true;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", Include)}{(Exclude.Count == 0 ? "" : " except " + string.Join(", ", Exclude))} older than {OlderThanDays} day{(OlderThanDays == 1 ? "" : "s")}{(RequireBackup ? "" : ", backup not required")}");
}

/// <summary>restic-style retention of a collection's versions on its tier: the newest <see cref="Last"/>, and the newest of
/// each of the last N days, ISO weeks, months and years that have one. Every null: keep every version.</summary>
public sealed class CollectionRetention
{
    public int? Last { get; set; }
    public int? Daily { get; set; }
    public int? Weekly { get; set; }
    public int? Monthly { get; set; }
    public int? Yearly { get; set; }

    public bool KeepsEverything => Last is null && Daily is null && Weekly is null && Monthly is null && Yearly is null;

    public override string ToString() => KeepsEverything ? "every version"
        : string.Join(", ", new[] { ("last", Last), ("daily", Daily), ("weekly", Weekly), ("monthly", Monthly), ("yearly", Yearly) }
            .Where(k => k.Item2 is not null).Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Item1} {k.Item2}")));
}

public static class CollectionDefaults
{
    /// <summary>Left out of every collection unless it sets <c>default_excludes: false</c>: dependency folders, caches,
    /// git's object store and .NET build output, which are rebuilt rather than restored.</summary>
    public static IReadOnlyList<string> Excludes { get; } = ["node_modules", "__pycache__", "*.pyc", "**/.git/objects", "**/bin/Debug", "**/bin/Release", "**/obj/Debug", "**/obj/Release"];
}

/// <summary>One version of a collection on its tier (Get-CollectionVersion).</summary>
public sealed record CollectionVersionInfo
{
    public string Collection { get; init; } = "";
    public string VersionId { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>How old the version was when it was listed (<c>Get-CollectionVersion | Where-Object Age -gt 30d</c>).</summary>
    public TimeSpan Age { get; init; }
    public int FileCount { get; init; }
    /// <summary>Bytes of the files the version holds, as they are on disk.</summary>
    public long TotalBytes { get; init; }
    /// <summary>Bytes of contents this version stored that no earlier version had (uncompressed).</summary>
    public long NewBytes { get; init; }
    /// <summary>The tier that holds the version's contents: its collection's tier, or the archive tier once archived.</summary>
    public string Tier { get; init; } = "";
    /// <summary>When its contents were archived (packed into bundles on <see cref="Tier"/>); null while on the collection's tier.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }
    public bool Archived => ArchivedAt is not null;
    public string? ParentVersionId { get; init; }

    public override string ToString() => $"{Collection}@{VersionId}";
}

public enum CollectionBackupStatus
{
    Succeeded,
    Failed,
    /// <summary>Not run by the policy run: its tier is critical and the collection is not high priority, or the run's time limit passed.</summary>
    Skipped,
}

/// <summary>What Backup-Collection did for one collection.</summary>
public sealed record CollectionBackupResult
{
    public string Collection { get; init; } = "";
    public string? VersionId { get; init; }
    public CollectionBackupStatus Status { get; init; }
    public string Tier { get; init; } = "";
    public int FileCount { get; init; }
    public long TotalBytes { get; init; }
    /// <summary>Files whose bytes were read and hashed (the rest matched the previous version by size and time).</summary>
    public int FilesHashed { get; init; }
    public int FilesAdded { get; init; }
    public int FilesChanged { get; init; }
    public int FilesRemoved { get; init; }
    /// <summary>Contents uploaded: only those the tier did not already hold.</summary>
    public int ContentsUploaded { get; init; }
    /// <summary>Bytes sent to the tier, compressed, the version's manifest included.</summary>
    public long BytesSent { get; init; }
    public TimeSpan Duration { get; init; }
    public string? Message { get; init; }

    public override string ToString() => $"{Collection}@{VersionId} {Status}";
}

public enum CollectionChangeKind
{
    Added,
    Changed,
    Removed,
}

/// <summary>One file that differs between two versions, or between a version and the folder now (Compare-CollectionVersion).</summary>
public sealed record CollectionFileChange
{
    public string Collection { get; init; } = "";
    public string Path { get; init; } = "";
    public CollectionChangeKind Change { get; init; }
    public long? OldSize { get; init; }
    public long? NewSize { get; init; }
    public DateTimeOffset? OldModified { get; init; }
    public DateTimeOffset? NewModified { get; init; }

    public override string ToString() => $"{Change} {Path}";
}

public enum CollectionRestoreAction
{
    Restored,
    /// <summary>The file at the destination already has the version's bytes: nothing to do (a rerun resumes this way).</summary>
    Identical,
    /// <summary>The file at the destination is newer than the version's and differs: kept, unless -Force.</summary>
    SkippedNewer,
    Failed,
    /// <summary>The version is archived in a cold storage class: a thaw of the bundle was requested (or is under way); run
    /// the restore again after <see cref="CollectionRestoreItem.ReadyAfter"/>.</summary>
    Thawing,
}

/// <summary>One file of Restore-Collection.</summary>
public sealed record CollectionRestoreItem
{
    public string Collection { get; init; } = "";
    public string VersionId { get; init; } = "";
    public string Path { get; init; } = "";
    public string Destination { get; init; } = "";
    public long Size { get; init; }
    public CollectionRestoreAction Action { get; init; }
    public string? Message { get; init; }
    /// <summary>Thawing: when the thawed bundle should be readable.</summary>
    public DateTimeOffset? ReadyAfter { get; init; }
    /// <summary>Thawing: what the thaw costs, estimated from the policy's pricing.</summary>
    public decimal? ThawCostUsd { get; init; }

    public override string ToString() => $"{Action} {Path}";
}

public enum CollectionUsageKind
{
    /// <summary>A folder of the collection, to the depth asked, with the files under it that the collection keeps.</summary>
    Folder,
    /// <summary>One of the largest files the collection keeps.</summary>
    LargestFile,
    /// <summary>Left out by an exclude glob (the defaults' node_modules, caches and build output among them): disk the versions do not hold.</summary>
    Excluded,
    /// <summary>What one clean-up rule would free now: the files it would delete (Path is the rule, "cleanup[0]: *.log older than 30 days").</summary>
    Cleanup,
    /// <summary>Files one clean-up rule matches by name and age but keeps, because the newest version does not hold their bytes (Path is the rule).</summary>
    CleanupHeld,
}

/// <summary>One row of Get-CollectionUsage: the disk-usage analysis of a collection's folder as it is now.</summary>
public sealed record CollectionUsageItem
{
    public string Collection { get; init; } = "";
    public CollectionUsageKind Kind { get; init; }
    /// <summary>Relative to the collection's folder, '/' between folders; "." for the folder itself.</summary>
    public string Path { get; init; } = "";
    public long Bytes { get; init; }
    public int FileCount { get; init; }

    public override string ToString() => $"{Kind} {Path}";
}
