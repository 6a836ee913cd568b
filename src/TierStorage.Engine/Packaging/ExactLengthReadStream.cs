namespace TierStorage.Engine.Packaging;

/// <summary>
/// The first <c>length</c> bytes of an inner stream, read forward, as a stream of exactly that length: a tar writer takes
/// the entry's size from <see cref="Length"/> and then copies to the end, so a file that grows while it is read (a tier's
/// file is not ours to freeze) neither makes the entry longer than its header nor keeps the read going. A file that
/// shrinks ends early; the caller's size and checksum check of what was read finds that.
/// </summary>
internal sealed class ExactLengthReadStream(Stream inner, long length) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _read;
        set => Seek(value, SeekOrigin.Begin);
    }

    /// <summary>Only to where it already is (a tar writer asks for the position it is at).</summary>
    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _read + offset,
            _ => length + offset,
        };
        if (target != _read) throw new NotSupportedException("This stream is read forward only.");
        return target;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer[..Allowed(buffer.Length)]);
        _read += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var allowed = Allowed(buffer.Length);
        if (allowed == 0) return 0;
        var read = await inner.ReadAsync(buffer[..allowed], cancellationToken).ConfigureAwait(false);
        _read += read;
        return read;
    }

    private int Allowed(int wanted) => (int)Math.Min(wanted, length - _read);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
