using System.Buffers;
using System.Threading.Channels;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// An in-memory pipe with one writer and one reader, holding at most a few chunks: what one task writes (a phase archive
/// as it is built) another reads at the same time (a store storing it), without a copy on disk in between. The writer
/// ends it with <see cref="Complete"/>: without an error the reader then sees the end of the stream; with one, its next
/// read throws. A reader that stops (its store failed) ends it with <see cref="Fail"/>, so a writer waiting for room is
/// not left waiting forever: its write throws instead.
/// </summary>
internal sealed class BoundedPipe
{
    private readonly Channel<(byte[] Buffer, int Length)> _chunks;

    public BoundedPipe(int chunks = 8)
    {
        _chunks = Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(chunks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        Writer = new WriteSide(this);
        Reader = new ReadSide(this);
    }

    /// <summary>Write-only; each write is copied, so the caller may reuse its buffer as soon as the write returns.</summary>
    public Stream Writer { get; }

    /// <summary>Read-only, forward only.</summary>
    public Stream Reader { get; }

    /// <summary>No more writes: the reader gets the end of the stream, or <paramref name="error"/> on its next read.</summary>
    public void Complete(Exception? error = null) => _chunks.Writer.TryComplete(error);

    /// <summary>The reader gives up: pending and later writes throw.</summary>
    public void Fail(Exception error)
    {
        _chunks.Writer.TryComplete(error);
        while (_chunks.Reader.TryRead(out var chunk)) ArrayPool<byte>.Shared.Return(chunk.Buffer);
    }

    private sealed class WriteSide(BoundedPipe pipe) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override void Write(ReadOnlySpan<byte> buffer) => WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty) return;
            var copy = ArrayPool<byte>.Shared.Rent(buffer.Length);
            buffer.CopyTo(copy);
            try
            {
                await pipe._chunks.Writer.WriteAsync((copy, buffer.Length), cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException ex)
            {
                ArrayPool<byte>.Shared.Return(copy);
                throw new IOException("The reader of the pipe stopped before the end of what was written.", ex.InnerException ?? ex);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(copy);
                throw;
            }
        }
    }

    private sealed class ReadSide(BoundedPipe pipe) : Stream
    {
        private byte[]? _current;
        private int _length, _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty) return 0;
            if (_current is null)
            {
                try
                {
                    if (!await pipe._chunks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) return 0;
                }
                catch (ChannelClosedException ex)
                {
                    throw new IOException("The writer of the pipe failed before the end.", ex.InnerException ?? ex);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not IOException)
                {
                    throw new IOException("The writer of the pipe failed before the end.", ex);
                }
                if (!pipe._chunks.Reader.TryRead(out var chunk)) return 0;
                (_current, _length, _offset) = (chunk.Buffer, chunk.Length, 0);
            }
            var count = Math.Min(buffer.Length, _length - _offset);
            _current.AsSpan(_offset, count).CopyTo(buffer.Span);
            _offset += count;
            if (_offset == _length)
            {
                ArrayPool<byte>.Shared.Return(_current);
                _current = null;
            }
            return count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _current is not null)
            {
                ArrayPool<byte>.Shared.Return(_current);
                _current = null;
            }
            base.Dispose(disposing);
        }
    }
}
