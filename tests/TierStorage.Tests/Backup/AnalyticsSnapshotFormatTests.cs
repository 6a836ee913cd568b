using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>
/// Issue 12: the analytics snapshot is stored gzipped (analytics_snapshot.db.gz, manifest format 2) instead of as a plain
/// SQLite file (format 1). Packages of both formats must restore to the same plain file, and a damaged or lying copy of
/// the new one must be refused.
/// </summary>
public sealed class AnalyticsSnapshotFormatTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>Rewrites the session's package on the tier as a version before issue 12 wrote it: the snapshot stored
    /// plain as analytics_snapshot.db and a format 1 manifest. Returns the plain snapshot's bytes.</summary>
    private static byte[] RewriteAsFormat1(BackupTestBed bed, string sessionId)
    {
        var folder = bed.TierPath($"Phase_1/sessions/{sessionId}/");
        var manifestPath = Path.Combine(folder, SessionManifest.FileName);
        var manifest = SessionManifest.Parse(File.ReadAllBytes(manifestPath), manifestPath);
        var compressed = Path.Combine(folder, SessionPackager.CompressedAnalyticsFileName);
        var plain = Gunzip(File.ReadAllBytes(compressed));
        File.WriteAllBytes(Path.Combine(folder, SessionPackager.AnalyticsFileName), plain);
        File.Delete(compressed);
        var old = manifest with
        {
            Format = 1,
            Files = manifest.Files.Select(f => f.Name != SessionPackager.CompressedAnalyticsFileName ? f : new PackagedFile
            {
                Name = SessionPackager.AnalyticsFileName, Size = plain.Length, Md5 = Md5(plain), Sha256 = Convert.ToHexStringLower(SHA256.HashData(plain)),
                SourceBytes = plain.Length,
            }).ToList(),
        };
        var json = old.ToUtf8Json();
        Assert.Contains("\"format\": 1", System.Text.Encoding.UTF8.GetString(json));
        File.WriteAllBytes(manifestPath, json);
        return plain;
    }

    [Fact]
    public async Task A_package_written_before_the_snapshot_was_compressed_still_restores_byte_identical_and_gives_its_events_back()
    {
        await using var bed = await CreateAsync(localSessions: 2);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 40, snapshots: 2);
        var originalLog = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        var events = await EventCountAsync(ws, id);
        Assert.All(await BackupAsync(ws, id), r => Assert.True(r.Verified));
        var plain = RewriteAsFormat1(bed, id);

        // The catalog is lost and rebuilt from the tier alone: the sessions come back from the format 1 manifest, and
        // their events from its plain analytics snapshot.
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync();
        Assert.NotEmpty(await ToListAsync(ws.Backups.RebuildCatalogAsync(BackupTier, None)));
        Assert.Equal(events, await EventCountAsync(ws, id));

        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);

        Assert.True(restored.Verified);
        Assert.Equal(plain, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.AnalyticsFileName)));
        Assert.Equal(originalLog, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
        Assert.Equal(1, (await SessionManifest.ReadAsync(Path.Combine(elsewhere, SessionManifest.FileName), None)).Format);
    }

    [Fact]
    public async Task A_new_package_lists_the_compressed_snapshot_with_its_plain_size_and_restores_it_after_a_rebuild()
    {
        await using var bed = await CreateAsync(localSessions: 2);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 40, snapshots: 2);
        var events = await EventCountAsync(ws, id);
        Assert.All(await BackupAsync(ws, id), r => Assert.True(r.Verified));
        var folder = bed.TierPath($"Phase_1/sessions/{id}/");
        var manifest = await SessionManifest.ReadAsync(Path.Combine(folder, SessionManifest.FileName), None);
        var stored = File.ReadAllBytes(Path.Combine(folder, SessionPackager.CompressedAnalyticsFileName));
        var plain = Gunzip(stored);

        Assert.Equal(SessionManifest.CurrentFormat, manifest.Format);
        Assert.Null(manifest.Find(SessionPackager.AnalyticsFileName));
        var file = SessionPackager.FindAnalytics(manifest)!;
        Assert.Equal((SessionPackager.CompressedAnalyticsFileName, stored.LongLength, Md5(stored)), (file.Name, file.Size, file.Md5));
        Assert.Equal(new PackagedEntry(SessionPackager.AnalyticsFileName, plain.LongLength), Assert.Single(file.Contents));
        Assert.True(stored.Length * 2 < plain.Length, $"{stored.Length} bytes stored for a {plain.Length}-byte SQLite file");
        Assert.Equal("SQLite format 3\0"u8.ToArray(), plain[..16]);

        await bed.CloseAsync(ws);
        foreach (var f in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(f);
        ws = await bed.OpenAsync();
        Assert.NotEmpty(await ToListAsync(ws.Backups.RebuildCatalogAsync(BackupTier, None)));
        Assert.Equal(events, await EventCountAsync(ws, id));
        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);
        Assert.Equal(plain, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.AnalyticsFileName)));
    }

    [Fact]
    public async Task A_damaged_compressed_snapshot_on_the_tier_is_refused_on_restore_and_nothing_is_written()
    {
        await using var bed = await CreateAsync(localSessions: 2);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, events: 40, snapshots: 2);
        Assert.All(await BackupAsync(ws, id), r => Assert.True(r.Verified));
        var path = bed.TierPath($"Phase_1/sessions/{id}/{SessionPackager.CompressedAnalyticsFileName}");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None));

        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.False(File.Exists(Path.Combine(elsewhere, SessionPackager.AnalyticsFileName)));
    }

    [Fact]
    public async Task A_manifest_that_understates_what_the_snapshot_unpacks_to_is_refused_instead_of_unpacking_beyond_it()
    {
        using var dir = new TierStorage.Tests.Packaging.TempDirectory();
        var plain = new byte[200_000];
        new Random(3).NextBytes(plain.AsSpan(0, 50_000));
        var gz = dir.Combine(SessionPackager.CompressedAnalyticsFileName);
        await using (var output = File.Create(gz))
        await using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal))
            gzip.Write(plain);
        var lying = new PackagedFile { Name = SessionPackager.CompressedAnalyticsFileName, Size = new FileInfo(gz).Length, Contents = [new PackagedEntry(SessionPackager.AnalyticsFileName, 1000)] };
        var target = dir.Combine("out", SessionPackager.AnalyticsFileName);

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SessionPackager.UnpackAnalyticsAsync(gz, lying, target, overwrite: false, None));
        Assert.Equal(TierErrorKind.InvalidData, ex.Kind);
        Assert.False(File.Exists(target));

        var noMember = lying with { Contents = [] };
        Assert.Equal(ErrorIds.InvalidManifest, (await Assert.ThrowsAsync<TierStorageException>(() => SessionPackager.UnpackAnalyticsAsync(gz, noMember, target, overwrite: false, None))).ErrorId);

        await SessionPackager.UnpackAnalyticsAsync(gz, lying with { Contents = [new PackagedEntry(SessionPackager.AnalyticsFileName, plain.Length)] }, target, overwrite: false, None);
        Assert.Equal(plain, File.ReadAllBytes(target));
    }
}
