namespace TierStorage.Engine.Packaging;

/// <summary>
/// Reads through to an inner stream while hashing what is read with MD5 and SHA-256, so a file can be checked against
/// its expected checksums by the very read that consumes it (a member going into a phase archive) instead of by a read
/// of its own before. Only forward reads are allowed: it reports the inner stream's length and position (a tar writer
/// needs the length), but a seek anywhere other than where it already is fails rather than hash bytes twice or skip some.
/// With <c>md5: false</c> only SHA-256 is computed (for a check against a known SHA-256, which MD5 would not strengthen).
/// </summary>
public sealed class ChecksumReadStream(Stream inner, bool leaveOpen, bool md5 = true) : ChecksummingStream(inner, leaveOpen, md5)
{
    /// <summary>Bytes read so far.</summary>
    public long BytesRead => Hash.Count;

    public override bool CanRead => true;
    public override bool CanSeek => Inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => Inner.Length;

    public override long Position
    {
        get => Inner.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Inner.Position + offset,
            _ => Inner.Length + offset,
        };
        if (target != Inner.Position) throw new NotSupportedException("A checksummed read only goes forward.");
        return target;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = Inner.Read(buffer);
        Hash.Append(buffer[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Hash.Append(buffer.Span[..read]);
        return read;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
