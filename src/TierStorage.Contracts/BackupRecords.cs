namespace TierStorage.Contracts;

/// <summary>How a backup of one session ended.</summary>
public enum BackupStatus
{
    /// <summary>Every file is on the tier and verified.</summary>
    Succeeded,
    /// <summary>The tier could not be reached (or refused more data for today): the backup waits in the catalog's queue.</summary>
    Queued,
    /// <summary>Nothing to do: the tier already held a verified copy of every file.</summary>
    Skipped,
    Failed,
    /// <summary>-WhatIf: what would be backed up.</summary>
    Planned,
    /// <summary>Handed to a background `tierstorage` process (Complete-Session with the policy's trigger on).</summary>
    Started,
}

/// <summary>One file of a backup or restore, with the checksums it was verified against.</summary>
public sealed record BackupFile
{
    /// <summary>File name inside the session folder, e.g. activity.jsonl.gz.</summary>
    public string Name { get; init; } = "";
    /// <summary>Key on the tier, e.g. Phase_1_setup/sessions/session_20260101_100000/activity.jsonl.gz.</summary>
    public string Key { get; init; } = "";
    public long SizeBytes { get; init; }
    public string Md5 { get; init; } = "";
    public string Sha256 { get; init; } = "";
    /// <summary>False when the tier already held the same bytes (same MD5) and nothing was sent.</summary>
    public bool Transferred { get; init; }
    public bool Verified { get; init; }

    public override string ToString() => $"{Name} {Readable.Bytes(SizeBytes)}{(Verified ? " verified" : " unverified")}";
}

