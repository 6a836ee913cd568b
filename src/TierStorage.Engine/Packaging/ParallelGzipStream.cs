using System.Buffers;
using System.IO.Compression;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// A write-only gzip stream that compresses like pigz: the input is cut into blocks, the blocks are deflated in
/// parallel on the thread pool, and the results are written to the output in input order.
/// </summary>
/// <remarks>
/// Each block becomes one complete gzip member, and the output is the members concatenated (RFC 1952 §2.2 allows
/// this; gunzip, <c>gzip -t</c>, zcat and .NET's GZipStream read it as one stream). pigz instead writes one member
/// and combines the blocks' CRCs; we do not, because net8 has no in-box CRC-32 to combine and no way to prime a
/// block with the previous block's window, so one member would cost a hand-written CRC for no gain in ratio.
/// A member costs 18 bytes of header and trailer per block (0.002 % at 1 MiB), and every block can be checked alone.
/// At most <see cref="MaxBlocksInFlight"/> blocks are held at a time, so memory stays flat whatever the input size.
/// </remarks>
public sealed class ParallelGzipStream : Stream
{
    public const int DefaultBlockSize = 1 << 20;

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly CompressionLevel _level;
    private readonly int _blockSize;
    private readonly Queue<Task<Block>> _inFlight = new();
    private readonly Stack<Block> _free = new();
    private Block? _current;
    private bool _wroteAnyMember;
    private bool _stored;
    private bool _disposed;
    private bool _faulted;

