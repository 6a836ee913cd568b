using TierStorage.Contracts;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;

namespace TierStorage.Engine.Tiers.S3;

/// <summary>
/// <see cref="IS3Client"/> over AWSSDK.S3. Set up to work with S3-compatible servers as well as AWS: payloads are sent
/// plainly signed, not aws-chunked (servers such as s3rver would store the chunk framing as the object's bytes), and
/// the SDK's extra CRC checksums are only sent or checked where S3 requires them; integrity comes from Content-MD5 on
/// every put and part, which every S3-compatible server checks.
/// </summary>
internal sealed class AwsS3Client : IS3Client
{
    private const string MetadataHeaderPrefix = "x-amz-meta-";
    private readonly AmazonS3Client _client;
    private readonly string _bucket;

    /// <param name="handler">Replaces the HTTP stack (tests that play S3's answers); null for the real one.</param>
    public AwsS3Client(S3StoreOptions options, HttpMessageHandler? handler = null)
    {
        _bucket = options.Bucket;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = options.MaxErrorRetry,
            RetryMode = RequestRetryMode.Standard,
            Timeout = options.RequestTimeout,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url.AbsoluteUri;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        if (handler is not null) config.HttpClientFactory = new HandlerClientFactory(handler);

        var credentials = options.Credentials ?? ProfileCredentials(options);
        _client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <summary>A named profile is looked up in the SDK's shared files (keys, SSO, credential_process, role chains);
    /// no profile leaves the SDK's default chain to find credentials at the first request.</summary>
    private static AWSCredentials? ProfileCredentials(S3StoreOptions options)
    {
        if (string.IsNullOrEmpty(options.Profile)) return null;
        return new CredentialProfileStoreChain().TryGetAWSCredentials(options.Profile, out var credentials)
            ? credentials
            : throw new S3ClientException(S3ClientException.NoCredentials, 0,
                $"The AWS profile '{options.Profile}' named by tier '{options.TierName}' is not in the shared config or credentials file.");
    }

    public Task<S3ObjectHead?> HeadObjectAsync(string key, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            try
            {
                var response = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
                return new S3ObjectHead(
                    response.ContentLength,
                    response.ETag,
                    Utc(response.LastModified),
                    StorageClassName(response.StorageClass),
                    UserMetadata(response.Metadata),
                    response.RestoreInProgress,
                    Utc(response.RestoreExpiration));
            }
            // HEAD answers carry no error body, so a missing object is just a 404.
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return (S3ObjectHead?)null;
            }
        }, cancellationToken);

    /// <remarks>Every GET asks for a range, "bytes=0-" for a whole read: the SDK wraps a whole (unranged) body in its
    /// own managed MD5 (ThirdParty.MD5, compiled at start-up and slow), which would hash every download a second time
    /// beside the store's own MD5 check (<see cref="S3ObjectStore.GetAsync"/>). An empty object cannot be asked for by
    /// range (416 InvalidRange), so that one answer is asked again whole.</remarks>
    public Task<S3Download> GetObjectAsync(string key, long offset, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var request = new GetObjectRequest { BucketName = _bucket, Key = key, ByteRange = new ByteRange($"bytes={offset}-") };
            GetObjectResponse response;
            try
            {
                response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (offset == 0 && e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                request.ByteRange = null;
                response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            }
            var head = offset > 0 ? null : new S3ObjectHead(
                TotalSize(response),
                response.ETag,
                Utc(response.LastModified),
                StorageClassName(response.StorageClass),
                UserMetadata(response.Metadata),
                response.RestoreInProgress,
                Utc(response.RestoreExpiration));
            return new S3Download(response.ResponseStream, response.ContentLength, new DownloadOwner(response), head);
        }, cancellationToken);

    public Task<string> PutObjectAsync(S3PutRequest put, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var request = new PutObjectRequest
            {
                BucketName = _bucket,
                Key = put.Key,
                InputStream = AsStream(content),
                ContentType = put.ContentType,
                StorageClass = S3StorageClass.FindValue(put.StorageClass),
                MD5Digest = Base64Md5(put.ContentMd5),
                UseChunkEncoding = false,
            };
            if (put.ServerSideEncryption is { } sse) request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(sse);
            foreach (var (name, value) in put.Metadata) request.Metadata[name] = value;
            var response = await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return response.ETag;
        }, cancellationToken);

    public Task<string> InitiateMultipartUploadAsync(S3PutRequest put, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var request = new InitiateMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = put.Key,
                ContentType = put.ContentType,
                StorageClass = S3StorageClass.FindValue(put.StorageClass),
            };
            if (put.ServerSideEncryption is { } sse) request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(sse);
            foreach (var (name, value) in put.Metadata) request.Metadata[name] = value;
            var response = await _client.InitiateMultipartUploadAsync(request, cancellationToken).ConfigureAwait(false);
            return response.UploadId;
        }, cancellationToken);

    public Task<string> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var response = await _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = partNumber,
                InputStream = AsStream(content),
                PartSize = content.Length,
                MD5Digest = Base64Md5(contentMd5),
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            return response.ETag;
        }, cancellationToken);

    public Task<IReadOnlyList<S3Part>> ListPartsAsync(string key, string uploadId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var parts = new List<S3Part>();
            string? marker = null;
            while (true)
            {
                var response = await _client.ListPartsAsync(new ListPartsRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumberMarker = marker,
                }, cancellationToken).ConfigureAwait(false);
                foreach (var part in response.Parts ?? [])
                    parts.Add(new S3Part(part.PartNumber ?? 0, part.ETag, part.Size ?? 0));
                if (response.IsTruncated != true || response.NextPartNumberMarker is not { } next) break;
                marker = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return (IReadOnlyList<S3Part>)parts;
        }, cancellationToken);

    public Task<string> CompleteMultipartUploadAsync(string key, string uploadId, IReadOnlyList<S3Part> parts, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var response = await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = parts.Select(p => new PartETag(p.PartNumber, p.ETag)).ToList(),
            }, cancellationToken).ConfigureAwait(false);
            return response.ETag;
        }, cancellationToken);

    public Task AbortMultipartUploadAsync(string key, string uploadId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public async IAsyncEnumerable<S3MultipartUpload> ListMultipartUploadsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? keyMarker = null;
        string? uploadIdMarker = null;
        while (true)
        {
            var response = await CallAsync(() => _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest
            {
                BucketName = _bucket,
                Prefix = prefix,
                KeyMarker = keyMarker,
                UploadIdMarker = uploadIdMarker,
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var upload in response.MultipartUploads ?? [])
                yield return new S3MultipartUpload(upload.Key, upload.UploadId, Utc(upload.Initiated) ?? DateTimeOffset.MinValue);
            if (response.IsTruncated != true) yield break;
            (keyMarker, uploadIdMarker) = (response.NextKeyMarker, response.NextUploadIdMarker);
        }
    }

    public Task<S3ListPage> ListObjectsAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var response = await _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = _bucket,
                Prefix = prefix,
                ContinuationToken = continuationToken,
                MaxKeys = maxKeys,
            }, cancellationToken).ConfigureAwait(false);
            var objects = (response.S3Objects ?? []).Select(o => new S3ListedObject(o.Key, o.Size ?? 0, o.ETag, Utc(o.LastModified))).ToList();
            return new S3ListPage(objects, response.IsTruncated == true ? response.NextContinuationToken : null);
        }, cancellationToken);

    public Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task RestoreObjectAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            await _client.RestoreObjectAsync(new RestoreObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                Days = days,
                Tier = tier == ArchiveRetrievalTier.Bulk ? GlacierJobTier.Bulk : GlacierJobTier.Standard,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public void Dispose() => _client.Dispose();

    /// <summary>Runs one SDK call and turns its failures into <see cref="S3ClientException"/>s. The SDK has already
    /// retried what it deems transient (MaxErrorRetry), so what arrives here is final.</summary>
    private static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (AmazonServiceException e) when (e.StatusCode != 0 && !IsConnectionFailure(e.InnerException))
        {
            throw new S3ClientException(e.ErrorCode ?? ((int)e.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), (int)e.StatusCode, e.Message, e);
        }
        catch (Exception e) when (IsConnectionFailure(e) || e is AmazonServiceException && IsConnectionFailure(e.InnerException))
        {
            throw new S3ClientException(S3ClientException.ConnectionFailed, 0, e.Message, e);
        }
        // The SDK reports an empty credential chain as a client-side exception with no code of its own.
        catch (AmazonClientException e) when (e.Message.Contains("credential", StringComparison.OrdinalIgnoreCase))
        {
            throw new S3ClientException(S3ClientException.NoCredentials, 0, e.Message, e);
        }
    }

    /// <summary>Refused, reset, unresolvable or timed out (a timeout shows as a cancellation the caller did not ask for).</summary>
    private static bool IsConnectionFailure(Exception? e) =>
        e is HttpRequestException or IOException or SocketException or TimeoutException or OperationCanceledException
        || (e?.InnerException is { } inner && IsConnectionFailure(inner));

    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var segment) && segment.Array is { } array
            ? new MemoryStream(array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>The whole object's size: the total of Content-Range ("bytes 0-99/100") for a ranged answer, else the body's length.</summary>
    private static long TotalSize(GetObjectResponse response) =>
        response.ContentRange is { } range && range.LastIndexOf('/') is var slash and > 0
            && long.TryParse(range.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var total)
            ? total
            : response.ContentLength;

    private static Dictionary<string, string> UserMetadata(MetadataCollection headers)
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in headers.Keys)
            metadata[name.StartsWith(MetadataHeaderPrefix, StringComparison.OrdinalIgnoreCase) ? name[MetadataHeaderPrefix.Length..] : name] = headers[name];
        return metadata;
    }

    private static string Base64Md5(string hex) => Convert.ToBase64String(Convert.FromHexString(hex));

    /// <summary>S3 leaves the class out for STANDARD objects.</summary>
    private static string StorageClassName(S3StorageClass? storageClass) =>
        storageClass?.Value is { Length: > 0 } value ? value : "STANDARD";

    private static DateTimeOffset? Utc(DateTime? time) =>
        time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t, DateTimeKind.Utc)) : null;

    /// <summary>Closes a GET. The SDK compares a whole body with a plain-MD5 ETag as its stream closes and throws a bare
    /// client exception on a difference; the store makes that same check itself and reports it as ChecksumMismatch,
    /// so the SDK's complaint is not let out of a Dispose.</summary>
    private sealed class DownloadOwner(GetObjectResponse response) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                response.ResponseStream.Dispose();
            }
            catch (AmazonClientException)
            {
                // See above: the store's own MD5 check reports it.
            }
            response.Dispose();
        }
    }

    private sealed class HandlerClientFactory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);
    }
}
