using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using Xunit;

namespace TierStorage.Tests.Packaging;

/// <summary>Tier data that made the parsers throw what nobody caught (issue 11 #18): a sparse entry, a tar size or a
/// manifest size past 2^63, names listed twice. Each was 'Unexpected' (exit 1); each is now InvalidData (exit 4) naming
/// the object.</summary>
public sealed class HostileTierDataTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ts-hostile-" + Guid.NewGuid().ToString("N"));

    public HostileTierDataTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A 512-byte ustar (or GNU, with <paramref name="gnu"/>) header with a valid checksum, for the headers
    /// System.Formats.Tar refuses to write; <paramref name="size"/> is the raw 12-byte size field.</summary>
    internal static byte[] RawHeader(string name, char type, byte[] size, bool gnu = false)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        size.CopyTo(header, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = (byte)type;
        Encoding.ASCII.GetBytes(gnu ? "ustar  \0" : "ustar\000").CopyTo(header, 257);
        for (var i = 148; i < 156; i++) header[i] = (byte)' ';
        Encoding.ASCII.GetBytes(Convert.ToString(header.Sum(b => b), 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }

    internal static byte[] Octal(long value) => Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(11, '0') + "\0");

    /// <summary>A real tar.gz: <paramref name="regular"/> written by TarWriter, then <paramref name="hostile"/> appended
    /// before the end-of-archive blocks.</summary>
    internal static byte[] TarGz(IEnumerable<(string Name, byte[] Data)> regular, params byte[][] hostile)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var (name, data) in regular)
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        var body = tar.Length == 0 ? [] : tar.ToArray()[..^1024]; // without the two zero blocks TarWriter ends with
        var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
            foreach (var part in hostile) gzip.Write(part);
            gzip.Write(new byte[1024]);
        }
        return gz.ToArray();
    }

    private async Task<TierStorageException> ExtractAsync(byte[] archive, ExtractionOptions? options = null)
    {
        var path = Path.Combine(_root, "snapshots.tar.gz");
        File.WriteAllBytes(path, archive);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => SafeExtractor.ExtractTarGzAsync(path, Path.Combine(_root, "out"), options, None));
        Assert.Equal(TierErrorKind.InvalidData, ex.Kind);
        Assert.Contains(path, ex.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "out")));
        return ex;
    }

    [Fact]
    public async Task A_sparse_entry_is_an_unsafe_archive_not_an_unexpected_error()
    {
        var sparse = RawHeader("snap002.json.gz", 'S', Octal(5), gnu: true);
        var ex = await ExtractAsync(TarGz([("snap001.json.gz", "{}"u8.ToArray())], sparse, new byte[512]));

        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Contains("SparseFile", ex.Message);
    }

    [Fact]
    public async Task A_tar_size_field_past_2_to_the_63_is_a_damaged_archive()
    {
        var base256 = new byte[12];
        base256[0] = 0x80;
        base256.AsSpan(1).Fill(0xFF);
        var ex = await ExtractAsync(TarGz([("snap001.json.gz", "{}"u8.ToArray())], RawHeader("snap002.json.gz", '0', base256)));

        Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
    }

    [Fact]
    public async Task A_gnu_long_name_record_claiming_8_GiB_is_a_damaged_archive()
    {
        var ex = await ExtractAsync(TarGz([], RawHeader("././@LongLink", 'L', Encoding.ASCII.GetBytes("77777777777\0"), gnu: true)));

        Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
    }

    [Fact]
    public async Task Expected_entries_listed_twice_are_an_unsafe_archive()
    {
        var ex = await ExtractAsync(TarGz([("a.json.gz", "{}"u8.ToArray())]),
            new ExtractionOptions { Expected = [new PackagedEntry("a.json.gz", 2), new PackagedEntry("a.json.gz", 2)] });

        Assert.Equal(ErrorIds.UnsafeArchive, ex.ErrorId);
        Assert.Contains("twice", ex.Message);
    }

    private static string SessionManifestJson(string contents, string files = "") => $$"""
        {"format":1,"sessionId":"session_20260101_000000","phase":{"number":1,"name":null},"createdAt":"2026-01-01T00:00:00Z","files":[
          {"name":"snapshots.tar.gz","size":10,"md5":"{{new string('0', 32)}}","sha256":"{{new string('0', 64)}}","sourceBytes":0,"contents":[{{contents}}]}{{files}}]}
        """;

    [Theory]
    [InlineData("""{"name":"a.json.gz","size":1},{"name":"A.json.gz","size":1}""", "", "repeats 'A.json.gz'")]
    [InlineData("""{"name":"a.json.gz","size":9223372036854775807},{"name":"b.json.gz","size":9223372036854775807}""", "", "add up beyond 2^63")]
    [InlineData("""{"name":"a.json.gz","size":1}""", """,{"name":"handoff.md","size":9223372036854775807,"md5":"00000000000000000000000000000000","sha256":"0000000000000000000000000000000000000000000000000000000000000000","sourceBytes":0,"contents":[]}""", "add up beyond 2^63")]
    public void A_session_manifest_with_names_twice_or_sizes_past_2_to_the_63_is_invalid(string contents, string files, string problem)
    {
        var ex = Assert.Throws<TierStorageException>(() => SessionManifest.Parse(Encoding.UTF8.GetBytes(SessionManifestJson(contents, files)), "backup:Phase_1/sessions/s/manifest.json"));

        Assert.Equal((ErrorIds.InvalidManifest, TierErrorKind.InvalidData), (ex.ErrorId, ex.Kind));
        Assert.Contains("backup:Phase_1/sessions/s/manifest.json", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    private static string PhaseManifestJson(string files, string sessions = """[{"sessionId":"s1","startedAt":"2026-01-01T00:00:00Z"}]""") => $$"""
        {"format":1,"phase":1,"createdAt":"2026-01-01T00:00:00Z","archiveKey":"Phase_1.tar.gz","archiveSize":10,
         "archiveMd5":"{{new string('0', 32)}}","archiveSha256":"{{new string('0', 64)}}","sessions":{{sessions}},"files":{{files}}}
        """;

    private static string PhaseFile(string path, long size, string? sessionId = "\"s1\"") =>
        $$"""{"sessionId":{{sessionId}},"path":"{{path}}","size":{{size}},"md5":"{{new string('0', 32)}}","sha256":"{{new string('0', 64)}}"}""";

    public static TheoryData<string, string> HostilePhaseManifests => new()
    {
        { PhaseManifestJson($"[{PhaseFile("sessions/s1/manifest.json", 1)},{PhaseFile("sessions/s1/manifest.json", 1)}]"), "twice" },
        { PhaseManifestJson($"[{PhaseFile("sessions/s1/a", long.MaxValue)},{PhaseFile("sessions/s1/b", long.MaxValue)}]"), "2^63" },
        { PhaseManifestJson($"[{PhaseFile("sessions/s1/a", -1)}]"), "negative" },
        { PhaseManifestJson($"[{PhaseFile("sessions/s1/a", 1, "null")}]"), "null" },
        { PhaseManifestJson("null"), "null" },
        { PhaseManifestJson("[]", """[{"sessionId":"s1"},{"sessionId":"s1"}]"""), "twice" },
    };

    [Theory]
    [MemberData(nameof(HostilePhaseManifests))]
    public void A_phase_archive_manifest_with_paths_twice_nulls_or_sizes_past_2_to_the_63_is_invalid(string json, string problem)
    {
        var ex = Assert.Throws<TierStorageException>(() => PhaseArchiveManifest.Parse(Encoding.UTF8.GetBytes(json), "archive:metadata/Phase_1_manifest.json"));

        Assert.Equal((ErrorIds.InvalidManifest, TierErrorKind.InvalidData), (ex.ErrorId, ex.Kind));
        Assert.Contains("archive:metadata/Phase_1_manifest.json", ex.Message);
        Assert.Contains(problem, ex.Message);
    }
}
