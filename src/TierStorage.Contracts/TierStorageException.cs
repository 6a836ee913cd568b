namespace TierStorage.Contracts;

/// <summary>Broad class of a failure; the PowerShell front maps it to an ErrorCategory, the CLI to an exit code.</summary>
public enum TierErrorKind
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ResourceExists,
    ResourceUnavailable,
    PermissionDenied,
    WriteError,
    ReadError,
    InvalidOperation,
    ConnectionError,
    OperationStopped,
}

/// <summary>
/// Every failure the engine reports on purpose. <see cref="ErrorId"/> is stable and non-localised
/// (the PowerShell front uses it as the ErrorRecord id); <see cref="Target"/> is the item being processed.
/// Messages never contain secrets.
/// </summary>
public class TierStorageException : Exception
{
    public TierStorageException(string errorId, TierErrorKind kind, string message, object? target = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public TierErrorKind Kind { get; }
    public object? Target { get; }
    /// <summary>For policy errors: every problem found, each with file, line, column and key path.</summary>
    public IReadOnlyList<PolicyFinding> Findings { get; init; } = [];
}

/// <summary>The stable error ids, one per code path that fails on purpose.</summary>
public static class ErrorIds
{
    public const string CollectionNotFound = nameof(CollectionNotFound);
    public const string CollectionVersionNotFound = nameof(CollectionVersionNotFound);
    public const string CollectionSourceNotFound = nameof(CollectionSourceNotFound);
    public const string AlertChannelNotFound = nameof(AlertChannelNotFound);
    public const string PolicyInvalid = "PolicyInvalid";
    public const string PolicyNotFound = "PolicyNotFound";
    public const string PolicyExists = "PolicyExists";
    public const string WorkspaceNotFound = "WorkspaceNotFound";
    public const string WorkspaceNotWritable = "WorkspaceNotWritable";
    /// <summary>workspace.json is not a workspace identity.</summary>
    public const string WorkspaceIdentityInvalid = "WorkspaceIdentityInvalid";
    /// <summary>The workspace is a copy of one that still exists, so the tiers' namespace belongs to the original.</summary>
    public const string WorkspaceCopied = "WorkspaceCopied";
    /// <summary>A workspace that stored objects in its namespace cannot take over another.</summary>
    public const string NamespaceInUse = "NamespaceInUse";
    public const string DiskFull = "DiskFull";
    public const string InvalidSessionId = "InvalidSessionId";
    public const string SessionNotFound = "SessionNotFound";
    public const string PhaseNotFound = "PhaseNotFound";
    public const string SessionExists = "SessionExists";
    public const string SessionStillActive = "SessionStillActive";
    public const string NoActiveSession = "NoActiveSession";
    public const string SessionNotActive = "SessionNotActive";
    public const string InvalidEvent = "InvalidEvent";
    public const string InvalidTranscript = "InvalidTranscript";
    public const string SnapshotNotFound = "SnapshotNotFound";
    public const string SnapshotCorrupt = "SnapshotCorrupt";
    public const string InvalidSnapshot = "InvalidSnapshot";
    public const string CatalogCorrupt = "CatalogCorrupt";
    public const string CatalogTooNew = "CatalogTooNew";
    public const string LockTimeout = "LockTimeout";
    public const string InvalidArgument = "InvalidArgument";
    public const string TierNotFound = "TierNotFound";
    public const string TierNotSupported = "TierNotSupported";
    public const string BackupInProgress = "BackupInProgress";
    public const string BackgroundBackupFailed = "BackgroundBackupFailed";
    public const string EarlyDeletion = "EarlyDeletion";
    public const string PolicyRunInProgress = "PolicyRunInProgress";
    public const string RestoreTargetExists = "RestoreTargetExists";
    public const string TierUnreachable = "TierUnreachable";
    public const string TierQuotaExceeded = "TierQuotaExceeded";
    public const string TierAuthRequired = "TierAuthRequired";
    public const string ObjectNotFound = "ObjectNotFound";
    public const string ChecksumMismatch = "ChecksumMismatch";
    public const string UnsafeArchive = "UnsafeArchive";
    /// <summary>Tier data the catalog cannot vouch for declares that it unpacks to more than TierStorage unpacks unvouched.</summary>
    public const string ArchiveTooLarge = "ArchiveTooLarge";
    public const string BackupNotFound = "BackupNotFound";
    public const string BackupNotVerified = "BackupNotVerified";
    public const string InvalidManifest = "InvalidManifest";
    public const string PackageSourceNotFound = "PackageSourceNotFound";
    public const string TierAccessDenied = "TierAccessDenied";
    public const string ArchiveCorrupt = "ArchiveCorrupt";
    public const string FileExists = "FileExists";
    public const string TierRequestFailed = "TierRequestFailed";
    public const string ClientSecretsNotFound = "ClientSecretsNotFound";
    public const string ClientSecretsInvalid = "ClientSecretsInvalid";
    public const string AuthorizationFailed = "AuthorizationFailed";
    public const string ArchiveNotRestored = "ArchiveNotRestored";
    public const string RestoreInProgress = "RestoreInProgress";
    /// <summary>A file-system failure the engine did not classify more precisely (the safety net of the fronts).</summary>
    public const string IOError = "IOError";
    /// <summary>The operating system refused access to a file or folder.</summary>
    public const string AccessDenied = "AccessDenied";
    /// <summary>The catalog database failed in a way the engine did not classify (locked, I/O error).</summary>
    public const string CatalogError = "CatalogError";
    /// <summary>A shared (PostgreSQL) catalog cannot be reached or refuses the login: the server, the database or the password.</summary>
    public const string CatalogUnavailable = "CatalogUnavailable";
    /// <summary>A database that holds tables but is not a TierStorage catalog: refused rather than written into.</summary>
    public const string CatalogForeign = "CatalogForeign";
    /// <summary>What a workspace cannot do while its catalog is shared with other machines (a new identity).</summary>
    public const string CatalogShared = "CatalogShared";
    /// <summary>Another machine of a shared catalog is doing this now (archiving the same phase): nothing was done here.</summary>
    public const string InProgressElsewhere = "InProgressElsewhere";
    /// <summary>An encrypted tier's key-encryption key is not there: no key file in credentials/, or the passphrase
    /// variable the policy names is not set.</summary>
    public const string EncryptionKeyNotFound = "EncryptionKeyNotFound";
    /// <summary>The key given is not the one an encrypted tier's data was written with (a wrong key file or passphrase).</summary>
    public const string EncryptionKeyMismatch = "EncryptionKeyMismatch";
    /// <summary>Encrypted bytes read back from a tier fail authentication: altered, truncated, reordered, or not the
    /// object their key envelope belongs to.</summary>
    public const string DecryptionFailed = "DecryptionFailed";
    /// <summary>Two catalogs differ where they must match (Copy-TierCatalog -Cutover refuses to switch the policy).</summary>
    public const string CatalogMismatch = "CatalogMismatch";
    /// <summary>A catalog copy found rows the target holds differently from another machine or an older copy (a session
    /// id taken with another start, events that are not this catalog's), and left them as they were.</summary>
    public const string CatalogConflict = "CatalogConflict";
    /// <summary>A database or file holds tables but is not a TierStorage catalog: nothing is written to it.</summary>
    public const string NotACatalog = "NotACatalog";
}
