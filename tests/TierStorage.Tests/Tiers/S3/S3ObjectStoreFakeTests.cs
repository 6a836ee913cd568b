using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Tests.Tiers.GoogleDrive;
using Xunit;

namespace TierStorage.Tests.Tiers.S3;

/// <summary>The S3 store over an in-process S3 (<see cref="FakeS3Client"/>) for what s3rver does not implement:
/// ListParts (multipart resume), ListMultipartUploads and AbortMultipartUpload (abandoned uploads), RestoreObject and
/// x-amz-restore (the thaw), and the mapping of S3's error codes.</summary>
public sealed class S3ObjectStoreFakeTests
{
    private const int MiB = 1024 * 1024;
    private readonly FakeS3Client _s3 = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly MemoryUploadStates _states = new();

    private S3ObjectStore Store(Func<S3StoreOptions, S3StoreOptions>? adjust = null) =>
        new((adjust ?? (o => o))(new S3StoreOptions
        {
            TierName = "archive",
            Bucket = "bucket",
            Prefix = "tierstorage",
            PartSize = 5 * MiB,
            MultipartThreshold = 5 * MiB,
            // One part at a time, so the part sequences asserted below are exact; parts sent at once have their own tests.
            MaxConcurrentParts = 1,
            TimeProvider = _clock,
        }), _s3);

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Md5(byte[] bytes) => FakeS3Client.Md5(bytes);

    [Fact]
    public async Task A_multipart_upload_killed_after_one_part_resumes_in_a_new_store_without_sending_that_part_again()
    {
        var content = Bytes(12 * MiB, 1);
        var options = new PutOptions { ExpectedMd5 = Md5(content), StorageClass = "STANDARD" };
        using var kill = new CancellationTokenSource();
        await using (var first = Store())
        {
            var killed = options with { Progress = new InlineProgress(sent => { if (sent >= 5 * MiB) kill.Cancel(); }) };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.PutResumableAsync("Phase_1.tar.gz", new MemoryStream(content), killed, _states, kill.Token));
        }
        var saved = Assert.Single(_states.All);
        Assert.Equal(5 * MiB, saved.Offset);
        Assert.Equal([1], _s3.PartNumbersSent);
        var sentBefore = _s3.PartBytesSent;

        await using var second = Store();
        var put = await second.PutResumableAsync("Phase_1.tar.gz", new MemoryStream(content), options, _states, CancellationToken.None);

