using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.S3;

/// <summary>
/// A tier in an S3 bucket (AWS, or an S3-compatible server), every key under the tier's prefix. Small content goes up
/// in one PutObject, large content multipart with its progress saved through <see cref="IUploadStateStore"/>, so a
/// later process resumes from the parts S3 already holds. S3 checks every put and part against its Content-MD5; the
/// whole object's MD5 travels as user metadata (x-amz-meta-md5) because a multipart ETag is not an MD5, and the ETag
/// is checked too wherever it is one. Objects in DEEP_ARCHIVE or GLACIER must be restored (<see cref="IArchiveStore"/>)
/// before they can be read.
/// </summary>
public sealed partial class S3ObjectStore : IResumableUploadStore, IArchiveStore
{
    /// <summary>User-metadata name of the whole object's MD5 (lower-case hex).</summary>
    internal const string Md5MetadataName = "md5";
    /// <summary>A key no store writes: the background warm-up's HEAD asks for it (see <see cref="StartWarmUp"/>).</summary>
    internal const string WarmUpKey = ".tierstorage-warm-up";
    private readonly S3StoreOptions _options;
    private readonly CancellationTokenSource _warmUpStop = new();
    private readonly IS3Client _client;
    private readonly string _prefix;

    /// <summary>ErrorIds.TierAuthRequired when the options name an AWS profile that does not exist.</summary>
    public S3ObjectStore(S3StoreOptions options)
        : this(options, null)
    {
    }

