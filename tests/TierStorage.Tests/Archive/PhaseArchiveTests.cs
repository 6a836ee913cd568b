using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Tests.Backup;
using TierStorage.Tests.Tiers.S3;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Archive;

/// <summary>The seed's Tier 3: a phase packed from the backup tier into one archive, verified, and restored from it.</summary>
public sealed class PhaseArchiveTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string ArchiveTierYaml(string backupPath, string archivePath, string kind = "folder") => $"""
          - name: backup
            level: 2
            kind: folder
            path: {backupPath}
          - name: archive
            level: 3
            kind: {kind}
        {(kind == "folder" ? $"    path: {archivePath}" : "    bucket: archive-bucket\n    region: us-east-1\n    storage_class: DEEP_ARCHIVE\n    price_per_gb_month: 0.00099")}
        """;

    private static async Task<(BackupTestBed Bed, string ArchiveRoot)> BedAsync(string kind = "folder")
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-archive-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var bed = await CreateAsync(localSessions: 1, tierYaml: ArchiveTierYaml(Path.Combine(root, "backup"), Path.Combine(root, "archive"), kind));
        return (bed, root);
    }

    private static async Task<List<string>> BackedUpPhaseAsync(BackupTestBed bed, Engine.Workspace.TierWorkspace ws, int sessions)
    {
        var ids = new List<string>();
        for (var i = 0; i < sessions; i++) ids.Add(await bed.CompletedSessionAsync(ws, seed: i + 1));
        Assert.All(await BackupAsync(ws, [.. ids]), r => Assert.True(r.Verified));
        return ids;
    }

    [Fact]
    public async Task Test_backup_without_a_tier_checks_archived_sessions_on_the_archive_tier_not_as_missing_backups()
    {
        // Issue 11 #4: after a normal run, every archived session came out Missing on the backup tier (exit 1), and
        // Test-Backup | Where-Object Status -ne Ok | Backup-Session failed on each.
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 2);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);

            var checks = await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest(), None));

            Assert.All(checks, c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
            Assert.Equal(ids.Order(), checks.Where(c => c.Key is null).Select(c => c.SessionId).Order());
            Assert.All(checks.Where(c => c.Key is null), c => Assert.Equal("archive", c.Tier));
            Assert.Equal(BackupCheckStatus.Ok, Assert.Single(await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { SessionId = ids[0] }, None))).Status);

            // Damage on the archive tier is still found without naming it.
            File.WriteAllBytes(Path.Combine(root, "archive", bed.Namespace, "Phase_1.tar.gz"), [1, 2, 3]);
            Assert.Contains(await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest(), None)),
                c => (c.Tier, c.Status, c.Key) == ("archive", BackupCheckStatus.Corrupt, "Phase_1.tar.gz"));
        }
    }

    [Fact]
    public async Task A_phase_is_archived_verified_its_backup_copies_deleted_and_a_session_restored_from_the_archive_byte_identical()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 3);
            var originalLog = File.ReadAllBytes((await SessionAsync(ws, ids[^1])).LogPath!);

            var archived = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);

            Assert.True(archived.Verified);
            Assert.Equal(ids, archived.Sessions);
            Assert.Equal("Phase_1.tar.gz", archived.Key);
            Assert.True(File.Exists(Path.Combine(root, "archive", bed.Namespace, "Phase_1.tar.gz")));
            Assert.True(File.Exists(Path.Combine(root, "archive", bed.Namespace, "metadata", "Phase_1_manifest.json")));
            Assert.True(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Archived);
            Assert.All(ids, id => Assert.Equal(SessionState.Archived, SessionAsync(ws, id).GetAwaiter().GetResult().State));

            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "backup", bed.Namespace), "*.gz", SearchOption.AllDirectories));

            // The last session is the one still kept locally: take its files away, then bring them back from the archive.
            var local = await bed.LocalFilesAsync(ws, ids[^1]);
            foreach (var file in local.Keys) File.Delete(file);
            var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[^1] }, null, None);

            Assert.Equal((RestoreStatus.Restored, "archive", true), (restored.Status, restored.Tier, restored.Verified));
            // Snapshots and handoff come back where they were; the log, whose current-log slot is free, as logs/<session>.jsonl.
            Assert.All(local.Where(kv => !kv.Key.EndsWith(".jsonl", StringComparison.Ordinal)), kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));
            Assert.Equal(originalLog, File.ReadAllBytes((await SessionAsync(ws, ids[^1])).LogPath!));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_phase_with_a_session_not_backed_up_is_not_archived()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            await BackedUpPhaseAsync(bed, ws, 1);
            var unsaved = await bed.CompletedSessionAsync(ws, seed: 9);

            var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.ArchivePhaseAsync(1, force: false, null, None));

            Assert.Equal((ErrorIds.BackupNotVerified, unsaved), (ex.ErrorId, ex.Target));
            Assert.False(Directory.Exists(Path.Combine(root, "archive", bed.Namespace)) && Directory.EnumerateFiles(Path.Combine(root, "archive", bed.Namespace), "*.tar.gz").Any());
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_backup_copy_is_never_deleted_while_no_other_tier_holds_a_verified_copy()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 1);

            var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.DeleteSessionCopyAsync(ids[0], "backup", None));

            Assert.Equal(ErrorIds.BackupNotVerified, ex.ErrorId);
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(root, "backup", bed.Namespace), "manifest.json", SearchOption.AllDirectories));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_tampered_archive_is_refused_on_restore()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 1);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            await ws.Backups.DeleteSessionCopyAsync(ids[0], "backup", None);
            var archive = Path.Combine(root, "archive", bed.Namespace, "Phase_1.tar.gz");
            var bytes = File.ReadAllBytes(archive);
            bytes[bytes.Length / 2] ^= 0x5A;
            File.WriteAllBytes(archive, bytes);

            var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
                ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[0], Destination = Path.Combine(root, "out") }, null, None));

            Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
            Assert.False(Directory.Exists(Path.Combine(root, "out")));
        }
        Directory.Delete(root, true);
    }

    [Theory]
    [InlineData("activity.jsonl.gz", "cut")]
    [InlineData("analytics_snapshot.db.gz", "cut")]
    [InlineData("handoff.md", "cut")]
    [InlineData("manifest.json", "flip")]
    [InlineData("snapshots.tar.gz", "flip")]
    [InlineData("activity.jsonl.gz", "grow")]
    public async Task A_backup_copy_damaged_on_the_tier_fails_the_archive_before_anything_is_uploaded(string file, string damage)
    {
        // Issue 12: each member is checked by the read that puts it into the tar (no separate read before; from a folder tier,
        // the tier's file itself, no copy); a damaged one (shorter, longer or the same size) must still stop the archive, with
        // nothing stored on the archive tier and the copies kept.
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 2);
            var path = Directory.EnumerateFiles(Path.Combine(root, "backup", bed.Namespace, "Phase_1", "sessions", ids[1]), file).Single();
            var bytes = File.ReadAllBytes(path);
            bytes = damage switch
            {
                "flip" => [.. bytes[..(bytes.Length / 2)], (byte)(bytes[bytes.Length / 2] ^ 0x20), .. bytes[(bytes.Length / 2 + 1)..]],
                "cut" => bytes[..^1],
                _ => [.. bytes, 0x0a],
            };
            File.WriteAllBytes(path, bytes);

            var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.ArchivePhaseAsync(1, force: false, null, None));

            Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
            Assert.Contains(ids[1], ex.Message);
            Assert.False(Directory.Exists(Path.Combine(root, "archive", bed.Namespace)) && Directory.EnumerateFiles(Path.Combine(root, "archive", bed.Namespace), "*", SearchOption.AllDirectories).Any(p => !p.Contains("/.tsmeta/", StringComparison.Ordinal)));
            Assert.False(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Archived);
            Assert.All(ids, id => Assert.Equal(SessionState.BackedUp, SessionAsync(ws, id).GetAwaiter().GetResult().State));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task The_manifest_totals_equal_the_merged_summaries_of_the_phase_sessions_and_its_review_the_phase_review()
    {
        // The totals are read in one pass per session (issue 12) instead of from Catalog.SummarizeSessionAsync: the same
        // figures, including NULL columns, failures (success = false or type error) and names shared across sessions.
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = new List<string>();
            string?[] agents = ["planner", "coder", null], tools = ["bash", "edit", "grep", null], models = ["claude-sonnet-4", "claude-opus-4", null], tasks = ["t1", "t2", "t3", "t4", null];
            for (var s = 0; s < 3; s++)
            {
                bed.Time.Advance(TimeSpan.FromMinutes(1));
                var session = await ws.StartSessionAsync(new Engine.Workspace.StartSessionRequest { Phase = 1 }, None);
                var random = new Random(s + 7);
                var batch = new List<SessionEvent>();
                for (var i = 0; i < 150; i++)
                {
                    var type = (SessionEventType)random.Next(2, 8);
                    batch.Add(new SessionEvent
                    {
                        Timestamp = bed.Time.Now.AddSeconds(i), Type = type,
                        Agent = agents[random.Next(agents.Length)], Tool = tools[random.Next(tools.Length)], Model = models[random.Next(models.Length)], Task = tasks[random.Next(tasks.Length)],
                        DurationMs = random.Next(4) == 0 ? null : random.Next(1, 5000),
                        Success = random.Next(3) switch { 0 => null, 1 => false, _ => true },
                        Tokens = random.Next(2) == 0 ? null : new TokenUsage { Input = random.Next(1000), Output = random.Next(500), CacheRead = random.Next(300), CacheWrite = random.Next(100) },
                        ErrorType = type == SessionEventType.Error ? "timeout" : null,
                    });
                }
                await ws.AppendEventsAsync(batch, null, None);
                await ws.CompleteSessionAsync(null, None);
                ids.Add(session.SessionId);
            }
            Assert.All(await BackupAsync(ws, [.. ids]), r => Assert.True(r.Verified));
            var summaries = new List<Engine.Catalog.SessionSummary>();
            foreach (var id in ids) summaries.Add(await ws.Catalog.SummarizeSessionAsync(id, None));
            var review = await Engine.Review.PhaseReviewer.ReviewAsync(ws.Catalog, ws.Policy, 1, None);

            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);

            var manifest = (await ws.Backups.ReadPhaseArchiveManifestAsync(1, None))!;
            static List<Engine.Catalog.NameCount> Merge(IEnumerable<Engine.Catalog.NameCount> counts) => counts.GroupBy(c => c.Name)
                .Select(g => new Engine.Catalog.NameCount(g.Key, g.Sum(c => c.Count), g.Sum(c => c.TotalDurationMs), g.Sum(c => c.Failures)))
                .OrderByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
            var totals = manifest.Totals;
            Assert.Equal((3L, summaries.Sum(s => s.EventCount), summaries.Sum(s => s.FailureCount)), (totals.Sessions, totals.Events, totals.Failures));
            Assert.InRange(totals.Events, 450, 456); // with each session's start and end events
            Assert.True(totals.Failures > 0);
            Assert.Equal((summaries.Sum(s => s.Tokens.Input), summaries.Sum(s => s.Tokens.Output), summaries.Sum(s => s.Tokens.CacheRead), summaries.Sum(s => s.Tokens.CacheWrite)),
                (totals.Tokens.Input, totals.Tokens.Output, totals.Tokens.CacheRead, totals.Tokens.CacheWrite));
            Assert.Equal(Merge(summaries.SelectMany(s => s.Agents)), totals.Agents);
            Assert.Equal(Merge(summaries.SelectMany(s => s.Tools)), totals.Tools);
            Assert.Equal(Merge(summaries.SelectMany(s => s.Models)), totals.Models);
            Assert.Equal(Merge(summaries.SelectMany(s => s.Tasks)), totals.Tasks);
            Assert.Equal(2, totals.Agents.Count);
            // The review, computed while the archive was built, is the phase's review.
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(review), System.Text.Json.JsonSerializer.Serialize(manifest.Review));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task Gzip_members_are_stored_in_the_archive_not_deflated_again_and_restore_byte_identical()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            // Random payloads make the .gz members incompressible: deflating them again could only add bytes.
            var ids = new List<string>();
            for (var i = 0; i < 2; i++) ids.Add(await bed.CompletedSessionAsync(ws, events: 200, randomBytesPerEvent: 600, seed: i + 1));
            Assert.All(await BackupAsync(ws, [.. ids]), r => Assert.True(r.Verified));
            var members = Directory.EnumerateFiles(Path.Combine(root, "backup", bed.Namespace, "Phase_1"), "*", SearchOption.AllDirectories)
                .ToDictionary(p => Path.GetRelativePath(Path.Combine(root, "backup", bed.Namespace, "Phase_1"), p).Replace('\\', '/'), File.ReadAllBytes);

            var archived = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);

            var gzBytes = members.Where(m => m.Key.EndsWith(".gz", StringComparison.Ordinal)).Sum(m => (long)m.Value.Length);
            var otherBytes = members.Where(m => !m.Key.EndsWith(".gz", StringComparison.Ordinal)).Sum(m => (long)m.Value.Length);
            Assert.InRange(archived.SizeBytes, gzBytes, gzBytes + otherBytes + gzBytes / 100 + 64 * 1024);
            // The archive is one gzip stream whose tar holds every member byte for byte.
            var tar = Gunzip(File.ReadAllBytes(Path.Combine(root, "archive", bed.Namespace, "Phase_1.tar.gz")));
            using var reader = new System.Formats.Tar.TarReader(new MemoryStream(tar));
            var seen = 0;
            while (reader.GetNextEntry() is { } entry)
            {
                var copy = new MemoryStream();
                entry.DataStream!.CopyTo(copy);
                Assert.Equal(members[entry.Name], copy.ToArray());
                seen++;
            }
            Assert.Equal(members.Count, seen);
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_session_in_deep_archive_is_priced_and_thawed_once_then_restored_when_the_thaw_is_done()
    {
        var (bed, root) = await BedAsync(kind: "s3");
        var s3 = new FakeS3Client();
        bed.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(tier.Kind == TierKind.S3
            ? new S3ObjectStore(new S3StoreOptions { TierName = tier.Name, Bucket = "archive-bucket", Prefix = "ts", TimeProvider = bed.Time }, s3)
            : TierStoreFactory.FolderStore(tier, context));
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 2);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            Assert.Equal("DEEP_ARCHIVE", s3.Objects["ts/Phase_1.tar.gz"].StorageClass);
            Assert.Equal("STANDARD", s3.Objects["ts/metadata/Phase_1_manifest.json"].StorageClass);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);
            var request = new RestoreRequest { SessionId = ids[0], Destination = Path.Combine(root, "out"), Retrieval = ArchiveRetrievalTier.Bulk };

            var first = await ws.Backups.RestoreAsync(request, null, None);
            var second = await ws.Backups.RestoreAsync(request, null, None);

            Assert.Equal(RestoreStatus.Thawing, first.Status);
            Assert.Equal(bed.Time.Now.AddHours(48), first.ReadyAfter);
            Assert.NotNull(first.ThawCostUsd);
            Assert.Contains("Bulk", first.Message);
            Assert.Equal((RestoreStatus.Thawing, first.ReadyAfter), (second.Status, second.ReadyAfter));
            Assert.Single(s3.RestoreRequests);

            s3.FinishRestore("ts/Phase_1.tar.gz", bed.Time.Now.AddDays(7));
            var done = await ws.Backups.RestoreAsync(request, null, None);

            Assert.Equal((RestoreStatus.Restored, true), (done.Status, done.Verified));
            Assert.True(File.Exists(Path.Combine(root, "out", "activity.jsonl")));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task Restore_phase_brings_back_every_session_of_the_archive_from_one_download()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 3);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);

            var restored = await ToListAsync(ws.Backups.RestorePhaseAsync(1, Path.Combine(root, "out"), force: false, ArchiveRetrievalTier.Standard, wait: false, null, None));

            Assert.Equal(ids, restored.Select(r => r.SessionId));
            Assert.All(restored, r => Assert.Equal((RestoreStatus.Restored, true), (r.Status, r.Verified)));
            Assert.All(ids, id => Assert.True(File.Exists(Path.Combine(root, "out", id, "activity.jsonl")), id));
            Assert.False(Directory.Exists(Path.Combine(bed.Layout.Root, "staging", "thaw-Phase_1")));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task Restore_phase_counts_the_bytes_of_every_session_not_only_the_first()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 3);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);

            var restored = await ToListAsync(ws.Backups.RestorePhaseAsync(1, Path.Combine(root, "out"), force: false, ArchiveRetrievalTier.Standard, wait: false, null, None));

            Assert.All(restored, r => Assert.True(r.BytesReceived > 0, r.SessionId));
            // Each session counts the files it brought back, as a restore from a backup tier does.
            Assert.All(restored, r => Assert.Equal(r.Files.Sum(f => f.SizeBytes), r.BytesReceived));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task The_catalog_is_rebuilt_from_the_archive_tier_alone_and_an_archived_session_restores_from_it()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = await BackedUpPhaseAsync(bed, ws, 2);
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);
            await bed.CloseAsync(ws);
            foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory)) File.Delete(file);
            ws = await bed.OpenAsync();

            var rebuilt = await ToListAsync(ws.Backups.RebuildCatalogAsync("archive", None));

            Assert.Equal(ids.Select(id => (id, "Added")), rebuilt.Select(r => (r.SessionId, r.Action)));
            Assert.All(ids, id => Assert.Equal((SessionState.Archived, true), (SessionAsync(ws, id).GetAwaiter().GetResult().State, SessionAsync(ws, id).GetAwaiter().GetResult().Verified)));
            var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[0], Destination = Path.Combine(root, "out") }, null, None);
            Assert.Equal(("archive", true), (restored.Tier, restored.Verified));
        }
        Directory.Delete(root, true);
    }
}
