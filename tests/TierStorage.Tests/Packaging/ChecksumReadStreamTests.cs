using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Packaging;

public sealed class ChecksumReadStreamTests
{
    [Fact]
    public async Task Hashes_exactly_what_is_read_like_a_read_of_its_own_would()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("data.bin");
        File.WriteAllBytes(path, RandomBytes(300_001, 5));
        var expected = await ChecksumStream.ComputeAsync(path, CancellationToken.None);

        await using var read = new ChecksumReadStream(File.OpenRead(path), leaveOpen: false);
        Assert.Equal(300_001, read.Length);
        read.Seek(0, SeekOrigin.Begin); // where it is: allowed
        var copy = new MemoryStream();
        await read.CopyToAsync(copy, 4096);
        read.Position = read.Length;

        Assert.Equal(expected, read.GetChecksum());
        Assert.Equal(File.ReadAllBytes(path), copy.ToArray());
    }

    [Fact]
    public void A_seek_that_would_skip_or_reread_bytes_is_refused()
    {
        using var read = new ChecksumReadStream(new MemoryStream(new byte[100]), leaveOpen: false);
        Assert.Equal(10, read.Read(new byte[10], 0, 10));
        Assert.Throws<NotSupportedException>(() => read.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => read.Position = 50);
        Assert.Equal(10, read.Seek(0, SeekOrigin.Current));
    }
}