    /// <param name="client">The S3 client to use (tests); null for AWSSDK.S3 configured from <paramref name="options"/>.</param>
    internal S3ObjectStore(S3StoreOptions options, IS3Client? client)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _prefix = options.KeyPrefix;
        if (client is null && TakePrepared(options) is { } prepared)
        {
            // Prepared (and warmed up) while the workspace opened: nothing left to warm.
            _client = prepared;
            UsesPreparedClient = true;
            return;
        }
        try
        {
            _client = client ?? new AwsS3Client(options);
        }
        catch (S3ClientException e)
        {
            throw Failure(e, "connecting to", options.Bucket);
        }
        if (client is null) StartWarmUp();
    }

    /// <summary>The prepared client, in a type of its own: a static field of this type holding SDK types would load the
    /// SDK wherever this type is merely named (an <c>is S3ObjectStore</c> test in a folder-tier command).</summary>
    private static class PreparedSlot
    {
        public static readonly object Gate = new();
        public static (string Key, AWSCredentials? Credentials, Task<AwsS3Client?> Client)? Value;
    }

    /// <summary>This store took the client <see cref="Prepare(S3StoreOptions)"/> started (tests).</summary>
    internal bool UsesPreparedClient { get; }

    /// <summary>
    /// Starts, in the background, the client of a store that is about to be opened with <paramref name="options"/> and its
    /// warm-up HEAD (<see cref="StartWarmUp"/>): a restore knows its tier from the policy but opens the store only after the
    /// catalog, and the SDK's first request (~0.2 s of loading, compiling and connecting) was all on the critical path
    /// (issue 12). The next store opened in this process with the same bucket, endpoint and credentials takes that client;
    /// one prepared client at a time, and one store takes it. A client that cannot be made here (an unknown profile) is
    /// made again by the store, which reports the error.
    /// </summary>
    public static void Prepare(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        lock (PreparedSlot.Gate)
        {
            if (PreparedSlot.Value is not null) return;
            PreparedSlot.Value = (ClientKey(options), options.Credentials, Task.Run(() =>
            {
                AwsS3Client client;
                try
                {
                    client = new AwsS3Client(options);
                }
                catch (S3ClientException)
                {
                    return (AwsS3Client?)null;
                }
                _ = WarmUpAsync(client, options.KeyPrefix + WarmUpKey, CancellationToken.None);
                return client;
            }));
        }
    }

    /// <summary><see cref="Prepare(S3StoreOptions)"/> for a policy's s3 tier; a tier the store could not use is left for
    /// opening the store to report.</summary>
    public static void Prepare(TierDefinition tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        try
        {
            Prepare(OptionsFromTier(tier));
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException)
        {
        }
    }

    /// <summary>The prepared client when it was made for these options (null otherwise, or when none is prepared).</summary>
    private static AwsS3Client? TakePrepared(S3StoreOptions options)
    {
        Task<AwsS3Client?> client;
        lock (PreparedSlot.Gate)
        {
            // Credentials given in code (tests) are the same only when they are the same object.
            if (PreparedSlot.Value is not { } prepared || prepared.Key != ClientKey(options) || !ReferenceEquals(prepared.Credentials, options.Credentials)) return null;
            client = prepared.Client;
            PreparedSlot.Value = null;
        }
        // Making a client is local work (no request): waiting for it cannot hang on the network.
        return client.GetAwaiter().GetResult();
    }

    /// <summary>What the SDK client depends on; the key prefix and storage class are the store's, not the client's.</summary>
    private static string ClientKey(S3StoreOptions o) =>
        string.Join("\n", o.Bucket, o.Region, o.ServiceUrl?.AbsoluteUri ?? "", o.ForcePathStyle, o.Profile ?? "", o.MaxErrorRetry, o.RequestTimeout);

    /// <summary>
    /// The SDK's first request costs far more than the later ones: loading and compiling its request pipeline,
    /// resolving credentials, the endpoint and the signer, opening the connection. A HEAD of a key no store writes,
    /// sent in the background as the store opens, pays that while the caller does local work (packaging a backup), and
    /// leaves an open connection in the pool. Its answer is not used; its failures (offline, no credentials, access
    /// denied) are left for the real requests to report. Read-only: it changes nothing on the tier.
    /// </summary>
    private void StartWarmUp()
    {
        var stop = _warmUpStop.Token;
        _ = Task.Run(() => WarmUpAsync(_client, _prefix + WarmUpKey, stop), stop);
    }

    private static async Task WarmUpAsync(IS3Client client, string key, CancellationToken cancellationToken)
    {
        try
        {
            await client.HeadObjectAsync(key, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any failure of the warm-up is the real request's to report.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>The options a policy's s3 tier describes. Credentials are never part of a policy: the SDK's chain finds
    /// them (the tier's profile, the environment, SSO, an instance role).</summary>
    public static S3StoreOptions OptionsFromTier(TierDefinition tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        if (tier.Kind != TierKind.S3) throw new ArgumentException($"Tier '{tier.Name}' is of kind {tier.Kind}, not s3.", nameof(tier));
        return new S3StoreOptions
        {
            TierName = tier.Name,
            Bucket = tier.Bucket ?? "",
            Region = string.IsNullOrWhiteSpace(tier.Region) ? "us-east-1" : tier.Region,
            Prefix = tier.Prefix ?? "",
            StorageClass = string.IsNullOrWhiteSpace(tier.StorageClass) ? S3StoreOptions.DefaultStorageClass : tier.StorageClass.ToUpperInvariant(),
            ServiceUrl = string.IsNullOrWhiteSpace(tier.Endpoint) ? null : new Uri(tier.Endpoint, UriKind.Absolute),
            ForcePathStyle = tier.ForcePathStyle,
            ServerSideEncryption = tier.ServerSideEncryption,
            Profile = tier.Profile,
        };
    }

    /// <summary>Opens the store a policy's s3 tier describes. A tier the policy reader would have refused fails with
    /// ErrorIds.InvalidArgument naming the tier; an unknown profile with ErrorIds.TierAuthRequired.</summary>
    /// <param name="credentials">Explicit credentials (tests against a local server); null for the SDK's chain.</param>
    /// <param name="space">The workspace's namespace, a folder under the tier's prefix (TierStoreContext.Namespace).</param>
    public static S3ObjectStore FromTier(TierDefinition tier, AWSCredentials? credentials = null, string space = "")
    {
        S3StoreOptions options;
        try
        {
            options = OptionsFromTier(tier) with { Credentials = credentials };
            options = options with { Prefix = TierStoreFactory.Join(options.Prefix, space) };
            options.Validate();
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException)
        {
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"S3 tier '{tier.Name}' cannot be used: {e.Message}", tier.Name, e);
        }
        return new S3ObjectStore(options);
    }

    public string TierName => _options.TierName;
    public TierKind Kind => TierKind.S3;
    public string Location => (_options.ServiceUrl is { } url ? $"{url.GetLeftPart(UriPartial.Authority)} " : "") + $"s3://{_options.Bucket}/{_prefix}";
    public long ResumableThreshold => _options.MultipartThreshold;

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        return head is null ? null : ToInfo(key, head);
    }

    public async Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        // A whole read starts with the GET itself: its answer carries what a HEAD would (size, ETag, metadata), one
        // round trip fewer per object. Only a cold object refused by the GET, or a resumed read, asks HEAD first.
        var first = offset == 0 ? await OpenWholeAsync(key, cancellationToken).ConfigureAwait(false) : null;
        try
        {
            var head = first?.Head ?? await ReadableHeadAsync(key, offset, cancellationToken).ConfigureAwait(false);
            await ReadBodyAsync(key, head, first, destination, offset, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            first?.Dispose();
        }
    }

    /// <summary>A GET of the whole object, or null when S3 refuses it as cold (InvalidObjectState), or its answer shows a
    /// cold class without a readable copy (servers that do not refuse): the HEAD then decides, and tells whether a thaw is
    /// under way or not asked for.</summary>
    private async Task<S3Download?> OpenWholeAsync(string key, CancellationToken cancellationToken)
    {
        var full = FullKey(key);
        try
        {
            var download = await _client.GetObjectAsync(full, 0, cancellationToken).ConfigureAwait(false);
            if (download.Head is { } head && RestoreStatus(key, head).IsReadable) return download;
            download.Dispose();
            return null;
        }
        catch (S3ClientException e) when (e.Code == "InvalidObjectState")
        {
            return null;
        }
        catch (S3ClientException e)
        {
            throw Failure(e, "reading", key);
        }
    }

    private async Task<S3ObjectHead> ReadableHeadAsync(string key, long offset, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw NotFound(key);
        var status = RestoreStatus(key, head);
        if (!status.IsReadable) throw NotRestored(status);
        if (offset < 0 || offset > head.Size)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"Cannot read '{key}' from byte {offset:N0}: it holds {head.Size:N0} bytes.", key);
        return head;
    }

    /// <summary>Copies the body from <paramref name="offset"/>, starting with <paramref name="first"/> when a GET is
    /// already open, and asking again (HTTP Range) from where it stopped when a connection drops.</summary>
    private async Task ReadBodyAsync(string key, S3ObjectHead head, S3Download? first, Stream destination, long offset, IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        // Only a whole download can be checked against the object's MD5; a resumed one is checked by the caller.
        using var md5 = offset == 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        var position = offset;
        var failures = 0;
        var buffer = new byte[1 << 17];
        while (position < head.Size)
        {
            var from = position;
            // The first GET (owned and disposed by the caller) serves until it fails; later ones are ranged.
            using var again = first is null ? await CallAsync("reading", key, () => _client.GetObjectAsync(FullKey(key), from, cancellationToken)).ConfigureAwait(false) : null;
            var download = first ?? again!;
            first = null;
            var progressed = false;
            try
            {
                while (position < head.Size)
                {
                    int read;
                    using (var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                    {
                        readTimeout.CancelAfter(_options.RequestTimeout);
                        read = await download.Body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
                    }
                    if (read == 0) throw new IOException("The download ended before the last byte.");
                    var take = (int)Math.Min(read, head.Size - position);
                    await destination.WriteAsync(buffer.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
                    md5?.AppendData(buffer, 0, take);
                    position += take;
                    progressed = true;
                    progress?.Report(position - offset);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The connection dropped mid-body: ask again from where we are, a bounded number of times in a row.
                failures = progressed ? 1 : failures + 1;
                if (failures > _options.MaxDownloadResumes)
                    throw new TierStorageException(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
                        $"S3 tier '{TierName}' kept cutting off the download of '{key}' at byte {position:N0}.", key, e);
            }
        }
        if (md5 is not null && ToInfo(key, head).Md5 is { } expected && Hex(md5.GetHashAndReset()) is var actual && actual != expected)
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"The download of '{key}' from S3 tier '{TierName}' has MD5 {actual}, but the object's recorded MD5 is {expected}: the stored object is damaged or was replaced.", key);
    }

    /// <summary>Objects under the prefix. ListObjectsV2 carries no user metadata, so <see cref="ObjectInfo.Md5"/> is set
    /// only where the ETag is the MD5 (single-part, not KMS-encrypted); <see cref="StatAsync"/> has it for every object.</summary>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.StartsWith('/') || prefix.Contains('\\')) throw InvalidKey(prefix);
        string? token = null;
        do
        {
            var continuation = token;
            var page = await CallAsync("listing", prefix, () => _client.ListObjectsAsync(_prefix + prefix, continuation, _options.ListPageSize, cancellationToken)).ConfigureAwait(false);
            foreach (var listed in page.Objects)
            {
                // Zero-byte "folder" markers some consoles create are not objects of ours.
                if (!listed.Key.StartsWith(_prefix, StringComparison.Ordinal) || listed.Key.EndsWith('/')) continue;
                yield return new ObjectInfo
                {
                    Key = listed.Key[_prefix.Length..],
                    Size = listed.Size,
                    Md5 = EtagMd5(listed.ETag),
                    LastModified = listed.LastModified,
                };
            }
            token = page.NextContinuationToken;
        }
        while (token is not null);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        // S3 answers a delete the same whether or not the key existed; the head tells which it was.
        if (await HeadAsync(key, cancellationToken).ConfigureAwait(false) is null) return false;
        await CallAsync("deleting", key, async () =>
        {
            await _client.DeleteObjectAsync(FullKey(key), cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        return true;
    }

    public async Task<ArchiveRestoreStatus> GetRestoreStatusAsync(string key, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(key, cancellationToken).ConfigureAwait(false) ?? throw NotFound(key);
        return RestoreStatus(key, head);
    }

    public async Task<ArchiveRestoreStatus> RequestRestoreAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var before = await GetRestoreStatusAsync(key, cancellationToken).ConfigureAwait(false);
        if (before.State is ArchiveRestoreState.NotArchived or ArchiveRestoreState.InProgress) return before;
        try
        {
            await _client.RestoreObjectAsync(FullKey(key), days, tier, cancellationToken).ConfigureAwait(false);
        }
        catch (S3ClientException e) when (e.Code == "RestoreAlreadyInProgress")
        {
            // Another process asked first: the thaw we want is under way.
            return before with { State = ArchiveRestoreState.InProgress, ExpiresAt = null };
        }
        catch (S3ClientException e)
        {
            throw Failure(e, "requesting the restore of", key);
        }
        var after = await GetRestoreStatusAsync(key, cancellationToken).ConfigureAwait(false);
        // A fresh request may not show in the head yet; it was accepted, so it is under way.
        return after.State == ArchiveRestoreState.Archived ? after with { State = ArchiveRestoreState.InProgress } : after;
    }

    /// <summary>
    /// Aborts multipart uploads under the prefix started before now minus <paramref name="olderThan"/> that no saved
    /// upload state refers to: the leftovers of crashed processes whose state was lost, or of content that changed
    /// before it was resumed. S3 bills their parts until they are aborted. Returns how many were aborted.
    /// </summary>
    public async Task<int> AbortAbandonedUploadsAsync(TimeSpan olderThan, IUploadStateStore states, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentOutOfRangeException.ThrowIfLessThan(olderThan, TimeSpan.Zero);
        var cutoff = _options.TimeProvider.GetUtcNow() - olderThan;
        var abandoned = new List<S3MultipartUpload>();
        try
        {
            await foreach (var upload in _client.ListMultipartUploadsAsync(_prefix, cancellationToken).ConfigureAwait(false))
                if (upload.Initiated <= cutoff && upload.Key.StartsWith(_prefix, StringComparison.Ordinal)) abandoned.Add(upload);
        }
        catch (S3ClientException e)
        {
            throw Failure(e, "listing the unfinished uploads of", _prefix);
        }
        var aborted = 0;
        foreach (var upload in abandoned)
        {
            var key = upload.Key[_prefix.Length..];
            if ((await states.GetAsync(TierName, key, cancellationToken).ConfigureAwait(false))?.SessionUri == upload.UploadId) continue;
            try
            {
                await _client.AbortMultipartUploadAsync(upload.Key, upload.UploadId, cancellationToken).ConfigureAwait(false);
                aborted++;
            }
            catch (S3ClientException e) when (e.Code == "NoSuchUpload")
            {
                // Completed or aborted by someone else meanwhile.
            }
            catch (S3ClientException e)
            {
                throw Failure(e, "aborting an unfinished upload of", key);
            }
        }
        return aborted;
    }

    public ValueTask DisposeAsync()
    {
        _warmUpStop.Cancel();
        _warmUpStop.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---- helpers ----

    private Task<S3ObjectHead?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        var full = FullKey(key);
        return CallAsync("checking", key, () => _client.HeadObjectAsync(full, cancellationToken));
    }

    /// <summary>
    /// Thaw state from the storage class and x-amz-restore: ongoing-request="true" is a thaw under way,
    /// ongoing-request="false" with an expiry-date a readable copy until then; no header (or a lapsed expiry) means frozen.
    /// </summary>
    private ArchiveRestoreStatus RestoreStatus(string key, S3ObjectHead head)
    {
        if (!S3StoreOptions.IsCold(head.StorageClass)) return new ArchiveRestoreStatus(key, ArchiveRestoreState.NotArchived, head.StorageClass, null);
        if (head.RestoreOngoing == true) return new ArchiveRestoreStatus(key, ArchiveRestoreState.InProgress, head.StorageClass, null);
        if (head.RestoreExpiry is { } expiry && expiry > _options.TimeProvider.GetUtcNow())
            return new ArchiveRestoreStatus(key, ArchiveRestoreState.Restored, head.StorageClass, expiry);
        return new ArchiveRestoreStatus(key, ArchiveRestoreState.Archived, head.StorageClass, null);
    }

    private TierStorageException NotRestored(ArchiveRestoreStatus status) => status.State == ArchiveRestoreState.InProgress
        ? new TierStorageException(ErrorIds.RestoreInProgress, TierErrorKind.ResourceUnavailable,
            $"'{status.Key}' on S3 tier '{TierName}' is in {status.StorageClass} and its restore is still under way (Deep Archive takes up to 12 hours Standard, 48 hours Bulk); try again later.", status.Key)
        : new TierStorageException(ErrorIds.ArchiveNotRestored, TierErrorKind.ResourceUnavailable,
            $"'{status.Key}' on S3 tier '{TierName}' is in {status.StorageClass} and must be restored before it can be read; request a restore first.", status.Key);

    private ObjectInfo ToInfo(string key, S3ObjectHead head) => new()
    {
        Key = key,
        Size = head.Size,
        // A single-part ETag is S3's own MD5 of the bytes it holds, so it wins over the metadata we wrote.
        Md5 = EtagMd5(head.ETag) ?? (head.Metadata.TryGetValue(Md5MetadataName, out var md5) && IsMd5(md5) ? md5.ToLowerInvariant() : null),
        LastModified = head.LastModified,
    };

    /// <summary>The ETag when it is an MD5: 32 hex digits (a multipart ETag ends in -N) and not under SSE-KMS, whose ETags are not MD5s.</summary>
    private string? EtagMd5(string? etag) =>
        _options.ServerSideEncryption != "aws:kms" && etag?.Trim('"') is { } bare && IsMd5(bare) ? bare.ToLowerInvariant() : null;

    private static bool IsMd5(string value) => value.Length == 32 && value.All(Uri.IsHexDigit);

    private static string Hex(byte[] hash) => Convert.ToHexString(hash).ToLowerInvariant();

    private string FullKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split('/');
        if (key.Length == 0 || segments.Any(s => s.Length == 0 || s is "." or ".." || s.Contains('\\'))) throw InvalidKey(key);
        return _prefix + key;
    }

    private static TierStorageException InvalidKey(string key) =>
        new(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
            $"'{key}' is not a valid object key: use forward-slash separated names, without a leading '/', empty, '.' or '..' segments.", key);

    private TierStorageException NotFound(string key) =>
        new(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, $"S3 tier '{TierName}' holds no object '{key}'.", key);

    private async Task<T> CallAsync<T>(string action, string key, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (S3ClientException e)
        {
            throw Failure(e, action, key);
        }
    }

    /// <summary>
    /// S3's answer as a tier error. Messages name the tier, the bucket, the action, the key and S3's error code, never
    /// the SDK's message (which can quote request details) nor any credential. A missing bucket counts as unreachable
    /// (kind ResourceUnavailable): like an unmounted share, the work is queued, and the message says what to fix.
    /// </summary>
    private TierStorageException Failure(S3ClientException e, string action, string key)
    {
        var where = $"S3 tier '{TierName}' (bucket '{_options.Bucket}')";
        return e.Code switch
        {
            S3ClientException.ConnectionFailed => new(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
                $"{where} cannot be reached while {action} '{key}' ({Location}); the work can be retried when the network is back.", key, e),
            S3ClientException.NoCredentials => new(ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied,
                $"{where} has no AWS credentials: {CredentialHint()}", key, e),
            "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken" or "TokenRefreshRequired" or "AllAccessDisabled" or "AccountProblem"
                => new(ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied,
                    $"{where} refused {action} '{key}' ({e.Code}): the credentials are wrong, expired or lack permission. {CredentialHint()}", key, e),
            "NoSuchBucket" => new(ErrorIds.TierUnreachable, TierErrorKind.ResourceUnavailable,
                $"{where} does not exist (or not in region '{_options.Region}') while {action} '{key}'; create it or correct the tier's bucket in the policy.", key, e),
            "NoSuchKey" => NotFound(key),
            "InvalidObjectState" => new(ErrorIds.ArchiveNotRestored, TierErrorKind.ResourceUnavailable,
                $"'{key}' on {where} is in cold storage and must be restored before {action} it; request a restore first.", key, e),
            "BadDigest" or "InvalidDigest" => new(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"{where} received bytes for '{key}' that do not match their MD5 ({e.Code}); nothing was stored.", key, e),
            "SlowDown" or "ServiceUnavailable" or "InternalError" or "RequestTimeout" or "503" or "500"
                => new(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
                    $"{where} stayed busy or failing ({e.Code}) through {_options.MaxErrorRetry} retries while {action} '{key}'; the work can be retried later.", key, e),
            _ => new(ErrorIds.TierRequestFailed, TierErrorKind.InvalidOperation,
                $"{where} refused {action} '{key}': {e.Code} (HTTP {e.Status}).", key, e),
        };
    }

    private string CredentialHint() => _options.Profile is { } profile
        ? $"check the AWS profile '{profile}' (aws configure --profile {profile}, or aws sso login --profile {profile})."
        : "configure the AWS SDK's credentials (aws configure, aws sso login, or the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables) or name a profile in the tier.";
}
