namespace TierStorage.Contracts;

/// <summary>A session and where it lives. Returned by Start-Session, Complete-Session and Get-Session.</summary>
public sealed record SessionInfo
{
    public string SessionId { get; init; } = "";
    public int Phase { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public SessionState State { get; init; }
    /// <summary>Name of the tier that holds the working copy ("local" while it is on this machine).</summary>
    public string Tier { get; init; } = "local";
    /// <summary>The activity log on the local tier, or null once pruned.</summary>
    public string? LogPath { get; init; }
    public string? HandoffPath { get; init; }
    /// <summary>True when a copy on another tier has been verified.</summary>
    public bool Verified { get; init; }
    public long EventCount { get; init; }
    public int SnapshotCount { get; init; }
    public long SizeBytes { get; init; }
    /// <summary>Why the session is (still) where it is, e.g. why it was not pruned.</summary>
    public string? Note { get; init; }
    /// <summary>The machine the session was recorded on (a shared catalog tells machines apart; null before it did).</summary>
    public string? Machine { get; init; }
    /// <summary>The user that recorded it.</summary>
    public string? User { get; init; }

    public TimeSpan? Duration => EndedAt is { } end ? end - StartedAt : null;
}

/// <summary>One snapshot of a session's state (state/&lt;session&gt;_snapNNN.json.gz).</summary>
public sealed record SnapshotInfo
{
    public string SessionId { get; init; } = "";
    public int Sequence { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string Path { get; init; } = "";
    /// <summary>Size of the compressed file.</summary>
    public long SizeBytes { get; init; }
    public long UncompressedBytes { get; init; }
    public string Sha256 { get; init; } = "";
    /// <summary>The JSON document; filled by Get-SessionSnapshot, null in listings.</summary>
    public string? Json { get; init; }
}

/// <summary>Result of Initialize-TierWorkspace.</summary>
public sealed record WorkspaceInfo
{
    public string Path { get; init; } = "";
    public string PolicyPath { get; init; } = "";
    public string CatalogPath { get; init; } = "";
    /// <summary>True when this call wrote the policy file (new workspace or -Force).</summary>
    public bool PolicyWritten { get; init; }
    public IReadOnlyList<string> CreatedDirectories { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    /// <summary>The workspace's folder on every backup and archive tier (&lt;project&gt;-&lt;id&gt;), so projects sharing a tier
    /// never touch each other's objects; empty for a workspace that backed up before namespaces existed.</summary>
    public string Namespace { get; init; } = "";
}

/// <summary>What Initialize-TierWorkspace -NewIdentity changed: a copied workspace became a project of its own.</summary>
public sealed record WorkspaceIdentityChange
{
    public string Path { get; init; } = "";
    public string WorkspaceId { get; init; } = "";
    /// <summary>The new namespace on the tiers.</summary>
    public string Namespace { get; init; } = "";
    /// <summary>The namespace the workspace shared with its original, which keeps it.</summary>
    public string PreviousNamespace { get; init; } = "";
    /// <summary>Sessions this workspace still holds locally whose tier copies were the original's: the next backup stores
    /// them in the new namespace.</summary>
    public IReadOnlyList<string> SessionsToBackUp { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    /// <summary>Sessions that only the original's tiers held: no longer in this workspace's catalog.</summary>
    public IReadOnlyList<string> SessionsLeftToOriginal { get; init => field = Readable.List(value); } = ReadableList<string>.None;
}

/// <summary>One result of Test-TierPolicy: a problem (or a note) with where it is.</summary>
public sealed record PolicyFinding
{
    public FindingSeverity Severity { get; init; }
    /// <summary>Stable code, e.g. UnknownKey, WrongType, OutOfRange, YamlSyntax.</summary>
    public string Code { get; init; } = "";
    public string Message { get; init; } = "";
    public string? File { get; init; }
    public int? Line { get; init; }
    public int? Column { get; init; }
    /// <summary>Dotted path of the key, e.g. tiers[1].critical_percent.</summary>
    public string? KeyPath { get; init; }

    public override string ToString()
    {
        var where = File ?? "<policy>";
        if (Line is { } l) where += $":{l}:{Column ?? 1}";
        return KeyPath is null ? $"{where}: {Message}" : $"{where}: {KeyPath}: {Message}";
    }
}
