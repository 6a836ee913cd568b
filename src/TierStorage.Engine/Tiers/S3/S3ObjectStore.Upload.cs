using System.Security.Cryptography;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.S3;

/// <summary>Uploads: PutObject for small content, multipart (resumable across processes) for large content.</summary>
public sealed partial class S3ObjectStore
{
    /// <summary>Fresh uploads tried for one put when S3 forgets them (NoSuchUpload: aborted by a sweep or another process).</summary>
    private const int MaxUploadRestarts = 3;
    /// <summary>Parts are held in memory while they are hashed and sent, which bounds them well below S3's 5 GiB.</summary>
    private const long MaxBufferedPartSize = 1024 * S3StoreOptions.MiB;

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= new PutOptions();
        FullKey(key);
        return await UploadRouting.PutAsync(this, key, content, options, _options.MultipartThreshold,
            whole => PutSingleAsync(key, whole, options, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    public async Task<ObjectInfo> PutResumableAsync(string key, Stream content, PutOptions options, IUploadStateStore states, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(states);
        if (!content.CanSeek) throw new ArgumentException("Resumable uploads need a seekable stream.", nameof(content));
        if (string.IsNullOrEmpty(options.ExpectedMd5) || !IsMd5(options.ExpectedMd5))
            throw new ArgumentException("Resumable uploads need PutOptions.ExpectedMd5 (32 hex digits).", nameof(options));
        var full = FullKey(key);
        var md5 = options.ExpectedMd5.ToLowerInvariant();
        var basePosition = content.Position;
        var total = content.Length - basePosition;
        if (total < _options.MultipartThreshold || total < S3StoreOptions.MinPartSize)
            return await PutSingleAsync(key, await UploadRouting.ReadToEndAsync(content, cancellationToken).ConfigureAwait(false), options, cancellationToken).ConfigureAwait(false);

        var layout = PartLayout.For(total, _options.PartSize, key);
        var buffer = new byte[layout.PartSize];
        var parts = new S3Part?[layout.Count];
        var partMd5s = new byte[layout.Count][];
        var uploadId = await ResumeAsync(key, full, md5, total, layout, content, basePosition, buffer, parts, partMd5s, states, cancellationToken).ConfigureAwait(false);

        var restarts = 0;
        while (true)
        {
            if (uploadId is null)
            {
                var initiated = await CallAsync("starting the upload of", key,
                    () => _client.InitiateMultipartUploadAsync(PutRequest(full, options, md5), cancellationToken)).ConfigureAwait(false);
                uploadId = initiated;
                await SaveAsync(states, key, uploadId, 0, total, md5, cancellationToken).ConfigureAwait(false);
            }
            try
            {
                for (var index = 0; index < layout.Count; index++)
                {
                    if (parts[index] is not null) continue;
                    var length = layout.Length(index);
                    await ReadRangeAsync(content, basePosition + layout.Offset(index), buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    var partMd5 = MD5.HashData(buffer.AsSpan(0, length));
                    var etag = await _client.UploadPartAsync(full, uploadId, index + 1, buffer.AsMemory(0, length), Hex(partMd5), cancellationToken).ConfigureAwait(false);
                    parts[index] = new S3Part(index + 1, etag, length);
                    partMd5s[index] = partMd5;
                    var confirmed = layout.Confirmed(parts);
                    await SaveAsync(states, key, uploadId, confirmed, total, md5, cancellationToken).ConfigureAwait(false);
                    options.Progress?.Report(parts.Sum(p => p?.Size ?? 0));
                }
                await _client.CompleteMultipartUploadAsync(full, uploadId, parts.Select(p => p!).ToList(), cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (S3ClientException e) when (e.Code == "NoSuchUpload")
            {
                if (++restarts > MaxUploadRestarts)
                    throw new TierStorageException(ErrorIds.TierRequestFailed, TierErrorKind.InvalidOperation,
                        $"S3 tier '{TierName}' dropped the multipart upload of '{key}' {restarts} times.", key, e);
                uploadId = null;
                Array.Clear(parts);
                await states.DeleteAsync(TierName, key, cancellationToken).ConfigureAwait(false);
            }
            catch (S3ClientException e)
            {
                throw Failure(e, "uploading", key);
            }
        }
        await states.DeleteAsync(TierName, key, cancellationToken).ConfigureAwait(false);
        options.Progress?.Report(total);
        var composite = Hex(MD5.HashData(partMd5s.SelectMany(h => h).ToArray())) + "-" + layout.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await VerifyAsync(key, total, md5, composite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Picks up a saved upload of the same bytes: S3 lists the parts it holds, and each is kept only if its size and
    /// ETag match the local range re-hashed now (a part's ETag is its MD5 unless the bucket encrypts with KMS, in which
    /// case parts are sent again). Returns the upload id to continue, or null to start afresh. A server that cannot
    /// list parts (NotImplemented, as on some S3-compatible servers) gets a fresh upload; the old one is left to
    /// <see cref="AbortAbandonedUploadsAsync"/>.
    /// </summary>
    private async Task<string?> ResumeAsync(string key, string full, string md5, long total, PartLayout layout, Stream content, long basePosition,
        byte[] buffer, S3Part?[] parts, byte[][] partMd5s, IUploadStateStore states, CancellationToken cancellationToken)
    {
        if (await states.GetAsync(TierName, key, cancellationToken).ConfigureAwait(false) is not { } saved) return null;
        string? uploadId = null;
        if (saved.ContentMd5 == md5 && saved.TotalBytes == total && saved.SessionUri.Length > 0)
        {
            IReadOnlyList<S3Part>? listed;
            try
            {
                listed = await _client.ListPartsAsync(full, saved.SessionUri, cancellationToken).ConfigureAwait(false);
            }
            catch (S3ClientException e) when (e.Code is "NoSuchUpload" or "NotImplemented" or "MethodNotAllowed")
            {
                listed = null;
            }
            catch (S3ClientException e)
            {
                throw Failure(e, "resuming the upload of", key);
            }
            if (listed is not null)
            {
                uploadId = saved.SessionUri;
                foreach (var part in listed)
                {
                    var index = part.PartNumber - 1;
                    if (index < 0 || index >= layout.Count || part.Size != layout.Length(index)) continue;
                    var length = layout.Length(index);
                    await ReadRangeAsync(content, basePosition + layout.Offset(index), buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    var partMd5 = MD5.HashData(buffer.AsSpan(0, length));
                    if (part.ETag.Trim('"').Equals(Hex(partMd5), StringComparison.OrdinalIgnoreCase))
                    {
                        parts[index] = part;
                        partMd5s[index] = partMd5;
                    }
                }
            }
        }
        else if (saved.SessionUri.Length > 0)
        {
            // The content changed since: its upload can never be completed, and its parts cost money until aborted.
            try
            {
                await _client.AbortMultipartUploadAsync(full, saved.SessionUri, cancellationToken).ConfigureAwait(false);
            }
            catch (S3ClientException e) when (e.Code is "NoSuchUpload" or "NotImplemented" or "MethodNotAllowed")
            {
                // Gone already, or left to the abandoned-upload sweep on servers without abort.
            }
            catch (S3ClientException e)
            {
                throw Failure(e, "aborting the previous upload of", key);
            }
        }
        if (uploadId is null) await states.DeleteAsync(TierName, key, cancellationToken).ConfigureAwait(false);
        return uploadId;
    }

    private async Task<ObjectInfo> PutSingleAsync(string key, byte[] bytes, PutOptions options, CancellationToken cancellationToken)
    {
        var full = FullKey(key);
        var md5 = Hex(MD5.HashData(bytes));
        if (options.ExpectedMd5 is { } expected && !string.Equals(expected, md5, StringComparison.OrdinalIgnoreCase))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"'{key}' was not stored on S3 tier '{TierName}': the content has MD5 {md5}, the caller expected {expected}. The previous object, if any, is unchanged.", key);
        await CallAsync("storing", key, () => _client.PutObjectAsync(PutRequest(full, options, md5), bytes, cancellationToken)).ConfigureAwait(false);
        options.Progress?.Report(bytes.Length);
        return await VerifyAsync(key, bytes.Length, md5, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks what S3 now holds under the key: the size, and the ETag wherever it is an MD5 (a single-part ETag is the
    /// object's MD5; S3's multipart ETag is the MD5 of the parts' MD5s, "-N"; some compatible servers give the whole MD5
    /// for both). Another vendor's ETag form is left unchecked: every part was already checked by S3 against its Content-MD5.
    /// </summary>
    private async Task<ObjectInfo> VerifyAsync(string key, long size, string md5, string? composite, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"S3 tier '{TierName}' holds no '{key}' right after it was stored; the upload is not verified.", key);
        var etag = head.ETag?.Trim('"').ToLowerInvariant();
        var etagIsChecksum = _options.ServerSideEncryption != "aws:kms" && etag is not null && (IsMd5(etag) || etag.Contains('-', StringComparison.Ordinal));
        var info = ToInfo(key, head);
        if (head.Size != size || (etagIsChecksum && etag != md5 && etag != composite) || (info.Md5 is { } reported && reported != md5))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"S3 tier '{TierName}' holds {head.Size:N0} bytes with ETag {head.ETag} under '{key}', expected {size:N0} bytes with MD5 {md5}; the upload is not verified.", key);
        return info;
    }

    private S3PutRequest PutRequest(string fullKey, PutOptions options, string md5)
    {
        var storageClass = options.StorageClass?.ToUpperInvariant() ?? _options.StorageClass;
        if (!S3StoreOptions.StorageClasses.Contains(storageClass))
            throw new ArgumentException($"Unknown storage class '{options.StorageClass}'; expected one of {string.Join(", ", S3StoreOptions.StorageClasses)}.", nameof(options));
        return new S3PutRequest(fullKey, options.ContentType, storageClass, _options.ServerSideEncryption,
            new Dictionary<string, string> { [Md5MetadataName] = md5 }, md5);
    }

    private Task SaveAsync(IUploadStateStore states, string key, string uploadId, long offset, long total, string md5, CancellationToken cancellationToken) =>
        states.SaveAsync(new UploadState
        {
            Tier = TierName,
            Key = key,
            SessionUri = uploadId,
            Offset = offset,
            TotalBytes = total,
            ContentMd5 = md5,
            UpdatedAt = _options.TimeProvider.GetUtcNow(),
        }, cancellationToken);

    private static async Task ReadRangeAsync(Stream content, long position, Memory<byte> destination, CancellationToken cancellationToken)
    {
        content.Position = position;
        await content.ReadExactlyAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How an object of <see cref="Total"/> bytes splits into parts: all of <see cref="PartSize"/> but the last.
    /// Depends only on the size and the configured part size, so a later process splits the same content the same way.</summary>
    private readonly record struct PartLayout(long Total, int PartSize, int Count)
    {
        public static PartLayout For(long total, long configured, string key)
        {
            // Objects beyond 10,000 configured parts get parts as large as needed, rounded up to whole MiB.
            var needed = (total + S3StoreOptions.MaxParts - 1) / S3StoreOptions.MaxParts;
            var size = Math.Max(configured, (needed + S3StoreOptions.MiB - 1) / S3StoreOptions.MiB * S3StoreOptions.MiB);
            if (size > MaxBufferedPartSize)
                throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                    $"'{key}' ({total:N0} bytes) is too large for one S3 object of at most {S3StoreOptions.MaxParts:N0} parts of {MaxBufferedPartSize / S3StoreOptions.MiB} MiB.", key);
            return new PartLayout(total, (int)size, (int)((total + size - 1) / size));
        }

        public long Offset(int index) => (long)index * PartSize;

        public int Length(int index) => (int)Math.Min(PartSize, Total - Offset(index));

        /// <summary>Bytes from the start covered by parts S3 holds without a gap (the saved state's offset).</summary>
        public long Confirmed(S3Part?[] parts)
        {
            long confirmed = 0;
            foreach (var part in parts)
            {
                if (part is null) break;
                confirmed += part.Size;
            }
            return confirmed;
        }
    }
}
