using Amazon.Runtime;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using TierStorage.Tests.Tiers.S3;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Archive;

/// <summary>
/// The phase archive against a real S3-compatible server (s3rver, shared through <see cref="S3rverCollection"/>): a phase
/// backed up to a folder tier, packed into Phase_1.tar.gz on an s3 tier, its backup copies deleted, and a session brought
/// back byte-identical; a tampered archive object refused; the Deep Archive early-deletion guard.
/// The s3 tier is described in the policy YAML (endpoint, path style, storage class) and opened through
/// <see cref="S3ObjectStore.OptionsFromTier"/>; only the credentials (s3rver's built-in account) come from the test, as
/// the policy never holds any.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3ArchiveTests(S3rverFixture server)
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>The test bed plus the backup tier's own temp folder; disposing removes both, also after a failure.</summary>
    private sealed record Bed(BackupTestBed Test, string Prefix, string Root) : IAsyncDisposable
    {
        public string BackupRoot => Path.Combine(Root, "backup");

        public async ValueTask DisposeAsync()
        {
            await Test.DisposeAsync();
            try
            {
                if (Directory.Exists(Root)) Directory.Delete(Root, true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless; failing the test over it would hide the real result.
            }
        }
    }

    /// <param name="storageClass">
    /// STANDARD for round trips: s3rver 3.7.1 has no RestoreObject and no x-amz-restore, so an archive in DEEP_ARCHIVE could
    /// never be thawed and read back here (the thaw path is tested against FakeS3Client in PhaseArchiveTests). The early-
    /// deletion guard needs only the tier's storage class and the object's Last-Modified, which s3rver does report.
    /// </param>
    /// <param name="multipartThreshold">Archives at or above it go up multipart (resumable, parts in the catalog).</param>
    private async Task<Bed> BedAsync(string storageClass = "STANDARD", int localSessions = 1, long multipartThreshold = 16 * S3StoreOptions.MiB)
    {
        var prefix = "arch-" + Guid.NewGuid().ToString("N")[..8];
        var root = Path.Combine(Path.GetTempPath(), "ts-s3arch-" + Guid.NewGuid().ToString("N"));
        // The backup tier sits in its own temp folder (its path is in the YAML before the bed exists); removed with the bed.
        var test = await CreateAsync(localSessions, $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
            {server.TierYaml("archive", 3, prefix, storageClass)}
                price_per_gb_month: 0.00099
            """);
        Directory.CreateDirectory(root);
        test.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(tier.Kind == TierKind.S3
            ? new S3ObjectStore(S3ObjectStore.OptionsFromTier(tier) with
            {
                Credentials = new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey),
                MaxErrorRetry = 1,
                RequestTimeout = TimeSpan.FromSeconds(30),
                TimeProvider = test.Time,
                PartSize = 5 * S3StoreOptions.MiB,
                MultipartThreshold = multipartThreshold,
            })
            : TierStoreFactory.FolderStore(tier, context));
        return new Bed(test, prefix, root);
    }

    /// <summary>A store of the same bucket and prefix, used behind the workspace's back (another client of the bucket).</summary>
    private S3ObjectStore RawStore(string prefix) => new(server.Options(prefix) with { StorageClass = "STANDARD" });

    private static async Task<List<string>> BackedUpPhaseAsync(BackupTestBed bed, TierWorkspace ws, int sessions, int firstSeed = 1, int events = 200, int randomBytesPerEvent = 64)
    {
        var ids = new List<string>();
        for (var i = 0; i < sessions; i++) ids.Add(await bed.CompletedSessionAsync(ws, events, snapshots: 3, randomBytesPerEvent, seed: firstSeed + i));
        Assert.All(await BackupAsync(ws, [.. ids]), r => Assert.True(r.Verified, r.Status.ToString()));
        return ids;
    }

    /// <param name="multipart">Sessions large enough (random payloads, about 7 MB compressed) that the archive goes up
    /// in 5 MiB parts through s3rver's multipart upload; otherwise one PutObject.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_phase_of_three_sessions_is_archived_to_s3_its_backup_copies_deleted_and_a_session_restored_byte_identical(bool multipart)
    {
        var bed = await BedAsync(multipartThreshold: multipart ? 5 * S3StoreOptions.MiB : 16 * S3StoreOptions.MiB);
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            var ids = multipart ? await BackedUpPhaseAsync(bed.Test, ws, 3, events: 2000, randomBytesPerEvent: 1200) : await BackedUpPhaseAsync(bed.Test, ws, 3);
            var local = await bed.Test.LocalFilesAsync(ws, ids[^1]);
            var originalLog = File.ReadAllBytes((await SessionAsync(ws, ids[^1])).LogPath!);
            Assert.Contains(local.Keys, k => k.EndsWith(".json.gz", StringComparison.Ordinal));
            Assert.Contains(local.Keys, k => k.EndsWith("_handoff.md", StringComparison.Ordinal));

            var archived = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);

            Assert.True(archived.Verified);
            Assert.Equal(("archive", "Phase_1.tar.gz", "metadata/Phase_1_manifest.json"), (archived.Tier, archived.Key, archived.ManifestKey));
            Assert.Equal(ids, archived.Sessions);
            Assert.Equal(multipart, archived.SizeBytes > 5 * S3StoreOptions.MiB);
            await using (var raw = RawStore(bed.Prefix))
            {
                var stat = await raw.StatAsync("Phase_1.tar.gz", None);
                Assert.Equal((archived.SizeBytes, archived.Md5), (stat!.Size, stat.Md5));
                Assert.NotNull(await raw.StatAsync("metadata/Phase_1_manifest.json", None));
            }
            Assert.True(File.Exists(server.ObjectFile($"{bed.Prefix}/Phase_1.tar.gz")));
            Assert.All(ids, id => Assert.Equal(SessionState.Archived, SessionAsync(ws, id).GetAwaiter().GetResult().State));

            foreach (var id in ids) Assert.True(await ws.Backups.DeleteSessionCopyAsync(id, "backup", None) > 0);
            Assert.Empty(Directory.EnumerateFiles(bed.BackupRoot, "*.gz", SearchOption.AllDirectories));
            Assert.Empty(Directory.EnumerateFiles(bed.BackupRoot, "manifest.json", SearchOption.AllDirectories));

            // The last session is the one still kept locally: take its files away, then bring them back from s3rver.
            foreach (var file in local.Keys) File.Delete(file);
            var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[^1] }, null, None);

            Assert.Equal((RestoreStatus.Restored, "archive", true), (restored.Status, restored.Tier, restored.Verified));
            Assert.All(restored.Files, f => Assert.StartsWith("Phase_1.tar.gz#sessions/" + ids[^1] + "/", f.Key));
            // Snapshots and handoff come back where they were; the log, whose current-log slot is free, as logs/<session>.jsonl.
            var others = local.Where(kv => !kv.Key.EndsWith(".jsonl", StringComparison.Ordinal)).ToList();
            Assert.Equal(4, others.Count); // 3 snapshots + the handoff
            Assert.All(others, kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));
            Assert.Equal(originalLog, File.ReadAllBytes((await SessionAsync(ws, ids[^1])).LogPath!));

            // An older session, no longer local, comes out of the same archive into a plain directory.
            var outDir = Path.Combine(bed.Root, "out");
            var first = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[0], Destination = outDir }, null, None);
            Assert.Equal((RestoreStatus.Restored, true), (first.Status, first.Verified));
            Assert.True(new FileInfo(Path.Combine(outDir, "activity.jsonl")).Length > 200 * 64);
        }
    }

    [Fact]
    public async Task An_archive_object_overwritten_behind_the_stores_back_is_refused_on_restore()
    {
        var bed = await BedAsync();
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed.Test, ws, 3);
            var archived = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);

            // Another client of the bucket replaces the object with other bytes of the same length (a consistent object:
            // ETag and x-amz-meta-md5 both describe the new bytes, so only our phase manifest can tell).
            var bytes = new byte[archived.SizeBytes];
            await using (var raw = RawStore(bed.Prefix))
            {
                var original = new MemoryStream();
                await raw.GetAsync("Phase_1.tar.gz", original, 0, null, None);
                original.ToArray().CopyTo(bytes, 0);
                bytes[bytes.Length / 2] ^= 0x5A;
                await raw.PutAsync("Phase_1.tar.gz", new MemoryStream(bytes), null, None);
                Assert.NotEqual(archived.Md5, (await raw.StatAsync("Phase_1.tar.gz", None))!.Md5);
            }
            var outDir = Path.Combine(bed.Root, "out");

            var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
                ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[0], Destination = outDir }, null, None));

            Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
            Assert.Contains("Phase_1.tar.gz", ex.Message);
            Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
        }
    }

    [Fact]
    public async Task An_archive_object_damaged_on_the_servers_disk_is_refused_on_restore()
    {
        var bed = await BedAsync();
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed.Test, ws, 3);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);
            // Bit rot under s3rver: the file changes, its recorded ETag and size do not.
            var file = server.ObjectFile($"{bed.Prefix}/Phase_1.tar.gz");
            var bytes = File.ReadAllBytes(file);
            bytes[bytes.Length / 3] ^= 0x5A;
            File.WriteAllBytes(file, bytes);
            var outDir = Path.Combine(bed.Root, "out");

            var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
                ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[1], Destination = outDir }, null, None));

            Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
            Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
        }
    }

    /// <summary>Test-Backup's stat comparison (size and MD5 as the tier reports them against the catalog) pointed at the
    /// archive tier: the replaced phase archive must show up as Corrupt.</summary>
    [Fact]
    public async Task Test_Backup_on_the_archive_tier_reports_an_overwritten_phase_archive_as_Corrupt()
    {
        var bed = await BedAsync();
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            await BackedUpPhaseAsync(bed.Test, ws, 2);
            var archived = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            await using (var raw = RawStore(bed.Prefix))
            {
                var bytes = new MemoryStream();
                await raw.GetAsync("Phase_1.tar.gz", bytes, 0, null, None);
                var changed = bytes.ToArray();
                changed[^10] ^= 0x01;
                await raw.PutAsync("Phase_1.tar.gz", new MemoryStream(changed), null, None);
            }

            var checks = await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { Tier = "archive" }, None));

            Assert.Contains(checks, c => c.Status == BackupCheckStatus.Corrupt && c.Key == archived.Key);
        }
    }

    /// <summary>Bug probe: Test-Backup pointed at a healthy archive tier. The catalog's member rows
    /// ("Phase_1.tar.gz#sessions/&lt;id&gt;/...") are no keys of the store: they must not be reported Missing.</summary>
    [Fact]
    public async Task Test_Backup_on_a_healthy_archive_tier_reports_no_archived_session_or_member_as_Missing()
    {
        var bed = await BedAsync();
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            await BackedUpPhaseAsync(bed.Test, ws, 2);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);

            var checks = await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { Tier = "archive" }, None));

            Assert.DoesNotContain(checks, c => c.Status is BackupCheckStatus.Missing or BackupCheckStatus.Corrupt);
        }
    }

    /// <summary>Bug probe: running Test-Backup on a healthy archive tier must not take away the archive members' verified
    /// mark, which DeleteSessionCopyAsync needs to delete the backup copy against the archive.</summary>
    [Fact]
    public async Task Test_Backup_on_a_healthy_archive_tier_keeps_the_archive_members_verified_so_backup_copies_can_still_be_deleted()
    {
        var bed = await BedAsync();
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed.Test, ws, 2);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);

            await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { Tier = "archive" }, None));

            var members = (await ObjectsAsync(ws, ids[0])).Where(o => o.Tier == "archive").ToList();
            Assert.NotEmpty(members);
            Assert.All(members, o => Assert.NotNull(o.VerifiedAt));
            Assert.True(await ws.Backups.DeleteSessionCopyAsync(ids[0], "backup", None) > 0);
        }
    }

    [Fact]
    public async Task Replacing_a_DEEP_ARCHIVE_phase_archive_younger_than_180_days_is_refused_with_EarlyDeletion_and_allowed_after()
    {
        var bed = await BedAsync(storageClass: "DEEP_ARCHIVE", localSessions: 4);
        // s3rver stamps Last-Modified with the real clock: the workspace's clock starts there too.
        bed.Test.Time.Now = DateTimeOffset.UtcNow;
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            await BackedUpPhaseAsync(bed.Test, ws, 2);
            var first = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            await using var raw = RawStore(bed.Prefix);
            var stored = await raw.StatAsync("Phase_1.tar.gz", None);
            Assert.Equal(first.Md5, stored!.Md5);

            // Archiving the same backup copies again yields the same archive: nothing is replaced, nothing refused.
            var again = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            Assert.Equal(first.Md5, again.Md5);

            // A late session joins the phase: the new archive differs, and would replace a 10-day-old Deep Archive object.
            bed.Test.Time.Advance(TimeSpan.FromDays(10));
            await BackedUpPhaseAsync(bed.Test, ws, 1, firstSeed: 7);
            var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.ArchivePhaseAsync(1, force: false, null, None));

            Assert.Equal(ErrorIds.EarlyDeletion, ex.ErrorId);
            Assert.Equal("Phase_1.tar.gz", ex.Target);
            Assert.Contains("180", ex.Message);
            Assert.Contains("-Force", ex.Message);
            var after = await raw.StatAsync("Phase_1.tar.gz", None);
            Assert.Equal((first.SizeBytes, first.Md5, stored.LastModified), (after!.Size, after.Md5, after.LastModified));

            // Past the minimum the replacement goes through.
            bed.Test.Time.Advance(TimeSpan.FromDays(171));
            var replaced = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            Assert.Equal(3, replaced.Sessions.Count);
            Assert.NotEqual(first.Md5, replaced.Md5);
            Assert.Equal(replaced.Md5, (await raw.StatAsync("Phase_1.tar.gz", None))!.Md5);
        }
    }
    /// <summary>Regression: the EarlyDeletion refusal offered "-Force", which no caller could pass; a phase archive that
    /// must change (a late session) could not be replaced before 180 days at all.</summary>
    [Fact]
    public async Task A_young_DEEP_ARCHIVE_phase_archive_can_be_replaced_with_force_as_the_EarlyDeletion_message_says()
    {
        var bed = await BedAsync(storageClass: "DEEP_ARCHIVE", localSessions: 4);
        bed.Test.Time.Now = DateTimeOffset.UtcNow;
        await using (bed)
        {
            var ws = await bed.Test.OpenAsync();
            await BackedUpPhaseAsync(bed.Test, ws, 2);
            var first = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            bed.Test.Time.Advance(TimeSpan.FromDays(10));
            await BackedUpPhaseAsync(bed.Test, ws, 1, firstSeed: 7);
            var refused = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.ArchivePhaseAsync(1, force: false, null, None));
            Assert.Contains("-Force", refused.Message);

            var replaced = await ws.Backups.ArchivePhaseAsync(1, force: true, null, None);

            Assert.NotEqual(first.Md5, replaced.Md5);
            await using var raw = RawStore(bed.Prefix);
            Assert.Equal(replaced.Md5, (await raw.StatAsync("Phase_1.tar.gz", None))!.Md5);
        }
    }
}
