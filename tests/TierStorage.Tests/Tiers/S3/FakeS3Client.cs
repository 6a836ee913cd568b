using TierStorage.Contracts;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.S3;

namespace TierStorage.Tests.Tiers.S3;

/// <summary>
/// S3 in memory, for what s3rver lacks: ListParts, ListMultipartUploads, AbortMultipartUpload, RestoreObject and
/// x-amz-restore, and AWS's multipart ETag form (MD5 of the parts' MD5s, "-N"). Content-MD5 is checked like S3 does.
/// <see cref="Fault"/> injects S3 errors per operation.
/// </summary>
internal sealed class FakeS3Client : IS3Client
{
    public sealed class StoredObject
    {
        public required byte[] Bytes { get; set; }
        public required string ETag { get; set; }
        public string StorageClass { get; set; } = "STANDARD";
        public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.OrdinalIgnoreCase);
        public DateTimeOffset Modified { get; init; }
        public bool? RestoreOngoing { get; set; }
        public DateTimeOffset? RestoreExpiry { get; set; }
    }

    private sealed record Upload(string Key, DateTimeOffset Initiated, S3PutRequest Request, SortedDictionary<int, byte[]> Parts);

    private readonly Dictionary<string, Upload> _uploads = new(StringComparer.Ordinal);

    public SortedDictionary<string, StoredObject> Objects { get; } = new(StringComparer.Ordinal);
    public DateTimeOffset Now { get; set; } = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    /// <summary>Called with the operation name before it runs; a returned exception is thrown instead.</summary>
    public Func<string, S3ClientException?>? Fault { get; set; }
    /// <summary>Rewrites the ETag a put or a multipart completion answers with (a server that acknowledges other bytes).</summary>
    public Func<string, string?>? AnsweredETag { get; set; }
    public long PartBytesSent { get; private set; }
    public List<int> PartNumbersSent { get; } = [];
    public List<(string Key, int Days, ArchiveRetrievalTier Tier)> RestoreRequests { get; } = [];
    public List<string> AbortedUploads { get; } = [];
    public IReadOnlyCollection<string> UploadIds => _uploads.Keys;

    public Task<S3ObjectHead?> HeadObjectAsync(string key, CancellationToken cancellationToken)
    {
        Check("HeadObject");
        return Task.FromResult(Objects.TryGetValue(key, out var o)
            ? new S3ObjectHead(o.Bytes.Length, "\"" + o.ETag + "\"", o.Modified, o.StorageClass, new Dictionary<string, string>(o.Metadata), o.RestoreOngoing, o.RestoreExpiry)
            : null);
    }

    public Task<S3Download> GetObjectAsync(string key, long offset, CancellationToken cancellationToken)
    {
        Check("GetObject");
        var o = Objects.TryGetValue(key, out var found) ? found : throw Error("NoSuchKey", 404);
        if ((o.StorageClass is "DEEP_ARCHIVE" or "GLACIER") && o.RestoreExpiry is null) throw Error("InvalidObjectState", 403);
        var head = offset > 0 ? null : new S3ObjectHead(o.Bytes.Length, "\"" + o.ETag + "\"", o.Modified, o.StorageClass, new Dictionary<string, string>(o.Metadata), o.RestoreOngoing, o.RestoreExpiry);
        return Task.FromResult(new S3Download(new MemoryStream(o.Bytes[(int)offset..]), o.Bytes.Length - offset, null, head));
    }

    public Task<string> PutObjectAsync(S3PutRequest request, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Check("PutObject");
        var md5 = Md5(content.Span);
        if (md5 != request.ContentMd5) throw Error("BadDigest", 400);
        Objects[request.Key] = new StoredObject { Bytes = content.ToArray(), ETag = md5, StorageClass = request.StorageClass, Metadata = new(request.Metadata), Modified = Now };
        return Task.FromResult(Answer(md5));
    }

    public Task<string> InitiateMultipartUploadAsync(S3PutRequest request, CancellationToken cancellationToken)
    {
        Check("CreateMultipartUpload");
        var id = Guid.NewGuid().ToString("N");
        _uploads[id] = new Upload(request.Key, Now, request, []);
        return Task.FromResult(id);
    }

    /// <summary>How long each part takes to arrive (so parts sent at once overlap).</summary>
    public TimeSpan PartDelay { get; set; }
    /// <summary>Most parts that were being received at the same moment.</summary>
    public int MaxPartsInFlight { get; private set; }
    private int _partsInFlight;

    public async Task<string> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5, CancellationToken cancellationToken)
    {
        Check("UploadPart");
        var inFlight = Interlocked.Increment(ref _partsInFlight);
        lock (_uploads) MaxPartsInFlight = Math.Max(MaxPartsInFlight, inFlight);
        try
        {
            if (PartDelay > TimeSpan.Zero) await Task.Delay(PartDelay, cancellationToken).ConfigureAwait(false);
            return StorePart(uploadId, partNumber, content, contentMd5);
        }
        finally
        {
            Interlocked.Decrement(ref _partsInFlight);
        }
    }

    private string StorePart(string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5)
    {
        var upload = Find(uploadId);
        var md5 = Md5(content.Span);
        if (md5 != contentMd5) throw Error("BadDigest", 400);
        // The store sends several parts at once.
        lock (upload.Parts)
        {
            upload.Parts[partNumber] = content.ToArray();
            PartBytesSent += content.Length;
            PartNumbersSent.Add(partNumber);
        }
        return "\"" + md5 + "\"";
    }

    public Task<IReadOnlyList<S3Part>> ListPartsAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        Check("ListParts");
        return Task.FromResult<IReadOnlyList<S3Part>>(Find(uploadId).Parts.Select(p => new S3Part(p.Key, "\"" + Md5(p.Value) + "\"", p.Value.Length)).ToList());
    }

    public Task<string> CompleteMultipartUploadAsync(string key, string uploadId, IReadOnlyList<S3Part> parts, CancellationToken cancellationToken)
    {
        Check("CompleteMultipartUpload");
        var upload = Find(uploadId);
        using var whole = new MemoryStream();
        var md5s = new List<byte>();
        foreach (var part in parts)
        {
            if (!upload.Parts.TryGetValue(part.PartNumber, out var bytes) || Md5(bytes) != part.ETag.Trim('"')) throw Error("InvalidPart", 400);
            whole.Write(bytes);
            md5s.AddRange(MD5.HashData(bytes));
        }
        var etag = Md5(md5s.ToArray()) + "-" + parts.Count;
        Objects[key] = new StoredObject { Bytes = whole.ToArray(), ETag = etag, StorageClass = upload.Request.StorageClass, Metadata = new(upload.Request.Metadata), Modified = Now };
        _uploads.Remove(uploadId);
        return Task.FromResult(Answer(etag));
    }

    private string Answer(string etag) => AnsweredETag is null ? "\"" + etag + "\"" : AnsweredETag(etag)!;

    public Task AbortMultipartUploadAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        Check("AbortMultipartUpload");
        Find(uploadId);
        _uploads.Remove(uploadId);
        AbortedUploads.Add(uploadId);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<S3MultipartUpload> ListMultipartUploadsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Check("ListMultipartUploads");
        await Task.Yield();
        foreach (var (id, upload) in _uploads.ToList())
            if (upload.Key.StartsWith(prefix, StringComparison.Ordinal)) yield return new S3MultipartUpload(upload.Key, id, upload.Initiated);
    }

    public Task<S3ListPage> ListObjectsAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken)
    {
        Check("ListObjectsV2");
        var keys = Objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && (continuationToken is null || string.CompareOrdinal(k, continuationToken) > 0)).ToList();
        var page = keys.Take(maxKeys).Select(k => new S3ListedObject(k, Objects[k].Bytes.Length, "\"" + Objects[k].ETag + "\"", Objects[k].Modified)).ToList();
        return Task.FromResult(new S3ListPage(page, keys.Count > maxKeys ? page[^1].Key : null));
    }

    public Task DeleteObjectAsync(string key, CancellationToken cancellationToken)
    {
        Check("DeleteObject");
        Objects.Remove(key);
        return Task.CompletedTask;
    }

    public Task RestoreObjectAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken)
    {
        Check("RestoreObject");
        var o = Objects.TryGetValue(key, out var found) ? found : throw Error("NoSuchKey", 404);
        if (o.StorageClass is not ("DEEP_ARCHIVE" or "GLACIER")) throw Error("InvalidObjectState", 403);
        if (o.RestoreOngoing == true) throw Error("RestoreAlreadyInProgress", 409);
        RestoreRequests.Add((key, days, tier));
        if (o.RestoreExpiry is not null) o.RestoreExpiry = Now.AddDays(days);
        else o.RestoreOngoing = true;
        return Task.CompletedTask;
    }

    /// <summary>What S3 does when a thaw finishes: a readable copy until the expiry.</summary>
    public void FinishRestore(string key, DateTimeOffset expiry)
    {
        Objects[key].RestoreOngoing = false;
        Objects[key].RestoreExpiry = expiry;
    }

    /// <summary>An upload left behind by a process that crashed and lost its state.</summary>
    public string StartForgottenUpload(string key, DateTimeOffset initiated)
    {
        var id = Guid.NewGuid().ToString("N");
        _uploads[id] = new Upload(key, initiated, new S3PutRequest(key, "application/octet-stream", "STANDARD", null, new Dictionary<string, string>(), ""), []);
        return id;
    }

    public void Dispose()
    {
    }

    private Upload Find(string uploadId)
    {
        lock (_uploads) return _uploads.TryGetValue(uploadId, out var upload) ? upload : throw Error("NoSuchUpload", 404);
    }

    private void Check(string operation)
    {
        if (Fault?.Invoke(operation) is { } fault) throw fault;
    }

    public static S3ClientException Error(string code, int status) => new(code, status, $"{code} (fake S3)");

    public static string Md5(ReadOnlySpan<byte> bytes) => Convert.ToHexString(MD5.HashData(bytes)).ToLowerInvariant();
}

