using System.IO.Compression;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;

namespace TierStorage.Tests.Collections;

/// <summary>Collections (issue 13) against a folder tier through the fault-injecting store: versions, dedup, restore, compare.</summary>
public sealed class CollectionBackupTests : IAsyncLifetime
{
    private BackupTestBed _bed = null!;
    private TierWorkspace _workspace = null!;

    private string Source => Path.Combine(_bed.Root, "configs");

    public async Task InitializeAsync()
    {
        _bed = await BackupTestBed.CreateAsync(extraYaml: """
            collections:
              - name: configs
                path: ../configs
                exclude: ["*.tmp"]
                keep: { last: 3 }
            """);
        Directory.CreateDirectory(Source);
        _workspace = await _bed.OpenAsync();
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private CollectionDefinition Configs => _workspace.Collections.GetCollection("configs");

    private void Write(string relative, string text, DateTime? modified = null)
    {
        var path = Path.Combine(Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, modified ?? new DateTime(2026, 10, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(1234567));
    }

    private Task<CollectionBackupResult> BackupAsync() => _workspace.Collections.BackupAsync(Configs, null, CancellationToken.None);

    private async Task<List<CollectionRestoreItem>> RestoreAsync(CollectionRestoreRequest request)
    {
        var items = new List<CollectionRestoreItem>();
        await foreach (var item in _workspace.Collections.RestoreAsync(request, null, CancellationToken.None)) items.Add(item);
        return items;
    }

    private async Task<List<CollectionVersionInfo>> VersionsAsync()
    {
        var versions = new List<CollectionVersionInfo>();
        await foreach (var v in _workspace.Collections.GetVersionsAsync(Configs, CancellationToken.None)) versions.Add(v);
        return versions;
    }

    private void SeedTree()
    {
        Write("settings.json", "{\"theme\":\"dark\"}");
        Write("agents/reviewer.md", "# reviewer\n" + new string('x', 5000));
        Write("agents/sub dir/naïve ünïcode 文件.txt", "unicode name");
        Write("empty.txt", "");
        Write(string.Join('/', Enumerable.Repeat("deep-folder-name", 12)) + "/long.txt", "long path");
        Write("node_modules/pkg/index.js", "module.exports = 1;");
        Write("scratch.tmp", "left out");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(Source, "settings.json"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public async Task Round_trip_is_byte_identical_with_times_and_modes_and_leaves_out_excluded_files()
    {
        SeedTree();
        var result = await BackupAsync();

        Assert.Equal(CollectionBackupStatus.Succeeded, result.Status);
        Assert.Equal(5, result.FileCount);
        var destination = Path.Combine(_bed.Root, "restored");
        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Destination = destination });

        Assert.All(items, i => Assert.Equal(CollectionRestoreAction.Restored, i.Action));
        Assert.Equal(5, items.Count);
        foreach (var source in Directory.EnumerateFiles(Source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Source, source);
            var restored = Path.Combine(destination, relative);
            if (relative.StartsWith("node_modules", StringComparison.Ordinal) || relative.EndsWith(".tmp", StringComparison.Ordinal))
            {
                Assert.False(File.Exists(restored), relative);
                continue;
            }
            Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(restored));
            Assert.Equal(File.GetLastWriteTimeUtc(source), File.GetLastWriteTimeUtc(restored));
            if (!OperatingSystem.IsWindows()) Assert.Equal(File.GetUnixFileMode(source), File.GetUnixFileMode(restored));
        }
        Assert.Empty(Directory.EnumerateFiles(destination, "*.ts*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_unchanged_folder_uploads_only_a_manifest_and_reads_no_file()
    {
        SeedTree();
        var first = await BackupAsync();
        var puts = _bed.Faults.Puts;

        var second = await BackupAsync();

        // Five files, four contents: the empty file's is never stored.
        Assert.Equal(4, first.ContentsUploaded);
        Assert.Equal(0, second.ContentsUploaded);
        Assert.Equal(0, second.FilesHashed);
        Assert.Equal(puts + 1, _bed.Faults.Puts);
        Assert.Equal(first.FileCount, second.FileCount);
        Assert.True(second.BytesSent < 2000, $"sent {second.BytesSent} bytes");
        Assert.Equal(2, (await VersionsAsync()).Count);
    }

    [Fact]
    public async Task A_rename_uploads_nothing_and_a_one_byte_change_uploads_one_content()
    {
        SeedTree();
        await BackupAsync();
        File.Move(Path.Combine(Source, "agents/reviewer.md"), Path.Combine(Source, "agents/reviewer-renamed.md"));

        var renamed = await BackupAsync();
        Write("settings.json", "{\"theme\":\"light\"}", DateTime.UtcNow);
        var edited = await BackupAsync();

        Assert.Equal(0, renamed.ContentsUploaded);
        Assert.Equal((1, 1, 0), (renamed.FilesAdded, renamed.FilesRemoved, renamed.FilesChanged));
        Assert.Equal(1, edited.ContentsUploaded);
        Assert.Equal(1, edited.FilesChanged);
        Assert.Equal(1, edited.FilesHashed);
    }

    [Fact]
    public async Task A_backup_cut_off_mid_way_leaves_no_version_and_the_rerun_completes_without_resending()
    {
        SeedTree();
        _bed.Faults.PutsBeforeOffline = 2;

        var failure = await Assert.ThrowsAsync<TierStorageException>(BackupAsync);
        Assert.Equal(ErrorIds.TierUnreachable, failure.ErrorId);
        Assert.Empty(await VersionsAsync());

        // Uploads run four at once, so two to all four may have landed before the connection went (then the manifest failed).
        var stored = Directory.EnumerateFiles(Path.Combine(_bed.TierRoot, "collections", "contents"), "*.gz", SearchOption.AllDirectories).Count();
        Assert.InRange(stored, 2, 4);
        _bed.Faults.PutsBeforeOffline = null;
        var rerun = await BackupAsync();

        Assert.Equal(4 - stored, rerun.ContentsUploaded);
        Assert.Single(await VersionsAsync());
        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Destination = Path.Combine(_bed.Root, "r") });
        Assert.All(items, i => Assert.Equal(CollectionRestoreAction.Restored, i.Action));
    }

    [Fact]
    public async Task A_wrong_checksum_from_the_tier_fails_the_version()
    {
        SeedTree();
        _bed.Faults.WrongMd5ForSuffix = ".gz";

        var failure = await Assert.ThrowsAsync<TierStorageException>(BackupAsync);

        Assert.Equal(ErrorIds.ChecksumMismatch, failure.ErrorId);
        _bed.Faults.WrongMd5ForSuffix = null;
        Assert.Empty(await VersionsAsync());
    }

    [Fact]
    public async Task A_rerun_restore_removes_the_temporary_a_killed_restore_left_but_not_one_being_written()
    {
        SeedTree();
        await BackupAsync();
        File.Delete(Path.Combine(Source, "settings.json"));
        var stale = Path.Combine(Source, $".settings.json.{Guid.NewGuid():N}.tsrestore");
        var live = Path.Combine(Source, $".settings.json.{Guid.NewGuid():N}.tsrestore");
        File.WriteAllText(stale, "half a download, killed an hour ago");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-1));
        File.WriteAllText(live, "another restore writing now");

        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Paths = ["settings.json"] });

        Assert.Equal(CollectionRestoreAction.Restored, Assert.Single(items).Action);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
    }

    [Fact]
    public async Task Restore_keeps_newer_local_files_unless_forced_and_skips_identical_ones()
    {
        SeedTree();
        await BackupAsync();
        Write("settings.json", "edited after the backup", DateTime.UtcNow);

        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs" });

        Assert.Equal(CollectionRestoreAction.SkippedNewer, items.Single(i => i.Path == "settings.json").Action);
        Assert.All(items.Where(i => i.Path != "settings.json"), i => Assert.Equal(CollectionRestoreAction.Identical, i.Action));
        Assert.Equal("edited after the backup", File.ReadAllText(Path.Combine(Source, "settings.json")));

        var forced = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Paths = ["settings.json"], Force = true });

        Assert.Equal(CollectionRestoreAction.Restored, Assert.Single(forced).Action);
        Assert.Equal("{\"theme\":\"dark\"}", File.ReadAllText(Path.Combine(Source, "settings.json")));
    }

    [Fact]
    public async Task A_damaged_content_on_the_tier_fails_that_file_and_replaces_nothing()
    {
        SeedTree();
        await BackupAsync();
        var content = Directory.EnumerateFiles(Path.Combine(_bed.TierRoot, "collections", "contents"), "*.gz", SearchOption.AllDirectories)
            .Single(f => DecompressedText(f) == "unicode name");
        using (var output = new GZipStream(File.Create(content), CompressionLevel.Fastest)) output.Write(Encoding.UTF8.GetBytes("tampered bytes"));
        var target = Path.Combine(Source, "agents/sub dir/naïve ünïcode 文件.txt");
        File.WriteAllText(target, "local");
        File.SetLastWriteTimeUtc(target, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Paths = ["**/*.txt"] });

        var failed = items.Single(i => i.Path.EndsWith("文件.txt", StringComparison.Ordinal));
        Assert.Equal(CollectionRestoreAction.Failed, failed.Action);
        Assert.Contains("does not match the version", failed.Message, StringComparison.Ordinal);
        Assert.Equal("local", File.ReadAllText(target));
    }

    [Fact]
    public async Task A_manifest_with_a_path_leaving_the_destination_is_refused_whole()
    {
        Write("a.txt", "a");
        var version = (await BackupAsync()).VersionId!;
        Directory.Delete(Path.Combine(_bed.WorkspaceRoot, "collections"), recursive: true);
        var key = Path.Combine(_bed.TierRoot, CollectionOperations.VersionKey("configs", version));
        var json = DecompressedText(key).Replace("\"a.txt\"", "\"../outside.txt\"", StringComparison.Ordinal);
        using (var output = new GZipStream(File.Create(key), CompressionLevel.Fastest)) output.Write(Encoding.UTF8.GetBytes(json));

        var failure = await Assert.ThrowsAsync<TierStorageException>(() => RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Destination = Path.Combine(_bed.Root, "r") }));

        Assert.Equal(ErrorIds.InvalidManifest, failure.ErrorId);
        Assert.False(File.Exists(Path.Combine(_bed.Root, "outside.txt")));
    }

    [Fact]
    public async Task A_link_in_the_destination_is_not_followed_out_of_it()
    {
        if (OperatingSystem.IsWindows()) return; // symbolic links need a privilege there; the check is the same code
        Write("agents/reviewer.md", "# reviewer");
        await BackupAsync();
        var outside = Path.Combine(_bed.Root, "outside");
        Directory.CreateDirectory(outside);
        var destination = Path.Combine(_bed.Root, "r");
        Directory.CreateDirectory(destination);
        Directory.CreateSymbolicLink(Path.Combine(destination, "agents"), outside);

        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Destination = destination });

        var item = Assert.Single(items);
        Assert.Equal(CollectionRestoreAction.Failed, item.Action);
        Assert.Contains("symbolic link", item.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task Compare_reports_added_changed_and_removed_files_and_ignores_a_touched_one()
    {
        SeedTree();
        var first = (await BackupAsync()).VersionId!;
        Write("new.txt", "new");
        Write("settings.json", "{\"theme\":\"light\"}", DateTime.UtcNow);
        File.Delete(Path.Combine(Source, "empty.txt"));
        File.SetLastWriteTimeUtc(Path.Combine(Source, "agents/reviewer.md"), DateTime.UtcNow);

        var againstFolder = new List<CollectionFileChange>();
        await foreach (var change in _workspace.Collections.CompareAsync(Configs, first, null, CancellationToken.None)) againstFolder.Add(change);
        var second = (await BackupAsync()).VersionId!;
        var betweenVersions = new List<CollectionFileChange>();
        await foreach (var change in _workspace.Collections.CompareAsync(Configs, first, second, CancellationToken.None)) betweenVersions.Add(change);

        var expected = new[] { ("empty.txt", CollectionChangeKind.Removed), ("new.txt", CollectionChangeKind.Added), ("settings.json", CollectionChangeKind.Changed) };
        Assert.Equal(expected, againstFolder.Select(c => (c.Path, c.Change)));
        Assert.Equal(expected, betweenVersions.Select(c => (c.Path, c.Change)));
    }

    [Fact]
    public async Task Incompressible_files_are_stored_without_deflate_and_restored_byte_for_byte()
    {
        var random = new byte[200_000];
        new Random(7).NextBytes(random);
        File.WriteAllBytes(Path.Combine(Source, "blob.bin"), random);
        Write("text.txt", string.Concat(Enumerable.Repeat("the same line again\n", 10_000)));

        await BackupAsync();

        var stored = Directory.EnumerateFiles(Path.Combine(_bed.TierRoot, "collections", "contents"), "*.gz", SearchOption.AllDirectories).Select(f => new FileInfo(f).Length).Order().ToList();
        Assert.InRange(stored[1], random.Length, random.Length + 1024); // stored blocks: a few bytes of framing per 64 KiB
        Assert.True(stored[0] < 10_000, $"the text was stored in {stored[0]} bytes");
        var items = await RestoreAsync(new CollectionRestoreRequest { Collection = "configs", Destination = Path.Combine(_bed.Root, "r") });
        Assert.All(items, i => Assert.Equal(CollectionRestoreAction.Restored, i.Action));
        Assert.Equal(random, File.ReadAllBytes(Path.Combine(_bed.Root, "r", "blob.bin")));
    }

    [Fact]
    public async Task An_unknown_collection_or_version_is_reported_by_name()
    {
        var unknown = Assert.Throws<TierStorageException>(() => _workspace.Collections.GetCollection("nope"));
        Assert.Equal(ErrorIds.CollectionNotFound, unknown.ErrorId);
        Assert.Contains("configs", unknown.Message, StringComparison.Ordinal);

        var noVersion = await Assert.ThrowsAsync<TierStorageException>(() => RestoreAsync(new CollectionRestoreRequest { Collection = "configs" }));
        Assert.Equal(ErrorIds.CollectionVersionNotFound, noVersion.ErrorId);
    }

    [Fact]
    public async Task A_missing_folder_backs_up_nothing()
    {
        Directory.Delete(Source);

        var failure = await Assert.ThrowsAsync<TierStorageException>(BackupAsync);

        Assert.Equal(ErrorIds.CollectionSourceNotFound, failure.ErrorId);
        Assert.Empty(await VersionsAsync());
    }

    private static string DecompressedText(string path)
    {
        using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(input);
        return reader.ReadToEnd();
    }
}
