using System.Net;
using Amazon.Runtime;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.S3;
using Xunit;

namespace TierStorage.Tests.Tiers.S3;

/// <summary>The real AWSSDK.S3 client against S3's answers played over HTTP: the x-amz-restore forms (s3rver has no
/// RestoreObject), throttling retried then unreachable, and the options and policy mapping.</summary>
public sealed class S3ProtocolTests
{
    private static readonly DateTimeOffset Expiry = new(2031, 12, 21, 0, 0, 0, TimeSpan.Zero);

    private static S3StoreOptions Options => new()
    {
        TierName = "archive",
        Bucket = "bucket",
        ServiceUrl = new Uri("http://s3.test/"),
        ForcePathStyle = true,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret-example"),
        MaxErrorRetry = 2,
    };

    [Theory]
    [InlineData(null, ArchiveRestoreState.Archived)]
    [InlineData("ongoing-request=\"true\"", ArchiveRestoreState.InProgress)]
    [InlineData("ongoing-request=\"false\", expiry-date=\"Sun, 21 Dec 2031 00:00:00 GMT\"", ArchiveRestoreState.Restored)]
    public async Task The_restore_state_is_read_from_x_amz_restore(string? header, ArchiveRestoreState expected)
    {
        var handler = new CannedHandler(_ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            response.Content.Headers.ContentLength = 1234;
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0123456789abcdef0123456789abcdef\"");
            response.Headers.Add("x-amz-storage-class", "DEEP_ARCHIVE");
            if (header is not null) response.Headers.Add("x-amz-restore", header);
            return response;
        });
        await using var store = new S3ObjectStore(Options, new AwsS3Client(Options, handler));

        var status = await store.GetRestoreStatusAsync("Phase_1.tar.gz", CancellationToken.None);

        Assert.Equal(expected, status.State);
        Assert.Equal("DEEP_ARCHIVE", status.StorageClass);
        Assert.Equal(expected == ArchiveRestoreState.Restored ? Expiry : null, status.ExpiresAt);
        Assert.Equal("HEAD", handler.Requests.Single().Method.Method);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(0)]
    public async Task A_whole_read_asks_for_the_range_from_byte_0_and_an_empty_object_whole(int length)
    {
        // Ranged, the SDK leaves the body to the store's own MD5 check instead of hashing it again in managed code.
        var content = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var md5 = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(content));
        var handler = new CannedHandler(request =>
        {
            var ranged = request.Headers.Range is not null;
            if (ranged && length == 0)
                return new HttpResponseMessage(HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    Content = new StringContent("<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>"),
                };
            var response = new HttpResponseMessage(ranged ? HttpStatusCode.PartialContent : HttpStatusCode.OK) { Content = new ByteArrayContent(content) };
            if (ranged) response.Content.Headers.ContentRange = new System.Net.Http.Headers.ContentRangeHeaderValue(0, length - 1, length);
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"" + md5 + "\"");
            response.Headers.Add("x-amz-storage-class", "STANDARD");
            return response;
        });
        await using var store = new S3ObjectStore(Options, new AwsS3Client(Options, handler));

        using var read = new MemoryStream();
        await store.GetAsync("Phase_1.tar.gz", read, 0, null, CancellationToken.None);

        Assert.Equal(content, read.ToArray());
        Assert.Equal("bytes=0-", handler.Requests[0].Headers.Range?.ToString());
        Assert.Equal(length == 0 ? 2 : 1, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("GET", r.Method.Method));
    }

    [Fact]
    public async Task Throttling_is_retried_by_the_SDK_then_reported_unreachable()
    {
        var handler = new CannedHandler(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent("<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"),
        });
        await using var store = new S3ObjectStore(Options, new AwsS3Client(Options, handler));

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.ListAsync("", CancellationToken.None).ToListAsync().AsTask());

        Assert.Equal((ErrorIds.TierUnreachable, TierErrorKind.ConnectionError), (error.ErrorId, error.Kind));
        Assert.Equal(3, handler.Requests.Count);
        Assert.DoesNotContain("secret-example", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4 * 1024 * 1024)]
    [InlineData(6L * 1024 * 1024 * 1024)]
    public void Part_sizes_outside_S3s_limits_are_refused(long partSize)
    {
        var error = Assert.Throws<ArgumentException>(() => new S3ObjectStore(Options with { PartSize = partSize }, new FakeS3Client()));

        Assert.Equal(nameof(S3StoreOptions.PartSize), error.ParamName);
    }

    [Fact]
    public void An_unknown_storage_class_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(Options with { StorageClass = "COLD" }, new FakeS3Client()));
    }

    [Fact]
    public async Task A_policy_tier_maps_onto_the_options_and_never_carries_credentials()
    {
        var tier = new TierDefinition
        {
            Name = "archive", Kind = TierKind.S3, Bucket = "my-archive", Region = "eu-west-1", Prefix = "/tierstorage/",
            Endpoint = "http://127.0.0.1:9000", ForcePathStyle = true, ServerSideEncryption = "AES256", Profile = "work",
        };

        var options = S3ObjectStore.OptionsFromTier(tier);

        Assert.Equal(("my-archive", "eu-west-1", "DEEP_ARCHIVE", true, "AES256", "work"),
            (options.Bucket, options.Region, options.StorageClass, options.ForcePathStyle, options.ServerSideEncryption, options.Profile));
        Assert.Equal(new Uri("http://127.0.0.1:9000"), options.ServiceUrl);
        Assert.Null(options.Credentials);
        await using var store = new S3ObjectStore(options with { Profile = null, Credentials = new AnonymousAWSCredentials() }, new FakeS3Client());
        Assert.Equal("http://127.0.0.1:9000 s3://my-archive/tierstorage/", store.Location);
    }

    [Fact]
    public async Task A_policy_tier_naming_an_unknown_profile_is_TierAuthRequired()
    {
        var tier = new TierDefinition { Name = "archive", Kind = TierKind.S3, Bucket = "my-archive", Region = "us-east-1", Profile = "tierstorage-no-such-profile-" + Guid.NewGuid().ToString("N") };

        var error = await Assert.ThrowsAsync<TierStorageException>(() => TierStoreFactory.CreateAsync(tier, new TierStoreContext(), CancellationToken.None));

        Assert.Equal(ErrorIds.TierAuthRequired, error.ErrorId);
        Assert.Contains(tier.Profile, error.Message, StringComparison.Ordinal);
    }

    private sealed class CannedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(answer(request));
        }
    }
}
