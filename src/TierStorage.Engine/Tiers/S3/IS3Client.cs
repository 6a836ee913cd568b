using TierStorage.Contracts;
namespace TierStorage.Engine.Tiers.S3;

/// <summary>
/// The few S3 operations the store uses, in the store's own terms (Duplicati's IS3Client): the AWS SDK stays behind
/// <see cref="AwsS3Client"/>, and tests can play S3 features an S3-compatible test server lacks (ListParts,
/// RestoreObject, x-amz-restore) with an in-process fake. Keys are full bucket keys (the tier prefix included).
/// Failures are <see cref="S3ClientException"/>s carrying S3's error code; the store turns them into tier errors.
/// </summary>
internal interface IS3Client : IDisposable
{
    /// <summary>The object's head, or null when there is none (404).</summary>
    Task<S3ObjectHead?> HeadObjectAsync(string key, CancellationToken cancellationToken);

    /// <summary>The object's bytes from <paramref name="offset"/> to the end. From offset 0 the answer also carries the
    /// object's head (<see cref="S3Download.Head"/>), so a whole read needs no HEAD first.</summary>
    Task<S3Download> GetObjectAsync(string key, long offset, CancellationToken cancellationToken);

    /// <summary>Stores the object in one request; S3 checks the bytes against <see cref="S3PutRequest.ContentMd5"/>. Returns the ETag.</summary>
    Task<string> PutObjectAsync(S3PutRequest request, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Starts a multipart upload with the object's metadata and class; returns the upload id.</summary>
    Task<string> InitiateMultipartUploadAsync(S3PutRequest request, CancellationToken cancellationToken);

    /// <summary>Uploads (or replaces) one part, checked by S3 against <paramref name="contentMd5"/> (lower-case hex). Returns its ETag.</summary>
    Task<string> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5, CancellationToken cancellationToken);

    /// <summary>Every part S3 holds for the upload (all pages). Code NoSuchUpload when the upload is gone.</summary>
    Task<IReadOnlyList<S3Part>> ListPartsAsync(string key, string uploadId, CancellationToken cancellationToken);

    /// <summary>Joins the parts into the object; returns its ETag.</summary>
    Task<string> CompleteMultipartUploadAsync(string key, string uploadId, IReadOnlyList<S3Part> parts, CancellationToken cancellationToken);

    Task AbortMultipartUploadAsync(string key, string uploadId, CancellationToken cancellationToken);

    /// <summary>Unfinished multipart uploads under <paramref name="prefix"/> (all pages).</summary>
    IAsyncEnumerable<S3MultipartUpload> ListMultipartUploadsAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>One page of ListObjectsV2.</summary>
    Task<S3ListPage> ListObjectsAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken);

    Task DeleteObjectAsync(string key, CancellationToken cancellationToken);

    /// <summary>RestoreObject: a temporary copy for <paramref name="days"/> days. Code RestoreAlreadyInProgress when one is under way.</summary>
    Task RestoreObjectAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken);
}

/// <summary>What HeadObject says. <see cref="RestoreOngoing"/> and <see cref="RestoreExpiry"/> come from x-amz-restore
/// (both null when the header is absent: no restore was ever asked for, or its copy expired).</summary>
internal sealed record S3ObjectHead(
    long Size,
    string? ETag,
    DateTimeOffset? LastModified,
    string StorageClass,
    IReadOnlyDictionary<string, string> Metadata,
    bool? RestoreOngoing,
    DateTimeOffset? RestoreExpiry);

/// <summary>An open GET; disposing it closes the connection (through <paramref name="owner"/> when the client gives one).</summary>
internal sealed class S3Download(Stream body, long length, IDisposable? owner, S3ObjectHead? head = null) : IDisposable
{
    public Stream Body { get; } = body;
    /// <summary>Bytes this answer carries (from the offset asked for).</summary>
    public long Length { get; } = length;
    /// <summary>The object's head as the GET's answer tells it (whole reads only; null for a ranged read).</summary>
    public S3ObjectHead? Head { get; } = head;

    public void Dispose()
    {
        if (owner is null) Body.Dispose();
        else owner.Dispose();
    }
}

/// <param name="ContentMd5">Lower-case hex MD5 of the whole content; sent as Content-MD5 on a single put.</param>
internal sealed record S3PutRequest(
    string Key,
    string ContentType,
    string StorageClass,
    string? ServerSideEncryption,
    IReadOnlyDictionary<string, string> Metadata,
    string ContentMd5);

internal sealed record S3Part(int PartNumber, string ETag, long Size);

internal sealed record S3MultipartUpload(string Key, string UploadId, DateTimeOffset Initiated);

internal sealed record S3ListedObject(string Key, long Size, string? ETag, DateTimeOffset? LastModified);

internal sealed record S3ListPage(IReadOnlyList<S3ListedObject> Objects, string? NextContinuationToken);

/// <summary>A failed S3 call. <see cref="Code"/> is S3's error code (NoSuchUpload, AccessDenied, InvalidObjectState, ...)
/// or one of the client-side codes below; <see cref="Status"/> the HTTP status, 0 when no answer came.</summary>
internal sealed class S3ClientException(string code, int status, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>No answer: refused, reset, DNS failure or timeout, after the SDK's own retries.</summary>
    public const string ConnectionFailed = "ConnectionFailed";
    /// <summary>The SDK's credential chain found nothing to sign with.</summary>
    public const string NoCredentials = "NoCredentials";

    public string Code { get; } = code;
    public int Status { get; } = status;
}
