using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers;

/// <summary>What a store reports about one object. <see cref="Md5"/> is the store's own checksum (lower-case hex),
/// computed by the store from the bytes it holds, so it is what verification compares against.</summary>
public sealed record ObjectInfo
{
    /// <summary>Forward-slash key relative to the tier's root, e.g. Phase_1_setup/sessions/session_x/manifest.json.</summary>
    public string Key { get; init; } = "";
    public long Size { get; init; }
    public string? Md5 { get; init; }
    public DateTimeOffset? LastModified { get; init; }
    /// <summary>Store-specific id (a Drive file id); null where keys are the ids.</summary>
    public string? StoreId { get; init; }
}

/// <summary>Options of one put.</summary>
public sealed record PutOptions
{
    /// <summary>MD5 (lower-case hex) of the content as the caller computed it. Stores that are given it verify the
    /// checksum they report against it and fail with ErrorIds.ChecksumMismatch when they differ.</summary>
    public string? ExpectedMd5 { get; init; }
    public string ContentType { get; init; } = "application/octet-stream";
    /// <summary>Bytes sent so far (cumulative), for Write-Progress.</summary>
    public IProgress<long>? Progress { get; init; }
    /// <summary>Storage class for stores that have them (S3: STANDARD for a manifest that must stay readable without a
    /// thaw); null for the tier's default. Stores without classes ignore it.</summary>
    public string? StorageClass { get; init; }
}

/// <summary>
/// The small object-store interface every tier backend implements. Keys use forward slashes and never start with one;
/// "folders" are implied by keys. Failures are <see cref="TierStorageException"/>s: ErrorIds.TierUnreachable
/// (kind ConnectionError) when the store cannot be reached at all — the caller queues the work —,
/// ErrorIds.TierQuotaExceeded when the store refuses more data for now (Drive's daily upload limit; also queued),
/// ErrorIds.ObjectNotFound, ErrorIds.ChecksumMismatch, ErrorIds.TierAuthRequired.
/// Implementations are safe to call from one thread at a time; they retry transient faults themselves.
/// </summary>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>Name of the tier in the policy.</summary>
    string TierName { get; }
    TierKind Kind { get; }
    /// <summary>Human description of where the data goes (a path, a Drive folder, an s3:// URI).</summary>
    string Location { get; }

    /// <summary>Stores <paramref name="content"/> (read from its current position to the end) under <paramref name="key"/>,
    /// replacing any object with that key only once the new one is complete. Returns what the store now holds.</summary>
    Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken);

    /// <summary>Copies the object's bytes from <paramref name="offset"/> to the end into <paramref name="destination"/>.
    /// A download cut off part way is resumed by the store (HTTP Range) before it gives up.</summary>
    Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken);

    /// <summary>The object, or null when there is none.</summary>
    Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken);

    /// <summary>Every object whose key starts with <paramref name="prefix"/> ("" for all), in no promised order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Deletes the object; false when there was none.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>Where a resumable upload stands, persisted (in the catalog) so a later process resumes from the offset.</summary>
public sealed record UploadState
{
    public string Tier { get; init; } = "";
    public string Key { get; init; } = "";
    /// <summary>The store's upload session (Drive: the resumable session URI).</summary>
    public string SessionUri { get; init; } = "";
    /// <summary>Bytes the store has confirmed.</summary>
    public long Offset { get; init; }
    public long TotalBytes { get; init; }
    /// <summary>MD5 of the whole content: a saved state is only reused for the very same bytes.</summary>
    public string ContentMd5 { get; init; } = "";
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Persists <see cref="UploadState"/>s. The catalog implements it; tests may use an in-memory one.</summary>
public interface IUploadStateStore
{
    Task<UploadState?> GetAsync(string tier, string key, CancellationToken cancellationToken);
    Task SaveAsync(UploadState state, CancellationToken cancellationToken);
    Task DeleteAsync(string tier, string key, CancellationToken cancellationToken);
}

/// <summary>Capability: uploads that survive a crash or a closed laptop and resume from the confirmed offset.</summary>
public interface IResumableUploadStore : IObjectStore
{
    /// <summary>Content at or above this size goes resumable (smaller content goes in one request).</summary>
    long ResumableThreshold { get; }

    /// <summary>Like <see cref="IObjectStore.PutAsync"/>, but <paramref name="content"/> must be seekable and
    /// <see cref="PutOptions.ExpectedMd5"/> set; a saved state for the same tier, key and MD5 is resumed from its offset
    /// (after asking the store where it stands), progress is saved after every chunk, and the state is deleted on success.</summary>
    Task<ObjectInfo> PutResumableAsync(string key, Stream content, PutOptions options, IUploadStateStore states, CancellationToken cancellationToken);
}

/// <summary>Capability: an object can be read in place, as a seekable stream of its current length (a folder tier's file),
/// so a caller that checks every byte it reads (a phase archive taking members from the backup tier) needs no downloaded
/// copy to read a second time. What is read is as untrusted as a download: the caller bounds it and checks it against the
/// catalog.</summary>
public interface IInPlaceReadStore : IObjectStore
{
    /// <summary>The object's bytes from the start; ErrorIds.ObjectNotFound when there is none. The caller disposes it.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);
}

/// <summary>How much the store holds and allows.</summary>
public sealed record StoreQuota(long UsedBytes, long? LimitBytes);

/// <summary>Capability: the store reports its quota (Drive's about.storageQuota; a folder's disk).</summary>
public interface IQuotaStore : IObjectStore
{
    Task<StoreQuota> GetQuotaAsync(CancellationToken cancellationToken);
}

/// <summary>Where an archived object stands on the way back from cold storage.</summary>
public enum ArchiveRestoreState
{
    /// <summary>In a class that is read directly (STANDARD and the like): no thaw needed.</summary>
    NotArchived,
    /// <summary>In cold storage (DEEP_ARCHIVE, GLACIER) and no restore has been asked for, or the last copy expired.</summary>
    Archived,
    /// <summary>A restore was asked for and is not finished.</summary>
    InProgress,
    /// <summary>A temporary readable copy exists until <see cref="ArchiveRestoreStatus.ExpiresAt"/>.</summary>
    Restored,
}

/// <summary>The thaw state of one archived object.</summary>
public sealed record ArchiveRestoreStatus(string Key, ArchiveRestoreState State, string StorageClass, DateTimeOffset? ExpiresAt)
{
    /// <summary>GetAsync will succeed now.</summary>
    public bool IsReadable => State is ArchiveRestoreState.NotArchived or ArchiveRestoreState.Restored;
}

/// <summary>Capability: objects may sit in cold storage and must be restored (thawed) before they can be read.</summary>
public interface IArchiveStore : IObjectStore
{
    /// <summary>Where the object stands; ErrorIds.ObjectNotFound when there is none.</summary>
    Task<ArchiveRestoreStatus> GetRestoreStatusAsync(string key, CancellationToken cancellationToken);

    /// <summary>Asks for a temporary readable copy kept <paramref name="days"/> days, and returns the state after the request.
    /// Idempotent: an object not archived is left alone, a restore already under way is not asked for twice, and a
    /// restored copy has its expiry extended.</summary>
    Task<ArchiveRestoreStatus> RequestRestoreAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken);
}
