using TierStorage.Engine.Packaging;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Packaging;

/// <summary>The pipe a phase archive is stored through while it is built (folder archive tier).</summary>
public sealed class BoundedPipeTests
{
    [Fact]
    public async Task What_is_written_in_pieces_is_read_byte_for_byte_then_the_end()
    {
        var pipe = new BoundedPipe(chunks: 2);
        var data = RandomBytes(1_000_003, 3);
        var reader = Task.Run(async () =>
        {
            var copy = new MemoryStream();
            await pipe.Reader.CopyToAsync(copy, 7_777);
            return copy.ToArray();
        });
        var buffer = new byte[65_536];
        for (var offset = 0; offset < data.Length; offset += buffer.Length)
        {
            var count = Math.Min(buffer.Length, data.Length - offset);
            data.AsSpan(offset, count).CopyTo(buffer);
            await pipe.Writer.WriteAsync(buffer.AsMemory(0, count));
            buffer.AsSpan().Clear(); // the pipe copied it
        }
        pipe.Complete();
        Assert.Equal(data, await reader);
    }

    [Fact]
    public async Task A_writer_that_fails_makes_the_reader_fail_not_end()
    {
        var pipe = new BoundedPipe();
        await pipe.Writer.WriteAsync(new byte[100]);
        pipe.Complete(new InvalidDataException("member damaged"));
        var ex = await Assert.ThrowsAsync<IOException>(() => pipe.Reader.CopyToAsync(Stream.Null));
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    [Fact]
    public async Task A_reader_that_gives_up_releases_a_writer_waiting_for_room()
    {
        var pipe = new BoundedPipe(chunks: 1);
        await pipe.Writer.WriteAsync(new byte[10]);
        var blocked = pipe.Writer.WriteAsync(new byte[10]).AsTask();
        Assert.False(blocked.IsCompleted);
        pipe.Fail(new IOException("disk full"));
        var ex = await Assert.ThrowsAsync<IOException>(() => blocked);
        Assert.Equal("disk full", ex.InnerException?.Message);
    }
}
