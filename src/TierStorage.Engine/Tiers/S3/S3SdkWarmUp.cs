using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;

namespace TierStorage.Engine.Tiers.S3;

/// <summary>
/// The AWS SDK's first request in a process costs a few hundred milliseconds of CPU: loading AWSSDK.Core and
/// AWSSDK.S3, their static set-up (endpoint rules, partitions, the pipeline's handlers, marshallers and signer) and
/// the code ReadyToRun cannot hold (generic code over the SDK's types). A command that will talk to S3 (backup,
/// restore) starts this before it opens its workspace, which keeps one core busy parsing the policy and opening the
/// catalog while the other is idle: a HEAD, a small PUT and a GET through a whole <see cref="S3ObjectStore"/> and the
/// SDK, answered in memory by a stand-in for the HTTP stack. Nothing leaves the process: no connection, no DNS, no
/// credential lookup (fixed placeholder keys), no file. Its own failures are ignored; the real requests report theirs.
/// </summary>
public static class S3SdkWarmUp
{
    private static int _started;

    /// <summary>Starts the warm-up on the thread pool, once per process; returns at once.</summary>
    public static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) return;
        _ = Task.Run(RunAsync);
    }

    /// <summary>The warm-up itself; true when all three requests went through the store and the SDK as real ones do
    /// (tests check that it does, with no network).</summary>
    internal static async Task<bool> RunAsync()
    {
        try
        {
            var options = new S3StoreOptions
            {
                TierName = "warm-up",
                Bucket = "warm-up",
                ServiceUrl = new Uri("http://warm-up.invalid/"),
                ForcePathStyle = true,
                StorageClass = "STANDARD",
                Credentials = new BasicAWSCredentials("warm-up", "warm-up"),
                MaxErrorRetry = 0,
            };
            using var handler = new InMemoryS3();
            await using var store = new S3ObjectStore(options, new AwsS3Client(options, handler));
            _ = await store.StatAsync("k", CancellationToken.None).ConfigureAwait(false);
            using (var content = new MemoryStream(InMemoryS3.Body, writable: false))
                _ = await store.PutAsync("k", content, new PutOptions { ExpectedMd5 = InMemoryS3.BodyMd5 }, CancellationToken.None).ConfigureAwait(false);
            using var read = new MemoryStream();
            await store.GetAsync("k", read, 0, null, CancellationToken.None).ConfigureAwait(false);
            return read.ToArray().AsSpan().SequenceEqual(InMemoryS3.Body);
        }
#pragma warning disable CA1031 // The warm-up only saves time; any failure of it is of no consequence.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>S3's answers to a HEAD (no such key), a PUT (its MD5 as ETag) and a GET of <see cref="Body"/>.</summary>
    private sealed class InMemoryS3 : HttpMessageHandler
    {
        public static readonly byte[] Body = "warm-up"u8.ToArray();
        public static readonly string BodyMd5 = Convert.ToHexString(MD5.HashData(Body)).ToLowerInvariant();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } sent) _ = await sent.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var response = new HttpResponseMessage(
                request.Method == HttpMethod.Head ? HttpStatusCode.NotFound
                : request.Method == HttpMethod.Get ? HttpStatusCode.PartialContent
                : HttpStatusCode.OK) { RequestMessage = request };
            response.Headers.Add("x-amz-request-id", "warm-up");
            if (request.Method == HttpMethod.Get)
            {
                response.Content = new ByteArrayContent(Body);
                response.Content.Headers.ContentRange = new System.Net.Http.Headers.ContentRangeHeaderValue(0, Body.Length - 1, Body.Length);
                response.Headers.Add("x-amz-meta-md5", BodyMd5);
            }
            else
            {
                response.Content = new ByteArrayContent([]);
            }
            if (request.Method != HttpMethod.Head) response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue($"\"{BodyMd5}\"");
            return response;
        }
    }
}
