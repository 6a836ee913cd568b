using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using Xunit;

namespace TierStorage.Tests.Packaging;

public sealed class SessionManifestTests
{
    private static readonly SessionManifest Sample = new()
    {
        SessionId = "session_20261122_090000",
        PhaseNumber = 2,
        PhaseName = "build",
        CreatedAt = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero),
        Files =
        [
            new PackagedFile
            {
                Name = "snapshots.tar.gz", Size = 42, Md5 = new string('a', 32), Sha256 = new string('b', 64), SourceBytes = 100,
                Contents = [new PackagedEntry("s_snap001.json.gz", 60), new PackagedEntry("s_snap002.json.gz", 40)],
            },
            new PackagedFile { Name = "handoff.md", Size = 5, Md5 = new string('c', 32), Sha256 = new string('d', 64), SourceBytes = 5 },
        ],
    };

    [Fact]
    public async Task Written_manifest_reads_back_equal()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine(SessionManifest.FileName);
        await Sample.WriteAsync(path, CancellationToken.None);
        var read = await SessionManifest.ReadAsync(path, CancellationToken.None);
        Assert.Equal(Sample.SessionId, read.SessionId);
        Assert.Equal(Sample.PhaseNumber, read.PhaseNumber);
        Assert.Equal(Sample.PhaseName, read.PhaseName);
        Assert.Equal(Sample.CreatedAt, read.CreatedAt);
        Assert.Equal(2, read.Files.Count);
        Assert.Equal(Sample.Files[0] with { Contents = [] }, read.Files[0] with { Contents = [] });
        Assert.Equal(Sample.Files[0].Contents, read.Files[0].Contents);
        Assert.Equal(SessionManifest.CurrentFormat, read.Format);
    }

    public static TheoryData<string, string> BrokenManifests => new()
    {
        { "{", "not valid JSON" },
        { "[]", "not a JSON object" },
        { Replace($"\"format\": {SessionManifest.CurrentFormat}", $"\"format\": {SessionManifest.CurrentFormat + 1}"), "newer" },
        { Replace("\"sessionId\"", "\"session\""), "'sessionId'" },
        { Replace("\"session_20261122_090000\"", "\"../evil\""), "'sessionId'" },
        { Replace("\"number\": 2", "\"number\": \"two\""), "'phase.number'" },
        { Replace("\"createdAt\": \"2026-11-22T10:00:00.0000000Z\"", "\"createdAt\": \"yesterday\""), "'createdAt'" },
        { Replace("\"size\": 42", "\"size\": -1"), "'files[0].size'" },
        { Replace(new string('a', 32), "xyz"), "'files[0].md5'" },
        { Replace(new string('b', 64), new string('b', 63)), "'files[0].sha256'" },
        { Replace("\"name\": \"handoff.md\"", "\"name\": \"../handoff.md\""), "'files[1].name'" },
        { Replace("\"name\": \"s_snap001.json.gz\"", "\"name\": \"/etc/passwd\""), "'files[0].contents[0].name'" },
        { Replace("\"name\": \"handoff.md\"", "\"name\": \"snapshots.tar.gz\""), "repeats" },
    };

    private static string Replace(string from, string to)
    {
        var json = Encoding.UTF8.GetString(Sample.ToUtf8Json());
        Assert.Contains(from, json);
        return json.Replace(from, to);
    }

    [Theory]
    [MemberData(nameof(BrokenManifests))]
    public void Broken_manifests_are_refused_naming_the_file_and_field(string json, string expected)
    {
        var ex = Assert.Throws<TierStorageException>(() => SessionManifest.Parse(Encoding.UTF8.GetBytes(json), "tier:Phase_2/manifest.json"));
        Assert.Equal(ErrorIds.InvalidManifest, ex.ErrorId);
        Assert.Equal(TierErrorKind.InvalidData, ex.Kind);
        Assert.Contains("tier:Phase_2/manifest.json", ex.Message);
        Assert.Contains(expected, ex.Message);
    }
}
