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
        string? completedEtag;
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
                await UploadPartsAsync(key, full, uploadId, md5, total, layout, content, basePosition, buffer, parts, partMd5s, states, options.Progress, cancellationToken).ConfigureAwait(false);
                completedEtag = await _client.CompleteMultipartUploadAsync(full, uploadId, parts.Select(p => p!).ToList(), cancellationToken).ConfigureAwait(false);
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
        return await VerifyAsync(key, total, md5, composite, completedEtag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends every part S3 does not hold yet, up to <see cref="S3StoreOptions.MaxConcurrentParts"/> at once, each from its
    /// own buffer (memory stays at that many parts) and each checked by S3 against its Content-MD5. The saved state
    /// advances as parts finish, in any order: its offset is the gap-free run from the start, and a resumed upload asks
    /// S3 for the parts it holds anyway (<see cref="ResumeAsync"/>). The first failure stops the other parts and is thrown.
    /// </summary>
    private async Task UploadPartsAsync(string key, string full, string uploadId, string md5, long total, PartLayout layout, Stream content, long basePosition,
        byte[] firstBuffer, S3Part?[] parts, byte[][] partMd5s, IUploadStateStore states, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var pending = new Queue<int>(Enumerable.Range(0, layout.Count).Where(i => parts[i] is null));
        var workers = Math.Min(_options.MaxConcurrentParts, pending.Count);
        if (workers == 0) return;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Reads share one stream and saves one state store: each is taken in turn.
        using var reading = new SemaphoreSlim(1);
        using var saving = new SemaphoreSlim(1);
        Exception? failure = null;

        async Task WorkAsync(byte[] buffer)
        {
            try
            {
                while (true)
                {
                    int index;
                    lock (pending)
                    {
                        if (!pending.TryDequeue(out index)) return;
                    }
                    var length = layout.Length(index);
                    await reading.WaitAsync(stop.Token).ConfigureAwait(false);
                    try
                    {
                        await ReadRangeAsync(content, basePosition + layout.Offset(index), buffer.AsMemory(0, length), stop.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        reading.Release();
                    }
                    var partMd5 = MD5.HashData(buffer.AsSpan(0, length));
                    var etag = await _client.UploadPartAsync(full, uploadId, index + 1, buffer.AsMemory(0, length), Hex(partMd5), stop.Token).ConfigureAwait(false);
                    await saving.WaitAsync(stop.Token).ConfigureAwait(false);
                    try
                    {
                        parts[index] = new S3Part(index + 1, etag, length);
                        partMd5s[index] = partMd5;
                        await SaveAsync(states, key, uploadId, layout.Confirmed(parts), total, md5, stop.Token).ConfigureAwait(false);
                        progress?.Report(parts.Sum(p => p?.Size ?? 0));
                    }
                    finally
                    {
                        saving.Release();
                    }
                }
            }
            catch (Exception e)
            {
                // The first failure is the one to report; the others are the cancellation it caused.
                if (Interlocked.CompareExchange(ref failure, e, null) is null) await stop.CancelAsync().ConfigureAwait(false);
            }
        }

        var running = new Task[workers];
        running[0] = WorkAsync(firstBuffer);
        for (var w = 1; w < workers; w++) running[w] = Task.Run(() => WorkAsync(new byte[layout.PartSize]), CancellationToken.None);
        await Task.WhenAll(running).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
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
        var etag = await CallAsync("storing", key, () => _client.PutObjectAsync(PutRequest(full, options, md5), bytes, cancellationToken)).ConfigureAwait(false);
        options.Progress?.Report(bytes.Length);
        return await VerifyAsync(key, bytes.Length, md5, null, etag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks what S3 now holds under the key. The ETag S3 answered the put (or the multipart completion) with is S3's own
    /// checksum of the bytes it stored: a single-part ETag is the object's MD5, S3's multipart ETag the MD5 of the parts'
    /// MD5s ("-N"; some compatible servers give the whole MD5 for both), so when it is one of those and equals ours the
    /// copy is verified without another request (its size follows from its checksum). Otherwise (no ETag in the answer,
    /// SSE-KMS, another vendor's form) a HEAD asks for size and ETag: another vendor's ETag form is left unchecked there,
    /// as every part was already checked by S3 against its Content-MD5. An ETag that is a checksum and differs fails.
    /// </summary>
    private async Task<ObjectInfo> VerifyAsync(string key, long size, string md5, string? composite, string? answeredEtag, CancellationToken cancellationToken)
    {
        var answered = answeredEtag?.Trim('"').ToLowerInvariant();
        if (_options.ServerSideEncryption != "aws:kms" && answered is not null && (IsMd5(answered) || answered.Contains('-', StringComparison.Ordinal)))
        {
            if (answered != md5 && answered != composite)
                throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                    $"S3 tier '{TierName}' answered the upload of '{key}' with ETag {answeredEtag}, expected MD5 {md5}{(composite is null ? "" : $" or {composite}")}; the upload is not verified.", key);
            return new ObjectInfo { Key = key, Size = size, Md5 = md5, LastModified = _options.TimeProvider.GetUtcNow() };
        }
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
