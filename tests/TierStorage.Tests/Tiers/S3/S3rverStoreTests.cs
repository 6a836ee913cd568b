using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Amazon.Runtime;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Tests.Tiers.GoogleDrive;
using Xunit;

namespace TierStorage.Tests.Tiers.S3;

/// <summary>The S3 store against a real S3-compatible server (s3rver), through AWSSDK.S3.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3rverStoreTests(S3rverFixture server)
{
    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Md5(byte[] bytes) => Convert.ToHexString(MD5.HashData(bytes)).ToLowerInvariant();

    private static string NewPrefix() => "t-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Readable classes for round trips; the archive default is tested on its own.</summary>
    private S3ObjectStore Store(string prefix, Func<S3StoreOptions, S3StoreOptions>? adjust = null) =>
        new((adjust ?? (o => o))(server.Options(prefix) with { StorageClass = "STANDARD" }));

    private static async Task<byte[]> GetAsync(IObjectStore store, string key, long offset = 0)
    {
        using var destination = new MemoryStream();
        await store.GetAsync(key, destination, offset, null, CancellationToken.None);
        return destination.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(12 * 1024 * 1024)]
    public async Task Put_get_stat_round_trip_is_byte_identical_single_part_and_multipart(int length)
    {
        await using var store = Store(NewPrefix());
        var content = Bytes(length, length);
        var md5 = Md5(content);

        var put = await store.PutAsync("Phase_1_setup.tar.gz", new MemoryStream(content), new PutOptions { ExpectedMd5 = md5 }, CancellationToken.None);
        var stat = await store.StatAsync("Phase_1_setup.tar.gz", CancellationToken.None);

        Assert.Equal(length, put.Size);
        Assert.Equal(md5, put.Md5);
        Assert.Equal(length, stat!.Size);
        Assert.Equal(md5, stat.Md5);
        Assert.Equal(content, await GetAsync(store, "Phase_1_setup.tar.gz"));
        Assert.Equal(content[(length / 3)..], await GetAsync(store, "Phase_1_setup.tar.gz", length / 3));
    }

    [Fact]
    public async Task A_client_prepared_while_the_workspace_opens_is_taken_by_the_next_store_of_that_bucket_and_endpoint_only()
    {
        // Credentials of this test's own: a store of another test (the fixture's credentials) can never take this client.
        var options = server.Options("") with { StorageClass = "STANDARD", Credentials = new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey) };
        var prefix = NewPrefix();
        S3ObjectStore.Prepare(options);

        // Another endpoint (or bucket, profile, credentials) is another client: this store makes its own.
        await using (var other = new S3ObjectStore(options with { ServiceUrl = new Uri("http://127.0.0.1:9/"), Prefix = prefix }))
            Assert.False(other.UsesPreparedClient);
        await using (var store = new S3ObjectStore(options with { Prefix = prefix + "/workspace-namespace" }))
        {
            Assert.True(store.UsesPreparedClient);
            var bytes = Bytes(70_000, 7);
            await store.PutAsync("a.bin", new MemoryStream(bytes), new PutOptions { ExpectedMd5 = Md5(bytes) }, CancellationToken.None);
            Assert.Equal(bytes, await GetAsync(store, "a.bin"));
            Assert.True(File.Exists(server.ObjectFile(prefix + "/workspace-namespace/a.bin")));
        }
        // One store takes it: the next makes its own.
        await using (var again = new S3ObjectStore(options with { Prefix = prefix }))
            Assert.False(again.UsesPreparedClient);
    }

    [Fact]
    public async Task A_prepared_client_that_cannot_be_made_leaves_the_error_to_the_store()
    {
        var options = server.Options(NewPrefix()) with { Profile = "no-such-profile-" + Guid.NewGuid().ToString("N")[..6], Credentials = null };
        S3ObjectStore.Prepare(options);

        var error = Assert.Throws<TierStorageException>(() => new S3ObjectStore(options));
        Assert.Equal(ErrorIds.TierAuthRequired, error.ErrorId);
        Assert.Contains("no-such-profile", error.Message, StringComparison.Ordinal);
        // The failed preparation is used up: a later one can start.
        var good = server.Options(NewPrefix()) with { Credentials = new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey) };
        S3ObjectStore.Prepare(good);
        await using var store = new S3ObjectStore(good);
        Assert.True(store.UsesPreparedClient);
    }

    [Fact]
    public async Task A_forward_only_stream_above_the_threshold_goes_multipart()
    {
        var prefix = NewPrefix();
        var counting = new CountingS3Client(new AwsS3Client(server.Options(prefix)));
        await using var store = new S3ObjectStore(server.Options(prefix) with { StorageClass = "STANDARD" }, counting);
        var content = Bytes(11 * 1024 * 1024, 7);

        var put = await store.PutAsync("big.bin", new ForwardOnlyStream(content), null, CancellationToken.None);

        Assert.Equal(3, counting.PartsSent);
        Assert.Equal(Md5(content), put.Md5);
        Assert.Equal(content, await GetAsync(store, "big.bin"));
    }

    [Fact]
    public async Task List_pages_through_small_pages_with_keys_relative_to_the_prefix_and_isolated_from_other_prefixes()
    {
        var prefix = NewPrefix();
        await using var store = Store(prefix + "/archive", o => o with { ListPageSize = 2 });
        await using var neighbour = Store(prefix + "/archive-other");
        var keys = new[] { "Phase_0_a.tar.gz", "Phase_1_b.tar.gz", "metadata/Phase_0_a_manifest.json", "metadata/Phase_1_b_manifest.json", "z.bin" };
        foreach (var key in keys) await store.PutAsync(key, new MemoryStream(Bytes(10, key.Length)), null, CancellationToken.None);
        await neighbour.PutAsync("Phase_9_x.tar.gz", new MemoryStream(Bytes(10, 1)), null, CancellationToken.None);

        var all = await store.ListAsync("", CancellationToken.None).ToListAsync();
        var metadata = await store.ListAsync("metadata/", CancellationToken.None).Select(i => i.Key).ToListAsync();

        Assert.Equal(keys.Order(StringComparer.Ordinal), all.Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.All(all, i => Assert.Equal(10, i.Size));
        Assert.All(all, i => Assert.NotNull(i.Md5));
        Assert.Equal(["metadata/Phase_0_a_manifest.json", "metadata/Phase_1_b_manifest.json"], metadata.Order(StringComparer.Ordinal));
        Assert.Null(await neighbour.StatAsync("Phase_0_a.tar.gz", CancellationToken.None));
        Assert.Equal(["Phase_9_x.tar.gz"], await neighbour.ListAsync("", CancellationToken.None).Select(i => i.Key).ToListAsync());
    }

    [Fact]
    public async Task Delete_reports_whether_the_object_existed()
    {
        await using var store = Store(NewPrefix());
        await store.PutAsync("a/b.bin", new MemoryStream(Bytes(5, 5)), null, CancellationToken.None);

        Assert.True(await store.DeleteAsync("a/b.bin", CancellationToken.None));
        Assert.False(await store.DeleteAsync("a/b.bin", CancellationToken.None));
        Assert.Null(await store.StatAsync("a/b.bin", CancellationToken.None));
        var missing = await Assert.ThrowsAsync<TierStorageException>(() => GetAsync(store, "a/b.bin"));
        Assert.Equal(ErrorIds.ObjectNotFound, missing.ErrorId);
    }

    [Fact]
    public async Task A_multipart_upload_killed_part_way_finishes_in_a_new_store_instance()
    {
        // s3rver cannot list parts, so the new process starts the upload afresh; the part-skipping resume is
        // pinned against the fake client in S3ObjectStoreFakeTests.
        var prefix = NewPrefix();
        var states = new MemoryUploadStates();
        var content = Bytes(12 * 1024 * 1024, 12);
        var options = new PutOptions { ExpectedMd5 = Md5(content) };
        using var kill = new CancellationTokenSource();
        await using (var first = Store(prefix))
        {
            var killed = options with { Progress = new InlineProgress(sent => { if (sent >= 5 * 1024 * 1024) kill.Cancel(); }) };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.PutResumableAsync("Phase_2.tar.gz", new MemoryStream(content), killed, states, kill.Token));
        }
        Assert.Single(states.All);

        await using var second = Store(prefix);
        var put = await second.PutResumableAsync("Phase_2.tar.gz", new MemoryStream(content), options, states, CancellationToken.None);

        Assert.Equal(Md5(content), put.Md5);
        Assert.Empty(states.All);
        Assert.Equal(content, await GetAsync(second, "Phase_2.tar.gz"));
    }

    [Fact]
    public async Task A_download_whose_connection_drops_mid_body_resumes_and_is_byte_identical()
    {
        var prefix = NewPrefix();
        var content = Bytes(3 * 1024 * 1024, 31);
        await using (var writer = Store(prefix))
            await writer.PutAsync("Phase_6.tar.gz", new MemoryStream(content), null, CancellationToken.None);
        // The first GET's body is cut after 1 MiB, as by a reset connection; the store asks again from there (Range).
        using var lossy = new LossyHandler(request => request.Method == HttpMethod.Get && request.Headers.Range?.ToString() == "bytes=0-" ? 1024 * 1024 : null, null);
        var options = server.Options(prefix) with { StorageClass = "STANDARD" };
        await using var store = new S3ObjectStore(options, new AwsS3Client(options, lossy));

        Assert.Equal(content, await GetAsync(store, "Phase_6.tar.gz"));
        Assert.Equal(1, lossy.BodiesCut);
        Assert.Contains(lossy.Requests, r => r.Method == HttpMethod.Get && r.Range == "bytes=1048576-");
    }

    [Fact]
    public async Task A_part_whose_connection_is_lost_fails_the_upload_cleanly_and_a_rerun_finishes_it()
    {
        var prefix = NewPrefix();
        var states = new MemoryUploadStates();
        var content = Bytes(16 * 1024 * 1024, 32);
        var options = new PutOptions { ExpectedMd5 = Md5(content) };
        // Every attempt at part 2 loses its connection (the SDK's retries included) while parts 1, 3 and 4 go up beside it.
        using var lossy = new LossyHandler(null, request => request.RequestUri!.Query.Contains("partNumber=2", StringComparison.Ordinal));
        var lossyOptions = server.Options(prefix) with { StorageClass = "STANDARD", MaxConcurrentParts = 4 };
        await using (var first = new S3ObjectStore(lossyOptions, new AwsS3Client(lossyOptions, lossy)))
        {
            var error = await Assert.ThrowsAsync<TierStorageException>(() => first.PutResumableAsync("Phase_7.tar.gz", new MemoryStream(content), options, states, CancellationToken.None));
            Assert.Equal(ErrorIds.TierUnreachable, error.ErrorId);
            Assert.Null(await first.StatAsync("Phase_7.tar.gz", CancellationToken.None));
        }
        Assert.Single(states.All);

        await using var second = Store(prefix, o => o with { MaxConcurrentParts = 4 });
        var put = await second.PutResumableAsync("Phase_7.tar.gz", new MemoryStream(content), options, states, CancellationToken.None);

        Assert.Equal(Md5(content), put.Md5);
        Assert.Empty(states.All);
        Assert.Equal(content, await GetAsync(second, "Phase_7.tar.gz"));
    }

    /// <summary>The real HTTP stack with losses: <c>cutBodyAfter</c> gives the bytes after which a response's body breaks
    /// (null: whole), <c>refuse</c> which requests lose their connection before any answer.</summary>
    private sealed class LossyHandler(Func<HttpRequestMessage, int?>? cutBodyAfter, Func<HttpRequestMessage, bool>? refuse)
        : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _bodiesCut;
        public int BodiesCut => Volatile.Read(ref _bodiesCut);
        public System.Collections.Concurrent.ConcurrentQueue<(HttpMethod Method, string? Range)> Requests { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Enqueue((request.Method, request.Headers.Range?.ToString()));
            if (refuse?.Invoke(request) == true) throw new HttpRequestException("Connection reset by peer (test)", new IOException("reset"));
            var response = await base.SendAsync(request, cancellationToken);
            if (cutBodyAfter?.Invoke(request) is not { } limit) return response;
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var cut = new StreamContent(new CutStream(body, limit, () => Interlocked.Increment(ref _bodiesCut)));
            foreach (var header in response.Content.Headers) cut.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = cut;
            return response;
        }
    }

    private sealed class CutStream(Stream inner, long limit, Action onCut) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= limit)
            {
                onCut();
                throw new IOException("The connection was reset (test).");
            }
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, limit - _read)], cancellationToken);
            _read += read;
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    [Fact]
    public async Task An_object_damaged_behind_the_stores_back_fails_its_download_with_ChecksumMismatch()
    {
        var prefix = NewPrefix();
        await using var store = Store(prefix);
        var content = Bytes(4096, 3);
        await store.PutAsync("Phase_3.tar.gz", new MemoryStream(content), null, CancellationToken.None);
        var damaged = (byte[])content.Clone();
        damaged[100] ^= 0xFF;
        await File.WriteAllBytesAsync(server.ObjectFile(prefix + "/Phase_3.tar.gz"), damaged);

        var error = await Assert.ThrowsAsync<TierStorageException>(() => GetAsync(store, "Phase_3.tar.gz"));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
    }

    [Fact]
    public async Task An_object_replaced_behind_the_stores_back_reports_the_new_md5()
    {
        var prefix = NewPrefix();
        await using var store = Store(prefix);
        var original = Bytes(4096, 4);
        await store.PutAsync("Phase_4.tar.gz", new MemoryStream(original), null, CancellationToken.None);
        var replacement = Bytes(4096, 44);
        // Another writer keeps our metadata but not our bytes: S3's own ETag tells.
        using (var other = new AwsS3Client(server.Options(prefix)))
            await other.PutObjectAsync(new S3PutRequest(prefix + "/Phase_4.tar.gz", "application/octet-stream", "STANDARD", null,
                new Dictionary<string, string> { ["md5"] = Md5(original) }, Md5(replacement)), replacement, CancellationToken.None);

        var stat = await store.StatAsync("Phase_4.tar.gz", CancellationToken.None);

        Assert.Equal(Md5(replacement), stat!.Md5);
        Assert.NotEqual(Md5(original), stat.Md5);
    }

    [Fact]
    public async Task Archive_class_objects_need_a_restore_and_manifests_can_go_standard()
    {
        await using var store = new S3ObjectStore(server.Options(NewPrefix()));
        await store.PutAsync("Phase_5.tar.gz", new MemoryStream(Bytes(100, 5)), null, CancellationToken.None);
        await store.PutAsync("metadata/Phase_5_manifest.json", new MemoryStream(Bytes(100, 6)), new PutOptions { StorageClass = "STANDARD" }, CancellationToken.None);

        var archive = await store.GetRestoreStatusAsync("Phase_5.tar.gz", CancellationToken.None);
        var manifest = await store.GetRestoreStatusAsync("metadata/Phase_5_manifest.json", CancellationToken.None);
        var error = await Assert.ThrowsAsync<TierStorageException>(() => GetAsync(store, "Phase_5.tar.gz"));

        Assert.Equal((ArchiveRestoreState.Archived, "DEEP_ARCHIVE"), (archive.State, archive.StorageClass));
        Assert.Equal(ArchiveRestoreState.NotArchived, manifest.State);
        Assert.Equal(ErrorIds.ArchiveNotRestored, error.ErrorId);
        Assert.Contains("restore", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(100, (await GetAsync(store, "metadata/Phase_5_manifest.json")).Length);
    }

    [Fact]
    public async Task Unknown_credentials_are_TierAuthRequired_and_never_quoted()
    {
        const string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        await using var store = new S3ObjectStore(server.Options(NewPrefix()) with { Credentials = new BasicAWSCredentials("AKIAIOSFODNN7EXAMPLE", secret) });

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.PutAsync("x.bin", new MemoryStream(Bytes(10, 1)), null, CancellationToken.None));

        Assert.Equal(ErrorIds.TierAuthRequired, error.ErrorId);
        Assert.Contains("InvalidAccessKeyId", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIAIOSFODNN7EXAMPLE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_down_is_TierUnreachable_quickly()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var store = Store(NewPrefix(), o => o with { ServiceUrl = new Uri($"http://127.0.0.1:{port}/") });
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.StatAsync("x.bin", CancellationToken.None));

        Assert.Equal(ErrorIds.TierUnreachable, error.ErrorId);
        Assert.Equal(TierErrorKind.ConnectionError, error.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_missing_bucket_is_reported_as_such()
    {
        await using var store = Store(NewPrefix(), o => o with { Bucket = "no-such-bucket-here" });

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.ListAsync("", CancellationToken.None).ToListAsync().AsTask());

        Assert.Equal(ErrorIds.TierUnreachable, error.ErrorId);
        Assert.Equal(TierErrorKind.ResourceUnavailable, error.Kind);
        Assert.Contains("no-such-bucket-here", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A stream that can only be read forward, like a tar.gz being produced.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
