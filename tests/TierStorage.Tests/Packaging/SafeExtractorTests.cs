using System.Formats.Tar;
using System.IO.Compression;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Packaging;

public sealed class SafeExtractorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Destination => _dir.Combine("restore", "state");

    private static TarEntry File(string name, int size) =>
        new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(RandomBytes(size, size)) };

    private string BuildArchive(params TarEntry[] entries)
    {
        var path = _dir.Combine("archive.tar.gz");
        using (var gzip = new GZipStream(System.IO.File.Create(path), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var entry in entries) tar.WriteEntry(entry);
        return path;
    }

    public static TheoryData<string> HostileCases => ["parent", "absolute", "drive", "unc", "backslash", "symlink", "hardlink", "chardevice", "blockdevice", "fifo", "oversize", "duplicate", "duplicate-case", "unlisted"];

    private static TarEntry[] Hostile(string kind) => kind switch
    {
        "parent" => [File("ok.json.gz", 10), File("../x", 10)],
        "absolute" => [File("/etc/x", 10)],
        "drive" => [File("C:\\x", 10)],
        "unc" => [File("//server/share/x", 10)],
        "backslash" => [File("sub\\..\\..\\x", 10)],
        "symlink" => [new PaxTarEntry(TarEntryType.SymbolicLink, "ok.json.gz") { LinkName = "/etc/passwd" }],
        "hardlink" => [new PaxTarEntry(TarEntryType.HardLink, "ok.json.gz") { LinkName = "/etc/passwd" }],
        "chardevice" => [new PaxTarEntry(TarEntryType.CharacterDevice, "ok.json.gz") { DeviceMajor = 1, DeviceMinor = 3 }],
        "blockdevice" => [new PaxTarEntry(TarEntryType.BlockDevice, "ok.json.gz") { DeviceMajor = 8, DeviceMinor = 0 }],
        "fifo" => [new PaxTarEntry(TarEntryType.Fifo, "ok.json.gz")],
        "oversize" => [File("ok.json.gz", 5000)],
        "duplicate" => [File("ok.json.gz", 10), File("ok.json.gz", 10)],
        "duplicate-case" => [File("ok.json.gz", 10), File("OK.json.gz", 10)],
        "unlisted" => [File("ok.json.gz", 10), File("extra.json.gz", 10)],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(HostileCases))]
    public async Task Hostile_archives_are_refused_and_nothing_is_written(string kind)
    {
        var entries = Hostile(kind);
        var offender = kind is "parent" or "duplicate" or "duplicate-case" or "unlisted" ? entries[^1].Name : entries[0].Name;
        var archive = BuildArchive(entries);
        var options = new ExtractionOptions { Expected = [new PackagedEntry("ok.json.gz", 10), new PackagedEntry("OK.json.gz", 10)] };

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(archive, Destination, options, CancellationToken.None));

        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Equal(offender, ex.Target);
        Assert.Contains(offender, ex.Message);
        Assert.False(Directory.Exists(Destination));
        Assert.False(System.IO.File.Exists(_dir.Combine("restore", "x")));
        Assert.Equal([archive], Directory.GetFileSystemEntries(_dir.Path).Where(e => !e.EndsWith("restore")).ToArray());
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Combine("restore")));
    }

    [Fact]
    public async Task Hostile_archive_without_a_manifest_is_still_refused()
    {
        var archive = BuildArchive(File("a.json.gz", 10), File("../../escape", 10));
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(archive, Destination, null, CancellationToken.None));
        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.False(Directory.Exists(Destination));
        Assert.False(System.IO.File.Exists(_dir.Combine("escape")));
    }

    [Fact]
    public async Task An_entry_the_manifest_lists_but_the_archive_lacks_is_refused()
    {
        var archive = BuildArchive(File("a.json.gz", 10));
        var options = new ExtractionOptions { Expected = [new PackagedEntry("a.json.gz", 10), new PackagedEntry("b.json.gz", 10)] };
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(archive, Destination, options, CancellationToken.None));
        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Equal("b.json.gz", ex.Target);
        Assert.False(Directory.Exists(Destination));
    }

    [Fact]
    public async Task The_total_cap_bounds_an_archive_without_a_manifest()
    {
        var archive = BuildArchive(File("a.json.gz", 3000), File("b.json.gz", 3000));
        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            SafeExtractor.ExtractTarGzAsync(archive, Destination, new ExtractionOptions { MaxTotalBytes = 5000 }, CancellationToken.None));
        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Equal("b.json.gz", ex.Target);
        Assert.False(Directory.Exists(Destination));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_symlinked_folder_inside_the_destination_is_not_followed_out_of_it(bool overwrite)
    {
        // Issue 11 #12: restore --destination D followed a symlinked directory already inside D and wrote outside it.
        if (OperatingSystem.IsWindows()) return; // symbolic links need a privilege there; junctions are covered by the same check
        var outside = _dir.Combine("outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(Destination);
        Directory.CreateSymbolicLink(Path.Combine(Destination, "state"), outside);
        var archive = BuildArchive(File("state/a.json.gz", 100));

        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            SafeExtractor.ExtractTarGzAsync(archive, Destination, new ExtractionOptions { Overwrite = overwrite }, CancellationToken.None));

        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Contains("link", ex.Message);
        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.Equal([Path.Combine(Destination, "state")], Directory.GetFileSystemEntries(Destination));
    }

    [Fact]
    public async Task Valid_archive_lands_only_when_complete_and_existing_files_need_overwrite()
    {
        var archive = BuildArchive(File("a.json.gz", 100), File("b.json.gz", 200));
        var options = new ExtractionOptions { Expected = [new PackagedEntry("a.json.gz", 100), new PackagedEntry("b.json.gz", 200)] };
        Directory.CreateDirectory(Destination);
        await System.IO.File.WriteAllTextAsync(Path.Combine(Destination, "b.json.gz"), "local");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(archive, Destination, options, CancellationToken.None));
        Assert.Equal(ErrorIds.FileExists, ex.ErrorId);
        Assert.Equal(["b.json.gz"], Directory.GetFiles(Destination).Select(p => Path.GetFileName(p)).ToArray());

        var placed = await SafeExtractor.ExtractTarGzAsync(archive, Destination, options with { Overwrite = true }, CancellationToken.None);
        Assert.Equal(["a.json.gz", "b.json.gz"], placed.Select(p => p.Name).ToArray());
        Assert.Equal(RandomBytes(100, 100), await System.IO.File.ReadAllBytesAsync(Path.Combine(Destination, "a.json.gz")));
        Assert.Equal(RandomBytes(200, 200), await System.IO.File.ReadAllBytesAsync(Path.Combine(Destination, "b.json.gz")));
        Assert.Single(Directory.GetFileSystemEntries(_dir.Combine("restore")));
    }

    [Fact]
    public async Task A_damaged_archive_is_reported_as_corrupt()
    {
        var archive = BuildArchive(File("a.json.gz", 50_000));
        var bytes = await System.IO.File.ReadAllBytesAsync(archive);
        await System.IO.File.WriteAllBytesAsync(archive, bytes[..(bytes.Length / 2)]);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(archive, Destination, null, CancellationToken.None));
        Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
        Assert.False(Directory.Exists(Destination));
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1001)]
    public async Task A_gzip_that_unpacks_to_another_size_than_the_manifest_is_refused(int manifestSize)
    {
        var archive = _dir.Combine("activity.jsonl.gz");
        await using (var gzip = new GZipStream(System.IO.File.Create(archive), CompressionLevel.Fastest))
            await gzip.WriteAsync(new byte[1000]);
        var target = _dir.Combine("restore", "activity.jsonl");
        Directory.CreateDirectory(_dir.Combine("restore"));
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.DecompressGzipAsync(archive, target, manifestSize, overwrite: false, CancellationToken.None));
        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Combine("restore")));
    }
}
