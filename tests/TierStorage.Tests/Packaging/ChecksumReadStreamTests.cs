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

    [Fact]
    public async Task Without_md5_it_hashes_sha256_only_and_the_size_and_sha256_check_finds_any_changed_byte()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("data.bin");
        var bytes = RandomBytes(200_003, 9);
        File.WriteAllBytes(path, bytes);
        var full = await ChecksumStream.ComputeAsync(path, CancellationToken.None);
        var expected = new PackagedFile { Name = "data.bin", Size = full.Size, Md5 = full.Md5, Sha256 = full.Sha256 };

        await using (var read = new ChecksumReadStream(File.OpenRead(path), leaveOpen: false, md5: false))
        {
            await read.CopyToAsync(Stream.Null);
            var sum = read.GetChecksum();
            Assert.Equal((full.Size, "", full.Sha256), (sum.Size, sum.Md5, sum.Sha256));
            PackageVerifier.RequireSizeAndSha256(sum, expected, path);
        }

        bytes[100_000] ^= 1;
        await using (var damaged = new ChecksumReadStream(new MemoryStream(bytes), leaveOpen: false, md5: false))
        {
            await damaged.CopyToAsync(Stream.Null);
            var ex = Assert.Throws<TierStorage.Contracts.TierStorageException>(() => PackageVerifier.RequireSizeAndSha256(damaged.GetChecksum(), expected, path));
            Assert.Equal(TierStorage.Contracts.ErrorIds.ChecksumMismatch, ex.ErrorId);
            Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
        }
        var shorter = Assert.Throws<TierStorage.Contracts.TierStorageException>(() => PackageVerifier.RequireSizeAndSha256(full with { Size = full.Size - 1 }, expected, path));
        Assert.Contains("size", shorter.Message, StringComparison.Ordinal);
    }
}
