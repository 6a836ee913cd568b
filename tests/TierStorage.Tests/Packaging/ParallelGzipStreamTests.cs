using System.IO.Compression;
using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Packaging;

public sealed class ParallelGzipStreamTests
{
    private const int Block = 64 * 1024;

    private static async Task<byte[]> CompressAsync(byte[] data, int level = 6, int writeSize = 10_000)
    {
        using var output = new MemoryStream();
        await using (var gzip = new ParallelGzipStream(output, level, leaveOpen: true, blockSize: Block, maxBlocksInFlight: 3))
        {
            for (var offset = 0; offset < data.Length; offset += writeSize)
                await gzip.WriteAsync(data.AsMemory(offset, Math.Min(writeSize, data.Length - offset)));
            await gzip.CompleteAsync(CancellationToken.None);
        }
        return output.ToArray();
    }

    private static byte[] Decompress(byte[] gz)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress)) gzip.CopyTo(output);
        return output.ToArray();
    }

    public static TheoryData<int> SizesAroundBlocks => [0, 1, Block - 1, Block, Block + 1, 3 * Block, 3 * Block + 7, 10 * Block - 1];

    [Theory]
    [MemberData(nameof(SizesAroundBlocks))]
    public async Task Random_data_round_trips_at_sizes_around_block_boundaries(int size)
    {
        var data = RandomBytes(size, size);
        Assert.Equal(data, Decompress(await CompressAsync(data)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(9)]
    public async Task Json_lines_round_trip_and_compress_at_every_level(int level)
    {
        var data = JsonLines(700_000, level);
        var gz = await CompressAsync(data, level);
        Assert.Equal(data, Decompress(gz));
        Assert.True(gz.Length < data.Length / 2, $"{gz.Length} of {data.Length}");
    }

    [Fact]
    public async Task Stored_stretches_between_compressed_ones_round_trip_as_one_gzip_stream_and_are_not_deflated_again()
    {
        // Issue 12: a phase archive's .gz members are stored, not deflated a second time; the tar around them still is.
        var text = JsonLines(3 * Block + 501, 2);
        var already = await CompressAsync(JsonLines(4 * Block, 3));
        using var output = new MemoryStream();
        await using (var gzip = new ParallelGzipStream(output, 6, leaveOpen: true, blockSize: Block, maxBlocksInFlight: 3))
        {
            await gzip.WriteAsync(text.AsMemory(0, 1000));
            await gzip.SetStoredAsync(true, CancellationToken.None);
            Assert.True(gzip.Stored);
            await gzip.WriteAsync(already);
            await gzip.SetStoredAsync(false, CancellationToken.None);
            await gzip.WriteAsync(text.AsMemory(1000));
            await gzip.SetStoredAsync(true, CancellationToken.None);
            await gzip.SetStoredAsync(false, CancellationToken.None); // nothing written in between: no empty block
            await gzip.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal([.. text.AsSpan(0, 1000), .. already, .. text.AsSpan(1000)], Decompress(output.ToArray()));
        var textAlone = (await CompressAsync(text)).Length;
        // Stored: the member's bytes plus gzip framing (a few bytes per 64 KiB block), never the CPU of deflating them again.
        Assert.InRange(output.Length - textAlone, already.Length, already.Length + already.Length / 100 + 512);
    }

    [Fact]
    public async Task Synchronous_writes_larger_than_a_block_round_trip()
    {
        var data = JsonLines(5 * Block + 123, 7);
        using var output = new MemoryStream();
        using (var gzip = new ParallelGzipStream(output, 6, leaveOpen: true, blockSize: Block, maxBlocksInFlight: 2))
            gzip.Write(data, 0, data.Length);
        Assert.Equal(data, Decompress(output.ToArray()));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Empty_input_is_a_valid_gzip_stream()
    {
        var gz = await CompressAsync([]);
        Assert.Equal(0x1f, gz[0]);
        Assert.Equal(0x8b, gz[1]);
        Assert.Empty(Decompress(gz));
    }

    [Fact]
    public async Task System_gzip_accepts_the_output()
    {
        var data = JsonLines(6 * Block + 99, 3);
        using var dir = new TempDirectory();
        var path = dir.Combine("out.gz");
        await File.WriteAllBytesAsync(path, await CompressAsync(data));
        var test = Run("gzip", "-t", path);
        if (test is null) return; // gzip is not installed here
        Assert.Equal(0, test.Value.ExitCode);
        var gunzip = Run("gzip", "-dc", path)!.Value;
        Assert.Equal(0, gunzip.ExitCode);
        Assert.Equal(data, gunzip.Stdout);
    }

    [Fact]
    public async Task A_cancelled_write_abandons_without_finishing_the_output()
    {
        using var output = new MemoryStream();
        using var cts = new CancellationTokenSource();
        var gzip = new ParallelGzipStream(output, 6, leaveOpen: true, blockSize: Block);
        await gzip.WriteAsync(RandomBytes(Block / 2, 1));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gzip.WriteAsync(RandomBytes(Block, 2), cts.Token).AsTask());
        await gzip.DisposeAsync();
        Assert.Equal(0, output.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void Levels_outside_1_to_9_are_refused(int level) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ParallelGzipStream.MapLevel(level));
}
