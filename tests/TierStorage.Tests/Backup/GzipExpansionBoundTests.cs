using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers.Folder;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Restore trusted the gzip expansion a tier's manifest claims (issue 11 #11): a small gzip whose manifest said
/// 6 GiB was unpacked until it had written that much.</summary>
public sealed class GzipExpansionBoundTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private const long SixGiB = 6L << 30;

    /// <summary>A real gzip bomb in miniature: one 16 MiB member of zeros (a few KB) repeated; gunzip reads the members
    /// as one stream of <paramref name="members"/> x 16 MiB.</summary>
    internal static byte[] ZeroBomb(int members)
    {
        var member = new MemoryStream();
        using (var gzip = new GZipStream(member, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 16; i++) gzip.Write(zeros);
        }
        var one = member.ToArray();
        return Enumerable.Repeat(one, members).SelectMany(b => b).ToArray();
    }

    /// <summary>Backs a session up, then replaces its activity.jsonl.gz on the tier with <paramref name="gzip"/> and its
    /// manifest with one whose checksums match it and which declares <paramref name="declared"/> unpacked bytes.</summary>
    private static async Task<(string SessionId, string Prefix)> PlantAsync(BackupTestBed bed, Engine.Workspace.TierWorkspace ws, byte[] gzip, long declared)
    {
        var id = await bed.CompletedSessionAsync(ws, seed: 1);
        var backup = Assert.Single(await BackupAsync(ws, id));
        await bed.CompletedSessionAsync(ws, seed: 2); // prunes the first: restorable only from the tier
        var prefix = backup.Location;
        var manifest = SessionManifest.Parse(File.ReadAllBytes(bed.TierPath(prefix + SessionManifest.FileName)), "test");
        manifest = manifest with
        {
            Files = manifest.Files.Select(f => f.Name != SessionPackager.ActivityFileName ? f : f with
            {
                Size = gzip.Length, Md5 = Md5(gzip), Sha256 = Convert.ToHexStringLower(SHA256.HashData(gzip)), SourceBytes = declared,
                Contents = [new PackagedEntry(SessionPackager.ActivityEntryName, declared)],
            }).ToList(),
        };
        await using var tier = new FolderObjectStore(BackupTier, bed.TierRoot);
        await tier.PutAsync(prefix + SessionPackager.ActivityFileName, new MemoryStream(gzip), null, None);
        await tier.PutAsync(prefix + SessionManifest.FileName, new MemoryStream(manifest.ToUtf8Json()), null, None);
        return (id, prefix);
    }

    [Fact]
    public async Task A_gzip_whose_unvouched_manifest_claims_6_GiB_is_refused_before_anything_is_unpacked()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var (id, prefix) = await PlantAsync(bed, ws, ZeroBomb(members: 4), SixGiB);
        // The catalog that made the backup would refuse the rewritten manifest; one that never recorded it (lost, or
        // rebuilt) has only the tier's word.
        await ws.Catalog.DeleteObjectsAsync(BackupTier, prefix, None);
        var destination = Path.Combine(bed.Root, "restored");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None));

        Assert.Equal((ErrorIds.ArchiveTooLarge, TierErrorKind.InvalidData), (ex.ErrorId, ex.Kind));
        Assert.Contains(prefix + SessionManifest.FileName, ex.Message);
        Assert.Contains(SixGiB.ToString("N0"), ex.Message);
        Assert.False(Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination, "*", SearchOption.AllDirectories).Any());
        Assert.Empty(Directory.EnumerateFiles(bed.Root, "*activity.jsonl", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_catalog_rebuild_skips_and_names_a_manifest_that_claims_more_than_it_may_unpack()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var (id, prefix) = await PlantAsync(bed, ws, ZeroBomb(members: 1), SixGiB);
        var warnings = new List<string>();
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync(warnings.Add);

        var rebuilt = await ToListAsync(ws.Backups.RebuildCatalogAsync(null, None));

        Assert.Equal(("Skipped", prefix + SessionManifest.FileName), Assert.Single(rebuilt, r => r.SessionId == id) is var r ? (r.Action, r.Key) : default);
        Assert.Contains(warnings, w => w.Contains(ErrorIds.ArchiveTooLarge, StringComparison.Ordinal) && w.Contains(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_session_in_a_phase_archive_whose_manifest_claims_6_GiB_is_refused_before_anything_is_unpacked()
    {
        var tiers = Path.Combine(Path.GetTempPath(), "ts-bomb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tiers);
        try
        {
            await using var bed = await CreateAsync(localSessions: 1, tierYaml: $"""
                  - name: backup
                    level: 2
                    kind: folder
                    path: {Path.Combine(tiers, "backup")}
                  - name: archive
                    level: 3
                    kind: folder
                    path: {Path.Combine(tiers, "archive")}
                """);
            var ws = await bed.OpenAsync();
            var ids = new List<string>();
            for (var phase = 0; phase < 4; phase++)
            {
                bed.Time.Advance(TimeSpan.FromHours(1));
                ids.Add((await ws.StartSessionAsync(new StartSessionRequest { Phase = phase }, None)).SessionId);
                await ws.CompleteSessionAsync(null, None);
            }
            Assert.Equal(PolicyRunStatus.Succeeded, (await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None)).Status);
            var id = ids[0];

            // The phase archive is rewritten: the session's own manifest now says its log unpacks to 6 GiB, and the phase
            // manifest's checksums match the new archive, so only the bound stands in the way.
            var archivePath = Directory.EnumerateFiles(Path.Combine(tiers, "archive", bed.Namespace), "Phase_0*.tar.gz").Single();
            var phaseManifestPath = Directory.EnumerateFiles(Path.Combine(tiers, "archive", bed.Namespace, "metadata"), "Phase_0*_manifest.json").Single();
            var memberPath = $"sessions/{id}/{SessionManifest.FileName}";
            byte[]? newMember = null;
            var rewritten = new MemoryStream();
            await using (var input = new GZipStream(File.OpenRead(archivePath), CompressionMode.Decompress))
            await using (var reader = new TarReader(input))
            await using (var output = new GZipStream(rewritten, CompressionLevel.Fastest, leaveOpen: true))
            await using (var writer = new TarWriter(output, TarEntryFormat.Pax))
            {
                while (await reader.GetNextEntryAsync(copyData: true) is { } entry)
                {
                    var data = new MemoryStream();
                    if (entry.DataStream is { } stream) await stream.CopyToAsync(data);
                    if (entry.Name == memberPath)
                    {
                        var manifest = SessionManifest.Parse(data.ToArray(), "test");
                        manifest = manifest with
                        {
                            Files = manifest.Files.Select(f => f.Name != SessionPackager.ActivityFileName ? f : f with
                            {
                                SourceBytes = SixGiB, Contents = [new PackagedEntry(SessionPackager.ActivityEntryName, SixGiB)],
                            }).ToList(),
                        };
                        newMember = manifest.ToUtf8Json();
                        data = new MemoryStream(newMember);
                    }
                    await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(data.ToArray()) });
                }
            }
            Assert.NotNull(newMember);
            var archiveBytes = rewritten.ToArray();
            File.WriteAllBytes(archivePath, archiveBytes);
            static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));
            var phaseManifest = PhaseArchiveManifest.Parse(File.ReadAllBytes(phaseManifestPath), "test");
            phaseManifest = phaseManifest with
            {
                ArchiveSize = archiveBytes.Length, ArchiveMd5 = Md5(archiveBytes), ArchiveSha256 = Sha(archiveBytes),
                Files = phaseManifest.Files.Select(f => f.Path != memberPath ? f : f with { Size = newMember!.Length, Md5 = Md5(newMember), Sha256 = Sha(newMember) }).ToList(),
            };
            File.WriteAllBytes(phaseManifestPath, phaseManifest.ToUtf8Json());
            var destination = Path.Combine(bed.Root, "restored");

            var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None));

            Assert.Equal((ErrorIds.ArchiveTooLarge, TierErrorKind.InvalidData), (ex.ErrorId, ex.Kind));
            Assert.Contains(memberPath, ex.Message);
            Assert.False(Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination, "*", SearchOption.AllDirectories).Any());
        }
        finally
        {
            if (Directory.Exists(tiers)) Directory.Delete(tiers, recursive: true);
        }
    }

    [Fact]
    public void Declared_sizes_beyond_deflates_ratio_the_ceiling_or_a_long_are_refused_and_honest_ones_pass()
    {
        static SessionManifest With(long compressed, params long[] members) => new()
        {
            SessionId = "session_20260101_000000", CreatedAt = DateTimeOffset.UnixEpoch,
            Files = [new PackagedFile { Name = SessionPackager.SnapshotsFileName, Size = compressed, Md5 = new string('0', 32), Sha256 = new string('0', 64),
                Contents = members.Select((m, i) => new PackagedEntry($"s{i}.json.gz", m)).ToList() }],
        };

        ExpansionBounds.RequireWithin(With(50_000, 400_000, 600_000), "honest");
        ExpansionBounds.RequireWithin(With(1_000_000, 900_000_000), "highly compressible but possible");
        foreach (var (manifest, why) in new[]
        {
            (With(1_000, 10_000_000), "deflate"),
            (With(10_000_000, 1L << 31), "limit per file"),
            (With(900_000_000, 1L << 30, 1L << 30, 1L << 30), "limit per session"),
            (With(1_000, long.MaxValue, long.MaxValue), "limit per file"),
        })
        {
            var ex = Assert.Throws<TierStorageException>(() => ExpansionBounds.RequireWithin(manifest, "tier:key"));
            Assert.Equal((ErrorIds.ArchiveTooLarge, TierErrorKind.InvalidData), (ex.ErrorId, ex.Kind));
            Assert.Contains(why, ex.Message);
        }
    }
}