    /// <param name="output">Receives the gzip stream; written from the calling thread only, in order.</param>
    /// <param name="level">Policy compression level 1..9 (see <see cref="MapLevel"/>).</param>
    public ParallelGzipStream(Stream output, int level, bool leaveOpen, int blockSize = DefaultBlockSize, int? maxBlocksInFlight = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 4096);
        _output = output;
        _leaveOpen = leaveOpen;
        _level = MapLevel(level);
        _blockSize = blockSize;
        // Two blocks per core keeps every core busy while the oldest block waits to be written.
        MaxBlocksInFlight = Math.Max(2, maxBlocksInFlight ?? 2 * Environment.ProcessorCount);
    }

    public int MaxBlocksInFlight { get; }

    /// <summary>Uncompressed bytes accepted so far.</summary>
    public long BytesIn { get; private set; }

    /// <summary>
    /// Maps the policy's level (1..9, gzip's scale) onto the three levels net8 offers. Measured on a session with a
    /// 20 MB JSONL log (bench/RESULTS.md, "Packaging (issue 3)"): Optimal (zlib level 6) compresses exactly like
    /// <c>pigz -6</c> and is faster; Fastest is 3-5x faster again but its output is 40 % larger; SmallestSize (level 9)
    /// is 1 % smaller than Optimal for 1.5x the CPU.
    /// </summary>
    public static CompressionLevel MapLevel(int level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 9);
        return level switch
        {
            <= 3 => CompressionLevel.Fastest,
            <= 7 => CompressionLevel.Optimal,
            _ => CompressionLevel.SmallestSize,
        };
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_disposed;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            WriteCore(buffer);
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private void WriteCore(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var block = CurrentBlock();
            var taken = block.Fill(buffer);
            buffer = buffer[taken..];
            BytesIn += taken;
            if (block.IsFull)
            {
                Dispatch();
                while (_inFlight.Count >= MaxBlocksInFlight) WriteOldest(_inFlight.Dequeue().GetAwaiter().GetResult());
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await WriteCoreAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var block = CurrentBlock();
            var taken = block.Fill(buffer.Span);
            buffer = buffer[taken..];
            BytesIn += taken;
            if (block.IsFull)
            {
                Dispatch();
                while (_inFlight.Count >= MaxBlocksInFlight)
                    await WriteOldestAsync(await _inFlight.Dequeue().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Whether blocks are written stored (deflate level 0: framing and CRC only) instead of compressed.</summary>
    public bool Stored => _stored;

    /// <summary>
    /// From now on, store blocks without compressing them (<paramref name="stored"/> true) or compress them at the stream's
    /// level again. For data that is already compressed (a .gz member of a tar): deflate finds nothing to remove there and
    /// spends most of an archive's CPU finding it (issue 12). A change ends the current block, so each block holds data
    /// of one kind only. The output stays one valid gzip stream either way.
    /// </summary>
    public async ValueTask SetStoredAsync(bool stored, CancellationToken cancellationToken)
    {
        if (stored == _stored) return;
        try
        {
            if (_current is { Length: > 0 })
            {
                Dispatch();
                while (_inFlight.Count >= MaxBlocksInFlight)
                    await WriteOldestAsync(await _inFlight.Dequeue().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            _stored = stored;
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    /// <summary>Compressed data leaves only at block boundaries; a flush does not cut a block short (that would cost ratio).</summary>
    public override void Flush() => _output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    /// <summary>Compresses the last block, writes every pending member and flushes the output. Call it (or dispose)
    /// to finish the stream; errors surface here rather than being swallowed by Dispose.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            if (_current is { Length: > 0 } || !_wroteAnyMember && _inFlight.Count == 0) Dispatch();
            while (_inFlight.Count > 0)
                await WriteOldestAsync(await _inFlight.Dequeue().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private Block CurrentBlock()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_faulted) throw new InvalidOperationException("The gzip stream failed earlier and cannot take more data.");
        return _current ??= _free.Count > 0 ? _free.Pop() : new Block(_blockSize);
    }

    private void Dispatch()
    {
        var block = CurrentBlock();
        _current = null;
        var level = _stored ? CompressionLevel.NoCompression : _level;
        _inFlight.Enqueue(Task.Run(() => block.Compress(level)));
    }

    private void WriteOldest(Block block)
    {
        try
        {
            _output.Write(block.Compressed.Span);
            _wroteAnyMember = true;
        }
        finally
        {
            Recycle(block);
        }
    }

    private async ValueTask WriteOldestAsync(Block block, CancellationToken cancellationToken)
    {
        try
        {
            await _output.WriteAsync(block.Compressed, cancellationToken).ConfigureAwait(false);
            _wroteAnyMember = true;
        }
        finally
        {
            Recycle(block);
        }
    }

    private void Recycle(Block block)
    {
        block.Reset();
        _free.Push(block);
    }

    /// <summary>Finishes the stream unless a write failed or was cancelled: then the pending blocks are dropped,
    /// because the caller is abandoning a partial output and the first error is the one it must see.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed) DisposeCoreAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed) await DisposeCoreAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Disposes without finishing: for a caller that failed part way and is discarding the output, so that
    /// disposing neither writes more nor hides the caller's error behind a second one.</summary>
    public ValueTask AbandonAsync()
    {
        _faulted = true;
        return DisposeAsync();
    }

    private async ValueTask DisposeCoreAsync()
    {
        try
        {
            if (!_faulted) await CompleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _disposed = true;
            // Workers may still be using pooled buffers; wait for them before the buffers go back to the pool.
            while (_inFlight.Count > 0)
            {
                try
                {
                    (await _inFlight.Dequeue().ConfigureAwait(false)).Release();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The writer is already failing or being abandoned; the first error is what the caller sees.
                }
            }
            _current?.Release();
            while (_free.Count > 0) _free.Pop().Release();
            if (!_leaveOpen) await _output.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One block of input and its compressed member, on pooled arrays reused across blocks.</summary>
    private sealed class Block(int size)
    {
        private byte[]? _input = ArrayPool<byte>.Shared.Rent(size);
        private readonly MemoryStream _compressed = new(size / 2);

        public int Length { get; private set; }
        public bool IsFull => Length == size;
        public ReadOnlyMemory<byte> Compressed => _compressed.GetBuffer().AsMemory(0, (int)_compressed.Length);

        public int Fill(ReadOnlySpan<byte> data)
        {
            var taken = Math.Min(data.Length, size - Length);
            data[..taken].CopyTo(_input.AsSpan(Length));
            Length += taken;
            return taken;
        }

        public Block Compress(CompressionLevel level)
        {
            using (var gzip = new GZipStream(_compressed, level, leaveOpen: true))
                gzip.Write(_input!, 0, Length);
            if (_compressed.Length == 0) _compressed.Write(EmptyMember);
            return this;
        }

        public void Reset()
        {
            Length = 0;
            _compressed.SetLength(0);
        }

        public void Release()
        {
            if (_input is null) return;
            ArrayPool<byte>.Shared.Return(_input);
            _input = null;
        }
    }

    /// <summary>A complete gzip member holding no data (header, an empty final stored block, CRC 0, size 0):
    /// an empty input still gives a valid .gz, whatever the runtime's GZipStream emits for no writes.</summary>
    private static ReadOnlySpan<byte> EmptyMember =>
        [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
}