/// <summary>A client that hands every call to <paramref name="inner"/>; test clients override the calls they watch or fail.</summary>
internal abstract class DelegatingS3Client(IS3Client inner) : IS3Client
{
    protected IS3Client Inner => inner;

    public virtual Task<S3ObjectHead?> HeadObjectAsync(string key, CancellationToken cancellationToken) => inner.HeadObjectAsync(key, cancellationToken);
    public virtual Task<S3Download> GetObjectAsync(string key, long offset, CancellationToken cancellationToken) => inner.GetObjectAsync(key, offset, cancellationToken);
    public virtual Task<string> PutObjectAsync(S3PutRequest request, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) => inner.PutObjectAsync(request, content, cancellationToken);
    public virtual Task<string> InitiateMultipartUploadAsync(S3PutRequest request, CancellationToken cancellationToken) => inner.InitiateMultipartUploadAsync(request, cancellationToken);
    public virtual Task<string> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5, CancellationToken cancellationToken) =>
        inner.UploadPartAsync(key, uploadId, partNumber, content, contentMd5, cancellationToken);
    public Task<IReadOnlyList<S3Part>> ListPartsAsync(string key, string uploadId, CancellationToken cancellationToken) => inner.ListPartsAsync(key, uploadId, cancellationToken);
    public Task<string> CompleteMultipartUploadAsync(string key, string uploadId, IReadOnlyList<S3Part> parts, CancellationToken cancellationToken) => inner.CompleteMultipartUploadAsync(key, uploadId, parts, cancellationToken);
    public Task AbortMultipartUploadAsync(string key, string uploadId, CancellationToken cancellationToken) => inner.AbortMultipartUploadAsync(key, uploadId, cancellationToken);
    public IAsyncEnumerable<S3MultipartUpload> ListMultipartUploadsAsync(string prefix, CancellationToken cancellationToken) => inner.ListMultipartUploadsAsync(prefix, cancellationToken);
    public Task<S3ListPage> ListObjectsAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) => inner.ListObjectsAsync(prefix, continuationToken, maxKeys, cancellationToken);
    public Task DeleteObjectAsync(string key, CancellationToken cancellationToken) => inner.DeleteObjectAsync(key, cancellationToken);
    public Task RestoreObjectAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken) => inner.RestoreObjectAsync(key, days, tier, cancellationToken);
    public void Dispose() => inner.Dispose();
}

/// <summary>Counts what the store sends through a real client (bytes of puts and parts).</summary>
internal sealed class CountingS3Client(IS3Client inner) : DelegatingS3Client(inner)
{
    private long _bytesSent;
    private int _partsSent;
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public int PartsSent => Volatile.Read(ref _partsSent);

    public override Task<string> PutObjectAsync(S3PutRequest request, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _bytesSent, content.Length);
        return Inner.PutObjectAsync(request, content, cancellationToken);
    }

    public override Task<string> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _bytesSent, content.Length);
        Interlocked.Increment(ref _partsSent);
        return Inner.UploadPartAsync(key, uploadId, partNumber, content, contentMd5, cancellationToken);
    }
}
