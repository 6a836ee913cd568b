using System.Formats.Tar;
using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Packaging;

/// <summary>Issue 12: a phase archive reads a folder backup tier's members in place, through this stream, so a file that
/// grows while it is read can neither lengthen the tar entry past its header nor keep the read going.</summary>
public sealed class ExactLengthReadStreamTests
{
    [Fact]
    public async Task A_file_longer_than_the_length_gives_exactly_the_length_and_the_tar_entry_holds_exactly_those_bytes()
    {
        var bytes = RandomBytes(200_000, 3);
        var tarBytes = new MemoryStream();
        await using (var tar = new TarWriter(tarBytes, TarEntryFormat.Pax, leaveOpen: true))
        await using (var data = new ExactLengthReadStream(new MemoryStream(bytes), 150_000))
        {
            Assert.Equal(150_000, data.Length);
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "member") { DataStream = data }, CancellationToken.None);
            Assert.Equal(150_000, data.Position);
        }
        tarBytes.Position = 0;
        using var reader = new TarReader(tarBytes);
        var entry = reader.GetNextEntry()!;
        var copy = new MemoryStream();
        entry.DataStream!.CopyTo(copy);
        Assert.Equal(bytes[..150_000], copy.ToArray());
        Assert.Null(reader.GetNextEntry());
    }

    [Fact]
    public void A_shorter_file_ends_early_and_only_forward_reads_are_allowed()
    {
        using var data = new ExactLengthReadStream(new MemoryStream(new byte[100]), 1000);
        var buffer = new byte[4096];
        Assert.Equal(100, data.Read(buffer, 0, buffer.Length));
        Assert.Equal(0, data.Read(buffer, 0, buffer.Length));
        Assert.Equal(100, data.Position);
        Assert.Equal(100, data.Seek(0, SeekOrigin.Current));
        Assert.Throws<NotSupportedException>(() => data.Seek(0, SeekOrigin.Begin));
    }
}
