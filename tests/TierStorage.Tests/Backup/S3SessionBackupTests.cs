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

    private async Task<(BackupTestBed Bed, string Prefix)> BedAsync()
    {
        var prefix = "sess-" + Guid.NewGuid().ToString("N")[..8];
        var bed = await CreateAsync(tierYaml: $"""
              - name: {BackupTier}
                level: 2
                kind: s3
                bucket: {S3rverFixture.Bucket}
                region: us-east-1
                prefix: {prefix}
                storage_class: STANDARD
                endpoint: {server.Endpoint}
                force_path_style: true
                capacity: unlimited
                price_per_gb_month: 0
            """);
        bed.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(new S3ObjectStore(S3ObjectStore.OptionsFromTier(tier) with
        {
            Credentials = new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey),
            MaxErrorRetry = 1,
            RequestTimeout = TimeSpan.FromSeconds(30),
            TimeProvider = bed.Time,
            PartSize = 5 * S3StoreOptions.MiB,
            MultipartThreshold = 5 * S3StoreOptions.MiB,
        }));
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
}
