using Amazon.Runtime;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Tests.Tiers.S3;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Backup-Session and Restore-Session with an S3 backup tier on a real S3-compatible server (s3rver): uploads
/// verified from S3's answers, parts sent at once, downloads several at once and checksummed as they are written.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3SessionBackupTests(S3rverFixture server)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<(BackupTestBed Bed, string Prefix)> BedAsync(Func<IS3Client, S3StoreOptions, IS3Client>? wrapClient = null)
    {
        var prefix = "sess-" + Guid.NewGuid().ToString("N")[..8];
        var bed = await CreateAsync(tierYaml: $"""
            {server.TierYaml(BackupTier, 2, prefix)}
                capacity: unlimited
                price_per_gb_month: 0
            """);
        bed.StoreFactory = (tier, context, ct) =>
        {
            var options = S3ObjectStore.OptionsFromTier(tier) with
            {
                Credentials = new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey),
                MaxErrorRetry = 1,
                RequestTimeout = TimeSpan.FromSeconds(30),
                TimeProvider = bed.Time,
                PartSize = 5 * S3StoreOptions.MiB,
                MultipartThreshold = 5 * S3StoreOptions.MiB,
            };
            return Task.FromResult<IObjectStore>(wrapClient is null ? new S3ObjectStore(options) : new S3ObjectStore(options, wrapClient(new AwsS3Client(options), options)));
        };
        return (bed, prefix);
    }

    [Fact]
    public async Task A_session_backed_up_to_s3_in_parts_sent_at_once_restores_byte_identical()
    {
        var (bed, _) = await BedAsync();
        await using var _bed = bed;
        var ws = await bed.OpenAsync();
        // Random payloads: a log of about 11 MB that stays above 5 MiB compressed, so it goes up in parts.
        var id = await bed.CompletedSessionAsync(ws, events: 2500, snapshots: 3, randomBytesPerEvent: 3000, seed: 7);
        var local = await bed.LocalFilesAsync(ws, id);
        var log = (await SessionAsync(ws, id)).LogPath!;

        var backup = Assert.Single(await BackupAsync(ws, id));
        Assert.True(backup.Verified);
        Assert.Contains(backup.Files, f => f.Name == SessionPackager.ActivityFileName && f.SizeBytes > 5 * S3StoreOptions.MiB);

        var destination = Path.Combine(bed.Root, "restored");
        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None);

        Assert.True(restored.Verified);
        Assert.Equal(local[log], await File.ReadAllBytesAsync(Path.Combine(destination, SessionPackager.ActivityEntryName)));
        foreach (var snapshot in local.Keys.Where(p => p.EndsWith(".json.gz", StringComparison.Ordinal)))
            Assert.Equal(local[snapshot], await File.ReadAllBytesAsync(Path.Combine(destination, "snapshots", Path.GetFileName(snapshot))));
        Assert.Equal(backup.Files.Where(f => f.Name != SessionManifest.FileName).Sum(f => f.SizeBytes), restored.BytesReceived);
    }

    [Fact]
    public async Task A_package_file_damaged_on_s3_fails_the_restore_before_anything_is_unpacked()
    {
        var (bed, prefix) = await BedAsync();
        await using var _bed = bed;
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 200, snapshots: 3);
        var backup = Assert.Single(await BackupAsync(ws, id));
        var snapshots = backup.Files.Single(f => f.Name == SessionPackager.SnapshotsFileName);
        var stored = server.ObjectFile(prefix + "/" + snapshots.Key);
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(stored, bytes);

        var destination = Path.Combine(bed.Root, "restored");
        var error = await Assert.ThrowsAsync<TierStorageException>(() =>
            ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
        Assert.False(Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any(), "nothing is unpacked");
        Assert.False(File.Exists(Path.Combine(bed.Layout.StagingDirectory, "restore-" + id, SessionPackager.SnapshotsFileName)), "the bad download is discarded");
    }

    [Fact]
    public async Task Files_go_up_at_once_and_one_refused_fails_the_backup_while_the_others_stay_verified_for_the_rerun()
    {
        // The snapshots' put is refused (BadDigest), but only once another file's put is under way: uploads run at once.
        var faults = new Faults { FailPutOf = SessionPackager.SnapshotsFileName };
        var (bed, _) = await BedAsync((inner, _) => new FaultingS3Client(inner, faults));
        await using var _bed = bed;
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 2500, snapshots: 3, randomBytesPerEvent: 3000, seed: 11);
        var local = await bed.LocalFilesAsync(ws, id);

        var error = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(ws, id));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
        Assert.True(faults.MaxPutsAtOnce >= 2, $"puts overlapped: {faults.MaxPutsAtOnce}");
        var recorded = await ObjectsAsync(ws, id);
        Assert.DoesNotContain(recorded, o => o.Key.EndsWith(SessionManifest.FileName, StringComparison.Ordinal));
        Assert.DoesNotContain(recorded, o => o.Key.EndsWith(SessionPackager.SnapshotsFileName, StringComparison.Ordinal));
        Assert.All(recorded, o => Assert.NotNull(o.VerifiedAt));

        // The rerun sends only what the tier does not hold verified; the restore gives the same bytes back.
        faults.FailPutOf = null;
        var rerun = Assert.Single(await BackupAsync(ws, id));
        Assert.Equal(BackupStatus.Succeeded, rerun.Status);
        Assert.All(rerun.Files.Where(f => recorded.Any(o => o.Key == f.Key)), f => Assert.False(f.Transferred, f.Name));
        Assert.True(rerun.Files.Single(f => f.Name == SessionPackager.SnapshotsFileName).Transferred);
        var destination = Path.Combine(bed.Root, "restored");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None);
        Assert.Equal(local[(await SessionAsync(ws, id)).LogPath!], await File.ReadAllBytesAsync(Path.Combine(destination, SessionPackager.ActivityEntryName)));
    }

    [Fact]
    public async Task A_backup_cancelled_while_files_and_parts_go_up_at_once_leaves_a_consistent_upload_state_and_the_rerun_converges()
    {
        using var cancel = new CancellationTokenSource();
        var faults = new Faults { AfterPart = cancel.Cancel };
        var (bed, _) = await BedAsync((inner, _) => new FaultingS3Client(inner, faults));
        await using var _bed = bed;
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 2500, snapshots: 3, randomBytesPerEvent: 3000, seed: 13);
        var local = await bed.LocalFilesAsync(ws, id);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ToListAsync(ws.Backups.BackupAsync(new BackupRequest { SessionIds = [id] }, null, cancel.Token)));

        // What the catalog saved of the multipart upload names an upload this backup started, and its offset claims no
        // more than the parts S3 acknowledged (s3rver cannot list parts: a rerun starts that file's upload afresh).
        var states = await UploadStatesAsync(ws);
        Assert.NotEmpty(states);
        foreach (var (key, uploadId, offset) in states)
        {
            Assert.True(faults.KeyOfUpload.ContainsKey(uploadId), $"'{key}' names upload {uploadId}, which was never started");
            var acknowledged = faults.PartBytes.GetValueOrDefault(uploadId);
            Assert.True(offset <= acknowledged, $"S3 acknowledged {acknowledged} bytes of '{key}', the saved offset is {offset}");
        }
        Assert.DoesNotContain(await ObjectsAsync(ws, id), o => o.Key.EndsWith(SessionManifest.FileName, StringComparison.Ordinal));

        faults.AfterPart = null;
        var rerun = Assert.Single(await BackupAsync(ws, id));
        Assert.True(rerun.Verified);
        Assert.Empty(await UploadStatesAsync(ws));
        var destination = Path.Combine(bed.Root, "restored");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None);
        Assert.Equal(local[(await SessionAsync(ws, id)).LogPath!], await File.ReadAllBytesAsync(Path.Combine(destination, SessionPackager.ActivityEntryName)));
    }

    private static async Task<List<(string Key, string UploadId, long Offset)>> UploadStatesAsync(TierStorage.Engine.Workspace.TierWorkspace ws)
    {
        await using var command = ws.Catalog.Connection.CreateCommand();
        command.CommandText = "SELECT key, session_uri, offset_bytes FROM upload_states";
        await using var reader = await command.ExecuteReaderAsync(None);
        var states = new List<(string, string, long)>();
        while (await reader.ReadAsync(None)) states.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        return states;
    }

    /// <summary>What <see cref="FaultingS3Client"/>s do, shared by the clients of every store a test opens.</summary>
    private sealed class Faults
    {
        private int _putsNow;
        private int _maxPuts;
        public readonly SemaphoreSlim OtherPutStarted = new(0);
        public volatile string? FailPutOf;
        public volatile Action? AfterPart;
        public int MaxPutsAtOnce => Volatile.Read(ref _maxPuts);
        public System.Collections.Concurrent.ConcurrentDictionary<string, string> KeyOfUpload { get; } = new();
        /// <summary>Bytes of the parts S3 acknowledged, per upload id.</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, long> PartBytes { get; } = new();

        public void PutStarted()
        {
            var now = Interlocked.Increment(ref _putsNow);
            for (var max = Volatile.Read(ref _maxPuts); now > max && Interlocked.CompareExchange(ref _maxPuts, now, max) != max; max = Volatile.Read(ref _maxPuts))
            {
            }
        }

        public void PutEnded() => Interlocked.Decrement(ref _putsNow);
    }

    /// <summary>A real client that counts puts (objects and parts) in flight at once, refuses the put of one file (once
    /// another put is under way, so the refusal meets uploads in progress), and calls back after each part.</summary>
    private sealed class FaultingS3Client(IS3Client inner, Faults faults) : DelegatingS3Client(inner)
    {
        private async Task<T> PutAsync<T>(string key, Func<Task<T>> put)
        {
            faults.PutStarted();
            try
            {
                if (faults.FailPutOf is { } failing && key.EndsWith("/" + failing, StringComparison.Ordinal))
                {
                    await faults.OtherPutStarted.WaitAsync(TimeSpan.FromSeconds(20));
                    throw new S3ClientException("BadDigest", 400, "refused by the test");
                }
                faults.OtherPutStarted.Release();
                return await put();
            }
            finally
            {
                faults.PutEnded();
            }
        }

        public override Task<string> PutObjectAsync(S3PutRequest request, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
            PutAsync(request.Key, () => Inner.PutObjectAsync(request, content, cancellationToken));

        public override async Task<string> InitiateMultipartUploadAsync(S3PutRequest request, CancellationToken cancellationToken)
        {
            var id = await Inner.InitiateMultipartUploadAsync(request, cancellationToken);
            faults.KeyOfUpload[id] = request.Key;
            return id;
        }

        public override async Task<string> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, string contentMd5, CancellationToken cancellationToken)
        {
            var etag = await PutAsync(key, () => Inner.UploadPartAsync(key, uploadId, partNumber, content, contentMd5, cancellationToken));
            faults.PartBytes.AddOrUpdate(uploadId, content.Length, (_, sum) => sum + content.Length);
            faults.AfterPart?.Invoke();
            return etag;
        }
    }
}