/// <summary>Returned by Backup-Session and Sync-BackupQueue, one per session.</summary>
public sealed record BackupResult
{
    public string SessionId { get; init; } = "";
    public int Phase { get; init; }
    public string Tier { get; init; } = "";
    public BackupStatus Status { get; init; }
    /// <summary>Where the session's folder is on the tier.</summary>
    public string Location { get; init; } = "";
    public IReadOnlyList<BackupFile> Files { get; init => field = Readable.List(value); } = ReadableList<BackupFile>.None;
    public long BytesSent { get; init; }
    public bool Verified { get; init; }
    /// <summary>Sessions whose local copies were removed after this backup (beyond retention, verified elsewhere).</summary>
    public IReadOnlyList<string> PrunedSessions { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    public TimeSpan Duration { get; init; }
    /// <summary>Why it was queued, skipped or failed.</summary>
    public string? Message { get; init; }

    public override string ToString() => $"{SessionId} -> {Tier}: {Status}, {Readable.Bytes(BytesSent)} sent";
}

/// <summary>How fast, and so how dearly, cold storage brings an object back (Deep Archive: Standard within 12 hours,
/// Bulk within 48 hours at about an eighth of the price). A Restore-Session parameter, so it lives here where scripts can name it.</summary>
public enum ArchiveRetrievalTier
{
    Standard,
    Bulk,
}

public enum RestoreStatus
{
    /// <summary>The session's files are back, verified.</summary>
    Restored,
    /// <summary>The archive is in cold storage: a thaw was requested; call again after <see cref="RestoreResult.ReadyAfter"/>.</summary>
    Thawing,
}

/// <summary>Returned by Restore-Session.</summary>
public sealed record RestoreResult
{
    public RestoreStatus Status { get; init; } = RestoreStatus.Restored;
    /// <summary>Thawing: when the archive is expected to be readable (Standard within 12 h, Bulk within 48 h).</summary>
    public DateTimeOffset? ReadyAfter { get; init; }
    /// <summary>Thawing: what the retrieval costs at the policy's prices.</summary>
    public decimal? ThawCostUsd { get; init; }
    public string SessionId { get; init; } = "";
    public int Phase { get; init; }
    public string Tier { get; init; } = "";
    /// <summary>The workspace, or the -Destination directory.</summary>
    public string Destination { get; init; } = "";
    public IReadOnlyList<BackupFile> Files { get; init => field = Readable.List(value); } = ReadableList<BackupFile>.None;
    public long BytesReceived { get; init; }
    public bool Verified { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>Thawing: what was asked and when to come back.</summary>
    public string? Message { get; init; }
}

public enum BackupCheckStatus
{
    Ok,
    /// <summary>A completed session with no verified backup, or an object the catalog lists that the tier lacks.</summary>
    Missing,
    /// <summary>The tier's checksum (or, with -ReadData, the bytes) differ from the catalog's.</summary>
    Corrupt,
    /// <summary>On the tier, not in the catalog.</summary>
    Orphan,
    /// <summary>In the catalog and on the tier, never verified.</summary>
    Unverified,
}

/// <summary>One finding of Test-Backup. Pipes into Backup-Session by SessionId to mend what is missing.</summary>
public sealed record BackupCheck
{
    public string SessionId { get; init; } = "";
    public string Tier { get; init; } = "";
    public BackupCheckStatus Status { get; init; }
    /// <summary>The object concerned; null for a session-level finding.</summary>
    public string? Key { get; init; }
    /// <summary>True when the bytes were downloaded and re-hashed (-ReadData).</summary>
    public bool DataRead { get; init; }
    public string Message { get; init; } = "";
}

/// <summary>One step of Test-TierConnection.</summary>
public sealed record TierConnectionStep
{
    public string Tier { get; init; } = "";
    /// <summary>Reach, CreateFolder, Upload, Verify, Download, CleanUp.</summary>
    public string Step { get; init; } = "";
    public bool Succeeded { get; init; }
    public TimeSpan Duration { get; init; }
    public string Message { get; init; } = "";
}

/// <summary>A session rebuilt into the catalog by Update-TierCatalog: from a tier's manifests (-FromTier), or from its
/// activity log in the workspace's logs/ (Tier "local").</summary>
public sealed record CatalogRebuildResult
{
    public string SessionId { get; init; } = "";
    public int Phase { get; init; }
    public string Tier { get; init; } = "";
    /// <summary>Added (the catalog did not know the session), Updated, Unchanged, Indexed (a session known without its
    /// events got them from its local log), or Skipped (its manifest could not be read; a warning says why).</summary>
    public string Action { get; init; } = "";
    public int ObjectCount { get; init; }
    /// <summary>The session's events in the catalog after the rebuild (from its local log, or its backup's analytics
    /// snapshot or activity log).</summary>
    public long EventCount { get; init; }
    /// <summary>The manifest a Skipped result is about, or the log a local result was read from.</summary>
    public string? Key { get; init; }
}

/// <summary>Returned by Connect-TierDrive and Disconnect-TierDrive. Never holds a token, only where it is kept.</summary>
public sealed record DriveAuthorizationInfo
{
    public string Tier { get; init; } = "";
    /// <summary>The Google account, when Drive reports it.</summary>
    public string? Account { get; init; }
    /// <summary>The one OAuth scope granted: drive.file (files this app created), never the whole Drive.</summary>
    public string Scope { get; init; } = "";
    /// <summary>The token file under credentials/, readable by the user alone.</summary>
    public string TokenFile { get; init; } = "";
    public bool Connected { get; init; }
    /// <summary>Disconnect: whether the server confirmed the revocation (an offline machine still forgets the token).</summary>
    public bool Revoked { get; init; }
}

/// <summary>Returned by Update-TierEncryptionKey for each encrypted tier: the data keys re-wrapped under the new
/// key-encryption key. Key ids are fingerprints, never key material.</summary>
public sealed record KeyRotationResult
{
    public string Tier { get; init; } = "";
    public string OldKeyId { get; init; } = "";
    public string NewKeyId { get; init; } = "";
    /// <summary>Objects whose data key was re-wrapped by this call (their ciphertext is untouched).</summary>
    public int ObjectsRewrapped { get; init; }
    /// <summary>Objects already under the new key (an interrupted rotation run again).</summary>
    public int ObjectsAlreadyRewrapped { get; init; }
    public TimeSpan Duration { get; init; }
}

/// <summary>Returned by Initialize-TierWorkspace -Encrypt: where the new key file is. Never holds the key.</summary>
public sealed record EncryptionKeyInfo
{
    public string KeyFile { get; init; } = "";
    public string KeyId { get; init; } = "";
    /// <summary>Windows: DPAPI (current user); elsewhere: a file readable by the user alone (0600).</summary>
    public string Protection { get; init; } = "";
    /// <summary>Whether the policy file was given an encryption section by this call.</summary>
    public bool PolicyUpdated { get; init; }
}
