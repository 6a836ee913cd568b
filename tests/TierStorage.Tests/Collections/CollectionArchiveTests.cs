using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using TierStorage.Tests.Tiers.S3;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Collections;

/// <summary>Collection versions archived to Tier 3 after archive_after_days (issue 13): bundles, Tier 2 prune, restore, kills.</summary>
public sealed class CollectionArchiveTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A bed whose backup tier and folder archive tier sit in their own temp folder (removed with it), with the
    /// collections <c>notes</c> (../notes, archived by <paramref name="rules"/>) and <c>other</c> (../other, never archived).</summary>
    private sealed class Bed : IAsyncDisposable
    {
        private Bed(BackupTestBed test, string tiers)
        {
            Test = test;
            Tiers = tiers;
        }

        public BackupTestBed Test { get; }
        public string Tiers { get; }
        public string Source => Path.Combine(Test.Root, "notes");
        public string ContentsFolder => Path.Combine(Tiers, "backup", Test.Namespace, "collections", "contents");
        public string BundlesFolder => Path.Combine(Tiers, "archive", Test.Namespace, "collections", "bundles");

        public static async Task<Bed> CreateAsync(string rules = "archive_after_days: 30", string? archiveYaml = null, Func<string, string>? kill = null)
        {
            var tiers = Path.Combine(Path.GetTempPath(), "ts-colarch-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tiers);
            archiveYaml ??= $"""
                  - name: archive
                    level: 3
                    kind: folder
                    path: {Path.Combine(tiers, "archive")}
                """;
            var test = await BackupTestBed.CreateAsync(tierYaml: $"""
                  - name: backup
                    level: 2
                    kind: folder
                    path: {Path.Combine(tiers, "backup")}
                {archiveYaml}
                """, extraYaml: $"""
                collections:
                  - name: notes
                    path: ../notes
                    {rules}
                  - name: other
                    path: ../other
                """);
            Directory.CreateDirectory(Path.Combine(test.Root, "notes"));
            Directory.CreateDirectory(Path.Combine(test.Root, "other"));
            return new Bed(test, tiers);
        }

        public List<string> Bundles(string pattern = "*.tar.gz") =>
            Directory.Exists(BundlesFolder) ? Directory.EnumerateFiles(BundlesFolder, pattern).Order(StringComparer.Ordinal).ToList() : [];

        public int ContentCount() => Directory.EnumerateFiles(ContentsFolder, "*.gz", SearchOption.AllDirectories).Count();

        public async ValueTask DisposeAsync()
        {
            await Test.DisposeAsync();
            try
            {
                Directory.Delete(Tiers, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless; failing the test over it would hide the real result.
            }
        }
    }

    private static void Write(string folder, string relative, byte[] bytes, DateTime modified)
    {
        var path = Path.Combine(folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, modified);
    }

    private static byte[] Random(int seed, int size)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Text(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    /// <summary>Every file of the folder with its bytes and modified time, by relative path.</summary>
    private static Dictionary<string, (byte[] Bytes, DateTime Modified)> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(
            p => Path.GetRelativePath(folder, p).Replace(Path.DirectorySeparatorChar, '/'), p => (File.ReadAllBytes(p), File.GetLastWriteTimeUtc(p)));

    /// <summary>Five nightly versions of notes: same.txt and big.bin in all, day.txt changing, sub/n&lt;i&gt;.md added each day,
    /// an empty file; other holds a copy of day 0's day.txt. Returns each version's id and the folder as it was then.</summary>
    private static async Task<List<(string Id, Dictionary<string, (byte[] Bytes, DateTime Modified)> Files)>> NightlyVersionsAsync(Bed bed, TierWorkspace ws, int nights = 5)
    {
        var notes = ws.Collections.GetCollection("notes");
        var start = new DateTime(2026, 10, 1, 12, 0, 0, DateTimeKind.Utc);
        Write(bed.Source, "same.txt", Text("the same in every version"), start);
        Write(bed.Source, "big.bin", Random(7, 3000), start);
        Write(bed.Source, "empty.txt", [], start);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(bed.Source, "same.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Write(Path.Combine(bed.Test.Root, "other"), "copy.txt", Text("day 0"), start);
        var versions = new List<(string, Dictionary<string, (byte[], DateTime)>)>();
        for (var i = 0; i < nights; i++)
        {
            Write(bed.Source, "day.txt", Text($"day {i}"), start.AddDays(i));
            Write(bed.Source, $"sub/n{i}.md", Text($"# note {i}\n" + new string('n', 100 * i)), start.AddDays(i));
            bed.Test.Time.Advance(TimeSpan.FromDays(1));
            var result = await ws.Collections.BackupAsync(notes, null, None);
            versions.Add((result.VersionId!, Snapshot(bed.Source)));
        }
        await ws.Collections.BackupAsync(ws.Collections.GetCollection("other"), null, None);
        return versions;
    }

    private static async Task<List<TierMove>> ApplyAsync(TierWorkspace ws, string collection = "notes")
    {
        var definition = ws.Collections.GetCollection(collection);
        var plan = await ws.Collections.PlanRetentionAsync(definition, None);
        return await ToListAsync(ws.Collections.ApplyRetentionAsync(definition, plan, None));
    }

    private static async Task<List<CollectionVersionInfo>> VersionsAsync(TierWorkspace ws) =>
        await ToListAsync(ws.Collections.GetVersionsAsync(ws.Collections.GetCollection("notes"), None));

    private static Task<List<CollectionRestoreItem>> RestoreAsync(TierWorkspace ws, string versionId, string destination) =>
        ToListAsync(ws.Collections.RestoreAsync(new CollectionRestoreRequest { Collection = "notes", VersionId = versionId, Destination = destination }, null, None));

    /// <summary>Restores the version into a new folder and checks every file byte for byte, with its time (and mode).</summary>
    private static async Task AssertRestoresAsync(TierWorkspace ws, string root, string versionId, Dictionary<string, (byte[] Bytes, DateTime Modified)> expected)
    {
        var destination = Path.Combine(root, "restore-" + Guid.NewGuid().ToString("N"));
        var items = await RestoreAsync(ws, versionId, destination);
        Assert.All(items, item => Assert.True(item.Action == CollectionRestoreAction.Restored, $"{item.Path}: {item.Action} {item.Message}"));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), Snapshot(destination).Keys.Order(StringComparer.Ordinal));
        foreach (var (path, (bytes, modified)) in expected)
        {
            var restored = Path.Combine(destination, path);
            Assert.Equal(bytes, File.ReadAllBytes(restored));
            Assert.Equal(modified, File.GetLastWriteTimeUtc(restored));
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(destination, "same.txt")));
        Directory.Delete(destination, recursive: true);
    }

    [Fact]
    public async Task Old_versions_are_archived_into_one_bundle_their_tier2_contents_pruned_only_when_unused_and_restored_byte_identical()
    {
        await using var bed = await Bed.CreateAsync("archive_after_days: 30\n    delete_after_days: 60");
        var ws = await bed.Test.OpenAsync();
        var versions = await NightlyVersionsAsync(bed, ws);
        // same, big, n0..n4, day0..day4; the empty file is never stored, and other's copy.txt is day 0's content.
        Assert.Equal(12, bed.ContentCount());
        bed.Test.Time.Advance(TimeSpan.FromDays(40));

        var plan = await ws.Collections.PlanRetentionAsync(ws.Collections.GetCollection("notes"), None);

        Assert.Equal(versions.SkipLast(1).Select(v => "notes@" + v.Id), plan.Select(m => m.Subject));
        Assert.All(plan, m => Assert.Equal((TierMoveAction.Archive, "backup", "archive", TierMoveState.Planned, "collections[notes].archive_after_days = 30"), (m.Action, m.From, m.To, m.State, m.Rule)));
        Assert.Empty(bed.Bundles());

        var done = await ToListAsync(ws.Collections.ApplyRetentionAsync(ws.Collections.GetCollection("notes"), plan, None));

        Assert.Equal(4, done.Count(m => m is { Action: TierMoveAction.Archive, State: TierMoveState.Done }));
        var prune = Assert.Single(done, m => m.Subject.StartsWith("collections/contents/", StringComparison.Ordinal));
        Assert.StartsWith("collections/contents/ (3 contents", prune.Subject, StringComparison.Ordinal);
        // One bundle for ten contents (never one object per file), its manifest beside it.
        var bundle = Assert.Single(bed.Bundles());
        var manifestPath = Assert.Single(bed.Bundles("*.json"));
        var id = Path.GetFileName(bundle)[..^".tar.gz".Length];
        var manifest = CollectionBundle.Parse(File.ReadAllBytes(manifestPath), id, manifestPath);
        Assert.Equal(10, manifest.Members.Count);
        Assert.Equal(("backup", new FileInfo(bundle).Length), (manifest.SourceTier, manifest.Size));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(bundle))), manifest.Sha256);
        // day 1..3 were only in archived versions; day 0 is still other's, day 4 the newest's.
        Assert.Equal(9, bed.ContentCount());

        var listed = await VersionsAsync(ws);
        Assert.Equal(["archive", "archive", "archive", "archive", "backup"], listed.Select(v => v.Tier));
        Assert.Equal([true, true, true, true, false], listed.Select(v => v.Archived));
        Assert.All(listed.SkipLast(1), v => Assert.Equal(bed.Test.Time.GetUtcNow(), v.ArchivedAt));
        foreach (var (versionId, files) in versions) await AssertRestoresAsync(ws, bed.Test.Root, versionId, files);
        // Another process, no cache: the archived state is read from the tier's manifests.
        Directory.Delete(Path.Combine(bed.Test.WorkspaceRoot, "collections"), recursive: true);
        var fresh = await bed.Test.OpenAsync();
        await AssertRestoresAsync(fresh, bed.Test.Root, versions[0].Id, versions[0].Files);
        Assert.DoesNotContain(await fresh.Collections.PlanRetentionAsync(fresh.Collections.GetCollection("notes"), None), m => m.Action == TierMoveAction.Archive);
        // The newest version's contents stayed: an unchanged folder sends nothing again.
        Assert.Equal(0, (await fresh.Collections.BackupAsync(fresh.Collections.GetCollection("notes"), null, None)).ContentsUploaded);

        // Past delete_after_days the archived versions go, and with them the bundle no version names any more.
        bed.Test.Time.Advance(TimeSpan.FromDays(30));
        var deleted = await ApplyAsync(fresh);

        // The four archived versions and the fifth, which the backup since made one of the old ones.
        Assert.Equal(5, deleted.Count(m => m is { Action: TierMoveAction.Delete, State: TierMoveState.Done } && m.Subject.StartsWith("notes@", StringComparison.Ordinal)));
        Assert.Contains(deleted, m => m.Subject.StartsWith("collections/bundles/ (1 bundles", StringComparison.Ordinal) && m.From == "archive");
        Assert.Empty(bed.Bundles());
        Assert.Empty(bed.Bundles("*.json"));
        Assert.Equal(["backup"], (await VersionsAsync(fresh)).Select(v => v.Tier));
    }

    [Fact]
    public async Task Contents_beyond_the_bundle_limit_go_into_several_bundles_each_holding_many_files_and_restore_across_them()
    {
        await using var bed = await Bed.CreateAsync("archive_after_days: 1");
        var ws = await bed.Test.OpenAsync();
        ws.Collections.BundleBytesLimit = 8 * 1024;
        var at = new DateTime(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < 40; i++) Write(bed.Source, $"data/f{i:00}.bin", Random(100 + i, 1000), at);
        var first = await ws.Collections.BackupAsync(ws.Collections.GetCollection("notes"), null, None);
        var expected = Snapshot(bed.Source);
        Write(bed.Source, "later.txt", Text("later"), at);
        bed.Test.Time.Advance(TimeSpan.FromDays(2));
        await ws.Collections.BackupAsync(ws.Collections.GetCollection("notes"), null, None);

        var done = await ApplyAsync(ws);

        Assert.Equal(TierMoveState.Done, Assert.Single(done, m => m.Action == TierMoveAction.Archive).State);
        var bundles = bed.Bundles();
        // 40 incompressible 1000-byte contents (gzip's stored blocks make each a little more), 8 KiB a bundle: as many as fit
        // in each (seven), so six bundles, not 40 objects.
        var storedSize = Directory.EnumerateFiles(bed.ContentsFolder, "*.gz", SearchOption.AllDirectories).Max(p => new FileInfo(p).Length);
        var perBundle = (int)(8 * 1024 / storedSize);
        Assert.InRange(perBundle, 5, 8);
        Assert.Equal((40 + perBundle - 1) / perBundle, bundles.Count);
        Assert.Equal(bundles.Count, bed.Bundles("*.json").Count);
        Assert.Equal("archive", (await VersionsAsync(ws))[0].Tier);
        var destination = Path.Combine(bed.Test.Root, "out");
        var items = await RestoreAsync(ws, first.VersionId!, destination);
        Assert.Equal(40, items.Count(i => i.Action == CollectionRestoreAction.Restored));
        foreach (var (path, (bytes, _)) in expected) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(destination, path)));
        // One glob: only the bundle that holds it is read.
        var one = await ToListAsync(ws.Collections.RestoreAsync(new CollectionRestoreRequest { Collection = "notes", VersionId = first.VersionId, Paths = ["data/f07.bin"], Destination = Path.Combine(bed.Test.Root, "one") }, null, None));
        Assert.Equal(CollectionRestoreAction.Restored, Assert.Single(one).Action);
        // The bundles were downloaded into staging and are gone again.
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(bed.Test.Layout.StagingDirectory, "collections"), "thaw-*"));
        Assert.Empty(Directory.EnumerateFiles(bed.Test.Layout.StagingDirectory, "*.tar.gz", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_manifest_goes_to_standard_class_beside_a_deep_archive_bundle_which_is_thawed_once_then_restored()
    {
        var s3 = new FakeS3Client();
        await using var bed = await Bed.CreateAsync(archiveYaml: """
              - name: archive
                level: 3
                kind: s3
                bucket: archive-bucket
                region: us-east-1
                storage_class: DEEP_ARCHIVE
                price_per_gb_month: 0.00099
            """);
        bed.Test.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(tier.Kind == TierKind.S3
            ? new S3ObjectStore(new S3StoreOptions { TierName = tier.Name, Bucket = "archive-bucket", Prefix = "ts", TimeProvider = bed.Test.Time }, s3)
            : TierStoreFactory.FolderStore(tier, context));
        var ws = await bed.Test.OpenAsync();
        var versions = await NightlyVersionsAsync(bed, ws, nights: 2);
        bed.Test.Time.Advance(TimeSpan.FromDays(31));

        await ApplyAsync(ws);

        var bundleKey = Assert.Single(s3.Objects.Keys, k => k.EndsWith(".tar.gz", StringComparison.Ordinal));
        var manifestKey = Assert.Single(s3.Objects.Keys, k => k.EndsWith(".json", StringComparison.Ordinal));
        Assert.StartsWith("ts/collections/bundles/", bundleKey, StringComparison.Ordinal);
        Assert.Equal(("DEEP_ARCHIVE", "STANDARD"), (s3.Objects[bundleKey].StorageClass, s3.Objects[manifestKey].StorageClass));
        var destination = Path.Combine(bed.Test.Root, "out");
        var request = new CollectionRestoreRequest { Collection = "notes", VersionId = versions[0].Id, Destination = destination, Retrieval = ArchiveRetrievalTier.Bulk };

        var first = Assert.Single(await ToListAsync(ws.Collections.RestoreAsync(request, null, None)));
        var second = Assert.Single(await ToListAsync(ws.Collections.RestoreAsync(request, null, None)));

        Assert.Equal((CollectionRestoreAction.Thawing, bundleKey["ts/".Length..]), (first.Action, first.Path));
        Assert.Equal(bed.Test.Time.GetUtcNow().AddHours(48), first.ReadyAfter);
        Assert.NotNull(first.ThawCostUsd);
        Assert.Contains("Bulk thaw", first.Message, StringComparison.Ordinal);
        Assert.Contains("run Restore-Collection again after", first.Message, StringComparison.Ordinal);
        Assert.Equal((CollectionRestoreAction.Thawing, first.ReadyAfter), (second.Action, second.ReadyAfter));
        Assert.Single(s3.RestoreRequests);
        Assert.False(Directory.Exists(destination) && Directory.EnumerateFiles(destination).Any());

        s3.FinishRestore(bundleKey, bed.Test.Time.GetUtcNow().AddDays(7));
        await AssertRestoresAsync(ws, bed.Test.Root, versions[0].Id, versions[0].Files);
    }

    [Fact]
    public async Task A_corrupt_bundle_is_refused_on_restore_and_nothing_is_written()
    {
        await using var bed = await Bed.CreateAsync();
        var ws = await bed.Test.OpenAsync();
        var versions = await NightlyVersionsAsync(bed, ws, nights: 2);
        bed.Test.Time.Advance(TimeSpan.FromDays(31));
        await ApplyAsync(ws);
        var bundle = Assert.Single(bed.Bundles());
        var bytes = File.ReadAllBytes(bundle);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(bundle, bytes);
        var destination = Path.Combine(bed.Test.Root, "out");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => RestoreAsync(ws, versions[0].Id, destination));

        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.Contains("is not what its manifest records", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(destination) && Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task A_hostile_bundle_on_the_tier_is_refused_a_manifest_that_lies_and_a_member_that_climbs_out()
    {
        await using var bed = await Bed.CreateAsync();
        var ws = await bed.Test.OpenAsync();
        var versions = await NightlyVersionsAsync(bed, ws, nights: 2);
        bed.Test.Time.Advance(TimeSpan.FromDays(31));
        await ApplyAsync(ws);
        var bundlePath = Assert.Single(bed.Bundles());
        var manifestPath = Assert.Single(bed.Bundles("*.json"));
        var id = Path.GetFileName(bundlePath)[..^".tar.gz".Length];
        var honest = CollectionBundle.Parse(File.ReadAllBytes(manifestPath), id, manifestPath);
        var cache = Path.Combine(bed.Test.WorkspaceRoot, "collections", ".bundles");
        var destination = Path.Combine(bed.Test.Root, "out");

        // A manifest that claims more member bytes than the bundle holds (it would size an extraction): refused as a whole.
        var lying = new CollectionBundle
        {
            BundleId = id, SourceTier = honest.SourceTier, CreatedAt = honest.CreatedAt, Size = honest.Size, Md5 = honest.Md5, Sha256 = honest.Sha256,
            Members = honest.Members.Select((m, i) => i == 0 ? m with { StoredSize = honest.Size } : m).ToList(),
        };
        File.WriteAllBytes(manifestPath, lying.ToUtf8Json());
        Directory.Delete(cache, recursive: true);
        var refused = await Assert.ThrowsAsync<TierStorageException>(() => RestoreAsync(ws, versions[0].Id, destination));
        Assert.Equal(ErrorIds.InvalidManifest, refused.ErrorId);
        Assert.Contains("add up to more bytes than the bundle holds", refused.Message, StringComparison.Ordinal);

        // A bundle rebuilt with a member named ../../evil.gz ahead of the real ones, its manifest's checksums made to match:
        // the extraction refuses the name before anything is written.
        var hostile = Path.Combine(bed.Test.Root, "hostile.tar.gz");
        await using (var output = File.Create(hostile))
        await using (var gzip = new GZipStream(output, CompressionLevel.NoCompression))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            await tar.WriteEntryAsync(new UstarTarEntry(TarEntryType.RegularFile, "../../evil.gz") { DataStream = new MemoryStream([1, 2, 3]) });
            await using var original = new TarReader(new GZipStream(File.OpenRead(bundlePath), CompressionMode.Decompress));
            while (await original.GetNextEntryAsync(copyData: true) is { } entry) await tar.WriteEntryAsync(entry);
        }
        var hostileBytes = File.ReadAllBytes(hostile);
        File.WriteAllBytes(bundlePath, hostileBytes);
        var rebuilt = new CollectionBundle
        {
            BundleId = id, SourceTier = honest.SourceTier, CreatedAt = honest.CreatedAt, Size = hostileBytes.Length, Md5 = Md5(hostileBytes),
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(hostileBytes)), Members = honest.Members,
        };
        File.WriteAllBytes(manifestPath, rebuilt.ToUtf8Json());
        Assert.False(Directory.Exists(cache) && Directory.EnumerateFiles(cache).Any(), "the refused manifest was cached");

        var unsafeArchive = await Assert.ThrowsAsync<TierStorageException>(() => RestoreAsync(ws, versions[0].Id, destination));

        Assert.Equal(ErrorIds.UnsafeArchive, unsafeArchive.ErrorId);
        Assert.Empty(Directory.EnumerateFiles(bed.Test.Root, "evil.gz", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(destination) && Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories).Any());
    }

    public static TheoryData<string, string> HostileManifests => new()
    {
        { """{"format":2}""", "format" },
        { Manifest(bundle: "20261001T000000000Z-00000000"), "describes bundle" },
        { Manifest(archiveKey: "../../etc/passwd"), "archive_key" },
        { Manifest(member: """{"sha256":"ZZ","size":1,"stored_size":1,"stored_sha256":"00"}"""), "sha256" },
        { Manifest(member: $$"""{"sha256":"{{new string('a', 64)}}","size":-1,"stored_size":1,"stored_sha256":"{{new string('b', 64)}}"}"""), "'size'" },
        { Manifest(member: $$"""{"sha256":"{{new string('a', 64)}}","size":1,"stored_size":1,"stored_sha256":"{{new string('b', 64)}}"},{"sha256":"{{new string('a', 64)}}","size":1,"stored_size":1,"stored_sha256":"{{new string('b', 64)}}"}"""), "twice" },
        { Manifest(member: $$"""{"sha256":"{{new string('a', 64)}}","size":1,"stored_size":101,"stored_sha256":"{{new string('b', 64)}}"}"""), "more bytes" },
        { Manifest(sourceTier: "bad\u0001tier"), "source_tier" },
        { "[1,2,3]", "not a JSON object" },
        { "{\"format\":1,", "not valid JSON" },
    };

    private const string BundleId = "20261101T000000000Z-0123abcd";

    private static string Manifest(string bundle = BundleId, string? archiveKey = null, string member = "", string sourceTier = "backup") =>
        $$"""{"format":1,"bundle":"{{bundle}}","source_tier":"{{sourceTier.Replace("\u0001", "\\u0001", StringComparison.Ordinal)}}","created":"2026-11-01T00:00:00Z","archive_key":"{{archiveKey ?? CollectionBundle.ArchiveKeyFor(bundle)}}","size":100,"md5":"{{new string('c', 32)}}","sha256":"{{new string('d', 64)}}","members":[{{member}}]}""";

    [Theory]
    [MemberData(nameof(HostileManifests))]
    public void A_hostile_bundle_manifest_is_refused_naming_what_is_wrong(string json, string why)
    {
        var ex = Assert.Throws<TierStorageException>(() => CollectionBundle.Parse(System.Text.Encoding.UTF8.GetBytes(json), BundleId, "tier:key"));

        Assert.Equal(ErrorIds.InvalidManifest, ex.ErrorId);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.Contains("tier:key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_honest_bundle_manifest_reads_back_as_written()
    {
        var written = new CollectionBundle
        {
            BundleId = BundleId, SourceTier = "backup", CreatedAt = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), Size = 100, Md5 = new string('c', 32), Sha256 = new string('d', 64),
            Members = [new CollectionBundleMember(new string('a', 64), 5, 40, new string('b', 64))],
        };

        var read = CollectionBundle.Parse(written.ToUtf8Json(), BundleId, "x");

        Assert.Equal((written.Size, written.Sha256, written.SourceTier, written.CreatedAt), (read.Size, read.Sha256, read.SourceTier, read.CreatedAt));
        Assert.Equal(written.Members, read.Members);
    }

    /// <summary>Counts the changes (puts and deletes) made through the stores of a bed, and fails the one numbered
    /// <see cref="KillAfter"/> right after it is made: a kill at that point of the run.</summary>
    private sealed class KillSwitch
    {
        public int Changes;
        public int? KillAfter { get; set; }

        public void Changed(string key)
        {
            var n = Interlocked.Increment(ref Changes);
            if (KillAfter == n) throw new IOException($"Killed (test) after change {n}, at '{key}'.");
        }
    }

    private sealed class KillingStore(IObjectStore inner, KillSwitch kill) : IObjectStore
    {
        public string TierName => inner.TierName;
        public TierKind Kind => inner.Kind;
        public string Location => inner.Location;

        public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken)
        {
            var info = await inner.PutAsync(key, content, options, cancellationToken);
            kill.Changed(key);
            return info;
        }

        public Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken) =>
            inner.GetAsync(key, destination, offset, progress, cancellationToken);

        public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken) => inner.StatAsync(key, cancellationToken);

        public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var info in inner.ListAsync(prefix, cancellationToken)) yield return info;
        }

        public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
        {
            var deleted = await inner.DeleteAsync(key, cancellationToken);
            kill.Changed(key);
            return deleted;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private static async Task<(Bed Bed, TierWorkspace Workspace, KillSwitch Kill, List<(string Id, Dictionary<string, (byte[] Bytes, DateTime Modified)> Files)> Versions)> KillableBedAsync(
        string rules = "archive_after_days: 30")
    {
        var bed = await Bed.CreateAsync(rules);
        var kill = new KillSwitch();
        bed.Test.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(new KillingStore(TierStoreFactory.FolderStore(tier, context), kill));
        var ws = await bed.Test.OpenAsync();
        // Two bundles' worth, so a kill can fall between them too.
        ws.Collections.BundleBytesLimit = 2048;
        var versions = await NightlyVersionsAsync(bed, ws, nights: 3);
        bed.Test.Time.Advance(TimeSpan.FromDays(31));
        kill.Changes = 0;
        return (bed, ws, kill, versions);
    }

    [Fact]
    public async Task A_kill_after_any_change_of_the_archive_leaves_every_version_restorable_and_the_rerun_completes_it()
    {
        int changes;
        int contentsAfter;
        {
            var (bed, ws, kill, _) = await KillableBedAsync();
            await using (bed)
            {
                await ApplyAsync(ws);
                changes = kill.Changes;
                contentsAfter = bed.ContentCount();
            }
        }
        // Bundles and their manifests, two version manifests, and the contents only the archived versions used.
        Assert.True(changes >= 7, $"{changes} changes");

        for (var killAfter = 1; killAfter <= changes; killAfter++)
        {
            var (bed, ws, kill, versions) = await KillableBedAsync();
            await using (bed)
            {
                kill.KillAfter = killAfter;
                var killed = await Assert.ThrowsAsync<IOException>(() => ApplyAsync(ws));
                Assert.Contains($"after change {killAfter},", killed.Message, StringComparison.Ordinal);

                // Whatever the kill left, every version restores: as another process would (its own workspace object, the
                // manifests cached by the killed one), and as another machine would (no cache).
                var next = await bed.Test.OpenAsync();
                foreach (var (id, files) in versions) await AssertRestoresAsync(next, bed.Test.Root, id, files);
                Directory.Delete(Path.Combine(bed.Test.WorkspaceRoot, "collections"), recursive: true);
                var elsewhere = await bed.Test.OpenAsync();
                foreach (var (id, files) in versions) await AssertRestoresAsync(elsewhere, bed.Test.Root, id, files);

                await ApplyAsync(elsewhere);

                Assert.Equal(["archive", "archive", "backup"], (await VersionsAsync(elsewhere)).Select(v => v.Tier));
                Assert.Empty(await elsewhere.Collections.PlanRetentionAsync(elsewhere.Collections.GetCollection("notes"), None));
                Assert.Equal(contentsAfter, bed.ContentCount());
                // No bundle without its manifest, no manifest without its bundle.
                Assert.Equal(bed.Bundles().Select(b => b[..^".tar.gz".Length]), bed.Bundles("*.json").Select(j => j[..^".json".Length]));
                foreach (var (id, files) in versions) await AssertRestoresAsync(elsewhere, bed.Test.Root, id, files);
            }
        }
    }

    [Fact]
    public async Task A_kill_after_any_change_of_deleting_archived_versions_leaves_the_rest_restorable_and_the_rerun_removes_their_bundles()
    {
        const string rules = "archive_after_days: 30\n    delete_after_days: 40";
        async Task<(Bed, TierWorkspace, KillSwitch, List<(string Id, Dictionary<string, (byte[] Bytes, DateTime Modified)> Files)>)> ArchivedAsync()
        {
            var (bed, ws, kill, versions) = await KillableBedAsync(rules);
            await ApplyAsync(ws);
            Assert.True(bed.Bundles().Count > 1, "more than one bundle, so a kill can fall between them");
            bed.Test.Time.Advance(TimeSpan.FromDays(10));
            kill.Changes = 0;
            return (bed, ws, kill, versions);
        }

        int changes;
        {
            var (bed, ws, kill, _) = await ArchivedAsync();
            await using (bed)
            {
                await ApplyAsync(ws);
                changes = kill.Changes;
                Assert.Empty(bed.Bundles());
            }
        }
        // Two version manifests, then each bundle's manifest and object.
        Assert.True(changes >= 6, $"{changes} changes");

        for (var killAfter = 1; killAfter <= changes; killAfter++)
        {
            var (bed, ws, kill, versions) = await ArchivedAsync();
            await using (bed)
            {
                kill.KillAfter = killAfter;
                await Assert.ThrowsAsync<IOException>(() => ApplyAsync(ws));

                var next = await bed.Test.OpenAsync();
                var left = (await VersionsAsync(next)).Select(v => v.VersionId).ToHashSet();
                foreach (var (id, files) in versions.Where(v => left.Contains(v.Id))) await AssertRestoresAsync(next, bed.Test.Root, id, files);

                await ApplyAsync(next);

                Assert.Equal([versions[^1].Id], (await VersionsAsync(next)).Select(v => v.VersionId));
                Assert.Empty(bed.Bundles());
                Assert.Empty(bed.Bundles("*.json"));
                await AssertRestoresAsync(next, bed.Test.Root, versions[^1].Id, versions[^1].Files);
            }
        }
    }
}