        Assert.Equal(7 * MiB, _s3.PartBytesSent - sentBefore);
        Assert.Equal([1, 2, 3], _s3.PartNumbersSent);
        Assert.Equal(content, _s3.Objects["tierstorage/Phase_1.tar.gz"].Bytes);
        Assert.EndsWith("-3", _s3.Objects["tierstorage/Phase_1.tar.gz"].ETag, StringComparison.Ordinal);
        Assert.Equal(Md5(content), put.Md5);
        Assert.Equal(Md5(content), (await second.StatAsync("Phase_1.tar.gz", CancellationToken.None))!.Md5);
        Assert.Empty(_states.All);
    }

    [Fact]
    public async Task Parts_sent_at_once_each_arrive_once_and_join_into_the_content()
    {
        var content = Bytes(23 * MiB, 21);
        _s3.PartDelay = TimeSpan.FromMilliseconds(100);
        await using var store = Store(o => o with { MaxConcurrentParts = 3 });

        var put = await store.PutResumableAsync("k.bin", new MemoryStream(content), new PutOptions { ExpectedMd5 = Md5(content) }, _states, CancellationToken.None);

        Assert.Equal([1, 2, 3, 4, 5], _s3.PartNumbersSent.Order());
        Assert.InRange(_s3.MaxPartsInFlight, 2, 3);
        Assert.Equal(content, _s3.Objects["tierstorage/k.bin"].Bytes);
        Assert.EndsWith("-5", _s3.Objects["tierstorage/k.bin"].ETag, StringComparison.Ordinal);
        Assert.Equal(Md5(content), put.Md5);
        Assert.Empty(_states.All);
    }

    [Fact]
    public async Task A_part_lost_while_others_are_in_flight_fails_cleanly_and_the_rerun_sends_only_what_S3_lacks()
    {
        var content = Bytes(23 * MiB, 22);
        var options = new PutOptions { ExpectedMd5 = Md5(content) };
        _s3.PartDelay = TimeSpan.FromMilliseconds(50);
        var calls = 0;
        _s3.Fault = op => op == "UploadPart" && Interlocked.Increment(ref calls) == 5
            ? new S3ClientException(S3ClientException.ConnectionFailed, 0, "connection reset (fake S3)")
            : null;
        await using (var first = Store(o => o with { MaxConcurrentParts = 3 }))
        {
            var error = await Assert.ThrowsAsync<TierStorageException>(() => first.PutResumableAsync("k.bin", new MemoryStream(content), options, _states, CancellationToken.None));
            Assert.Equal(ErrorIds.TierUnreachable, error.ErrorId);
        }
        var saved = Assert.Single(_states.All);
        var held = await _s3.ListPartsAsync("tierstorage/k.bin", saved.SessionUri, CancellationToken.None);
        Assert.InRange(held.Count, 1, 4);
        Assert.False(_s3.Objects.ContainsKey("tierstorage/k.bin"));
        _s3.Fault = null;
        _s3.PartNumbersSent.Clear();

        await using var second = Store(o => o with { MaxConcurrentParts = 3 });
        var put = await second.PutResumableAsync("k.bin", new MemoryStream(content), options, _states, CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 5).Except(held.Select(p => p.PartNumber)), _s3.PartNumbersSent.Order());
        Assert.Equal(content, _s3.Objects["tierstorage/k.bin"].Bytes);
        Assert.Equal(Md5(content), put.Md5);
        Assert.Empty(_states.All);
    }

    [Fact]
    public async Task An_upload_killed_with_parts_in_flight_resumes_to_the_exact_content()
    {
        var content = Bytes(23 * MiB, 23);
        var options = new PutOptions { ExpectedMd5 = Md5(content) };
        _s3.PartDelay = TimeSpan.FromMilliseconds(50);
        using var kill = new CancellationTokenSource();
        await using (var first = Store(o => o with { MaxConcurrentParts = 4 }))
        {
            var killed = options with { Progress = new InlineProgress(_ => kill.Cancel()) };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.PutResumableAsync("k.bin", new MemoryStream(content), killed, _states, kill.Token));
        }
        Assert.Single(_states.All);

        await using var second = Store(o => o with { MaxConcurrentParts = 4 });
        var put = await second.PutResumableAsync("k.bin", new MemoryStream(content), options, _states, CancellationToken.None);

        Assert.Equal(content, _s3.Objects["tierstorage/k.bin"].Bytes);
        Assert.Equal(Md5(content), put.Md5);
        Assert.True(_s3.PartBytesSent < 2L * content.Length, $"{_s3.PartBytesSent:N0} bytes of parts sent for {content.Length:N0} bytes");
    }

    [Fact]
    public async Task A_whole_read_is_one_GET_without_a_HEAD()
    {
        var content = Bytes(3000, 24);
        await using var store = Store();
        await store.PutAsync("k.bin", new MemoryStream(content), new PutOptions { StorageClass = "STANDARD" }, CancellationToken.None);
        var operations = new List<string>();
        _s3.Fault = op =>
        {
            operations.Add(op);
            return null;
        };

        using var read = new MemoryStream();
        await store.GetAsync("k.bin", read, 0, null, CancellationToken.None);

        Assert.Equal(["GetObject"], operations);
        Assert.Equal(content, read.ToArray());
    }

    [Fact]
    public async Task A_whole_read_of_a_frozen_object_still_says_whether_its_thaw_is_under_way()
    {
        await using var store = Store();
        await store.PutAsync("Phase_1.tar.gz", new MemoryStream(Bytes(100, 25)), new PutOptions { StorageClass = "DEEP_ARCHIVE" }, CancellationToken.None);
        await store.RequestRestoreAsync("Phase_1.tar.gz", 3, ArchiveRetrievalTier.Standard, CancellationToken.None);

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.GetAsync("Phase_1.tar.gz", new MemoryStream(), 0, null, CancellationToken.None));

        Assert.Equal(ErrorIds.RestoreInProgress, error.ErrorId);
    }

    [Fact]
    public async Task A_listed_part_that_no_longer_matches_the_local_bytes_is_sent_again()
    {
        var content = Bytes(12 * MiB, 2);
        var uploadId = await _s3.InitiateMultipartUploadAsync(new S3PutRequest("tierstorage/k.bin", "application/octet-stream", "STANDARD", null, new Dictionary<string, string>(), ""), CancellationToken.None);
        var wrong = Bytes(5 * MiB, 99);
        await _s3.UploadPartAsync("tierstorage/k.bin", uploadId, 1, wrong, Md5(wrong), CancellationToken.None);
        await _s3.UploadPartAsync("tierstorage/k.bin", uploadId, 2, content.AsMemory(5 * MiB, 5 * MiB), Md5(content[(5 * MiB)..(10 * MiB)]), CancellationToken.None);
        await _states.SaveAsync(new UploadState { Tier = "archive", Key = "k.bin", SessionUri = uploadId, Offset = 10 * MiB, TotalBytes = content.Length, ContentMd5 = Md5(content) }, CancellationToken.None);
        _s3.PartNumbersSent.Clear();

        await using var store = Store();
        await store.PutResumableAsync("k.bin", new MemoryStream(content), new PutOptions { ExpectedMd5 = Md5(content) }, _states, CancellationToken.None);

        Assert.Equal([1, 3], _s3.PartNumbersSent);
        Assert.Equal(content, _s3.Objects["tierstorage/k.bin"].Bytes);
    }

    [Fact]
    public async Task A_stale_upload_id_restarts_the_upload()
    {
        var content = Bytes(11 * MiB, 3);
        await _states.SaveAsync(new UploadState { Tier = "archive", Key = "k.bin", SessionUri = "gone", Offset = 5 * MiB, TotalBytes = content.Length, ContentMd5 = Md5(content) }, CancellationToken.None);

        await using var store = Store();
        var put = await store.PutResumableAsync("k.bin", new MemoryStream(content), new PutOptions { ExpectedMd5 = Md5(content) }, _states, CancellationToken.None);

        Assert.Equal([1, 2, 3], _s3.PartNumbersSent);
        Assert.Equal(Md5(content), put.Md5);
        Assert.Empty(_states.All);
    }

    [Fact]
    public async Task An_upload_aborted_mid_way_by_someone_else_starts_over()
    {
        var content = Bytes(11 * MiB, 4);
        var aborted = false;
        _s3.Fault = operation =>
        {
            if (operation != "UploadPart" || aborted || _s3.PartNumbersSent.Count != 1) return null;
            aborted = true;
            return FakeS3Client.Error("NoSuchUpload", 404);
        };

        await using var store = Store();
        await store.PutResumableAsync("k.bin", new MemoryStream(content), new PutOptions { ExpectedMd5 = Md5(content) }, _states, CancellationToken.None);

        Assert.Equal([1, 1, 2, 3], _s3.PartNumbersSent);
        Assert.Equal(content, _s3.Objects["tierstorage/k.bin"].Bytes);
    }

    [Fact]
    public async Task Saved_state_for_different_content_aborts_its_upload_and_starts_afresh()
    {
        var old = _s3.StartForgottenUpload("tierstorage/k.bin", _clock.GetUtcNow());
        var content = Bytes(6 * MiB, 5);
        await _states.SaveAsync(new UploadState { Tier = "archive", Key = "k.bin", SessionUri = old, TotalBytes = content.Length, ContentMd5 = new string('0', 32) }, CancellationToken.None);

        await using var store = Store();
        await store.PutResumableAsync("k.bin", new MemoryStream(content), new PutOptions { ExpectedMd5 = Md5(content) }, _states, CancellationToken.None);

        Assert.Equal([old], _s3.AbortedUploads);
        Assert.Equal(content, _s3.Objects["tierstorage/k.bin"].Bytes);
    }

    [Fact]
    public async Task Abandoned_uploads_older_than_the_threshold_are_aborted_unless_a_saved_state_refers_to_them()
    {
        var now = _clock.GetUtcNow();
        var abandoned = _s3.StartForgottenUpload("tierstorage/a.bin", now.AddDays(-3));
        var resumable = _s3.StartForgottenUpload("tierstorage/b.bin", now.AddDays(-3));
        var young = _s3.StartForgottenUpload("tierstorage/c.bin", now.AddHours(-1));
        var otherPrefix = _s3.StartForgottenUpload("elsewhere/d.bin", now.AddDays(-3));
        await _states.SaveAsync(new UploadState { Tier = "archive", Key = "b.bin", SessionUri = resumable }, CancellationToken.None);

        await using var store = Store();
        var count = await store.AbortAbandonedUploadsAsync(TimeSpan.FromDays(1), _states, CancellationToken.None);

        Assert.Equal(1, count);
        Assert.Equal([abandoned], _s3.AbortedUploads);
        Assert.Equal(new[] { resumable, young, otherPrefix }.Order(), _s3.UploadIds.Order());
    }

    [Fact]
    public async Task The_thaw_goes_from_archived_through_in_progress_to_restored_and_lapses_at_its_expiry()
    {
        await using var store = Store();
        var content = Bytes(1000, 6);
        await store.PutAsync("Phase_1.tar.gz", new MemoryStream(content), null, CancellationToken.None);
        async Task<TierStorageException> ReadFails() =>
            await Assert.ThrowsAsync<TierStorageException>(() => store.GetAsync("Phase_1.tar.gz", Stream.Null, 0, null, CancellationToken.None));

        Assert.Equal(ArchiveRestoreState.Archived, (await store.GetRestoreStatusAsync("Phase_1.tar.gz", CancellationToken.None)).State);
        Assert.Equal(ErrorIds.ArchiveNotRestored, (await ReadFails()).ErrorId);

        var requested = await store.RequestRestoreAsync("Phase_1.tar.gz", 7, ArchiveRetrievalTier.Bulk, CancellationToken.None);
        var again = await store.RequestRestoreAsync("Phase_1.tar.gz", 7, ArchiveRetrievalTier.Bulk, CancellationToken.None);

        Assert.Equal(ArchiveRestoreState.InProgress, requested.State);
        Assert.Equal(ArchiveRestoreState.InProgress, again.State);
        Assert.Equal([("tierstorage/Phase_1.tar.gz", 7, ArchiveRetrievalTier.Bulk)], _s3.RestoreRequests);
        Assert.Equal(ErrorIds.RestoreInProgress, (await ReadFails()).ErrorId);

        var expiry = _clock.GetUtcNow().AddDays(7);
        _s3.FinishRestore("tierstorage/Phase_1.tar.gz", expiry);
        var restored = await store.GetRestoreStatusAsync("Phase_1.tar.gz", CancellationToken.None);
        using var destination = new MemoryStream();
        await store.GetAsync("Phase_1.tar.gz", destination, 0, null, CancellationToken.None);

        Assert.Equal((ArchiveRestoreState.Restored, (DateTimeOffset?)expiry, true), (restored.State, restored.ExpiresAt, restored.IsReadable));
        Assert.Equal(content, destination.ToArray());

        _clock.Now = expiry.AddMinutes(1);
        Assert.Equal(ArchiveRestoreState.Archived, (await store.GetRestoreStatusAsync("Phase_1.tar.gz", CancellationToken.None)).State);
    }

    [Fact]
    public async Task A_restore_is_not_requested_for_readable_objects_nor_twice_when_another_process_asked_first()
    {
        await using var store = Store();
        await store.PutAsync("metadata/m.json", new MemoryStream(Bytes(10, 7)), new PutOptions { StorageClass = "STANDARD" }, CancellationToken.None);
        await store.PutAsync("Phase_2.tar.gz", new MemoryStream(Bytes(10, 8)), null, CancellationToken.None);
        _s3.Objects["tierstorage/Phase_2.tar.gz"].RestoreOngoing = null;
        var raced = false;
        _s3.Fault = op => op == "RestoreObject" && !raced && (raced = true) ? FakeS3Client.Error("RestoreAlreadyInProgress", 409) : null;

        var manifest = await store.RequestRestoreAsync("metadata/m.json", 3, ArchiveRetrievalTier.Standard, CancellationToken.None);
        var archive = await store.RequestRestoreAsync("Phase_2.tar.gz", 3, ArchiveRetrievalTier.Standard, CancellationToken.None);

        Assert.Equal(ArchiveRestoreState.NotArchived, manifest.State);
        Assert.Equal(ArchiveRestoreState.InProgress, archive.State);
        Assert.Empty(_s3.RestoreRequests);
        var missing = await Assert.ThrowsAsync<TierStorageException>(() => store.GetRestoreStatusAsync("nope", CancellationToken.None));
        Assert.Equal(ErrorIds.ObjectNotFound, missing.ErrorId);
    }

    [Theory]
    [InlineData(S3ClientException.ConnectionFailed, 0, ErrorIds.TierUnreachable, TierErrorKind.ConnectionError)]
    [InlineData("SlowDown", 503, ErrorIds.TierUnreachable, TierErrorKind.ConnectionError)]
    [InlineData("InternalError", 500, ErrorIds.TierUnreachable, TierErrorKind.ConnectionError)]
    [InlineData("NoSuchBucket", 404, ErrorIds.TierUnreachable, TierErrorKind.ResourceUnavailable)]
    [InlineData("AccessDenied", 403, ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied)]
    [InlineData("InvalidAccessKeyId", 403, ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied)]
    [InlineData("SignatureDoesNotMatch", 403, ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied)]
    [InlineData("ExpiredToken", 400, ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied)]
    [InlineData(S3ClientException.NoCredentials, 0, ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied)]
    [InlineData("InvalidObjectState", 403, ErrorIds.ArchiveNotRestored, TierErrorKind.ResourceUnavailable)]
    [InlineData("BadDigest", 400, ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData)]
    [InlineData("EntityTooLarge", 400, ErrorIds.TierRequestFailed, TierErrorKind.InvalidOperation)]
    public async Task S3_errors_map_to_tier_errors(string code, int status, string errorId, TierErrorKind kind)
    {
        _s3.Fault = _ => FakeS3Client.Error(code, status);
        await using var store = Store();

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.StatAsync("k.bin", CancellationToken.None));

        Assert.Equal((errorId, kind), (error.ErrorId, error.Kind));
        Assert.Contains("'archive'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Content_that_differs_from_the_callers_md5_is_not_stored()
    {
        await using var store = Store();

        var error = await Assert.ThrowsAsync<TierStorageException>(() =>
            store.PutAsync("k.bin", new MemoryStream(Bytes(10, 9)), new PutOptions { ExpectedMd5 = new string('a', 32) }, CancellationToken.None));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
        Assert.Empty(_s3.Objects);
    }

    [Fact]
    public async Task A_put_answered_with_another_ETag_fails_verification()
    {
        // A server that stored other bytes than were sent: the ETag it answers the put with tells.
        _s3.AnsweredETag = _ => "\"" + new string('b', 32) + "\"";
        await using var store = Store();

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.PutAsync("k.bin", new MemoryStream(Bytes(100, 10)), null, CancellationToken.None));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
    }

    [Fact]
    public async Task A_multipart_completion_answered_with_another_ETag_fails_verification()
    {
        _s3.AnsweredETag = etag => etag.Contains('-', StringComparison.Ordinal) ? "\"" + new string('c', 32) + "-3\"" : "\"" + etag + "\"";
        await using var store = Store();

        var error = await Assert.ThrowsAsync<TierStorageException>(() =>
            store.PutAsync("big.bin", new MemoryStream(Bytes(11 * (int)S3StoreOptions.MiB, 11)), null, CancellationToken.None));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
    }

    [Fact]
    public async Task A_put_verified_by_its_answer_needs_no_HEAD()
    {
        var operations = new List<string>();
        _s3.Fault = op =>
        {
            operations.Add(op);
            return null;
        };
        await using var store = Store();

        var info = await store.PutAsync("k.bin", new MemoryStream(Bytes(100, 12)), null, CancellationToken.None);

        Assert.Equal(["PutObject"], operations);
        Assert.Equal((100L, Md5(Bytes(100, 12))), (info.Size, info.Md5));
    }

    [Fact]
    public async Task An_answer_without_an_ETag_is_verified_by_a_HEAD_that_catches_other_bytes()
    {
        // No checksum in the answer (as from a proxy that drops the header): the HEAD afterwards must tell.
        _s3.AnsweredETag = _ => null;
        _s3.Fault = op =>
        {
            if (op == "HeadObject" && _s3.Objects.TryGetValue("tierstorage/k.bin", out var stored)) stored.ETag = new string('b', 32);
            return null;
        };
        await using var store = Store();

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.PutAsync("k.bin", new MemoryStream(Bytes(100, 10)), null, CancellationToken.None));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/../b")]
    [InlineData("a\\b")]
    public async Task Invalid_keys_are_refused(string key)
    {
        await using var store = Store();

        var error = await Assert.ThrowsAsync<TierStorageException>(() => store.StatAsync(key, CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidArgument, error.ErrorId);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
