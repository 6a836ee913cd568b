using System.Security.Cryptography;

namespace TierStorage.Engine.Packaging;

/// <summary>Size, MD5 and SHA-256 (lower-case hex) of some bytes.</summary>
public sealed record FileChecksum(long Size, string Md5, string Sha256);

/// <summary>The running size, MD5 and SHA-256 of bytes passing through a checksumming stream (written or read).</summary>
/// <param name="md5">False: SHA-256 and size only (the checksum's Md5 is then ""), where MD5 would add nothing to the check.</param>
internal sealed class ChecksumAccumulator(bool md5 = true) : IDisposable
{
    private readonly IncrementalHash? _md5 = md5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Count { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        _md5?.AppendData(data);
        _sha256.AppendData(data);
        Count += data.Length;
    }

    /// <summary>The checksums of everything appended; call once, after the last append.</summary>
    public FileChecksum GetChecksum() => new(Count, _md5 is null ? "" : ChecksumStream.Hex(_md5.GetHashAndReset()), ChecksumStream.Hex(_sha256.GetHashAndReset()));

    public void Dispose()
    {
        _md5?.Dispose();
        _sha256.Dispose();
    }
}

/// <summary>A stream over an inner one that checksums the bytes passing through it (<see cref="ChecksumStream"/> those
/// written, <see cref="ChecksumReadStream"/> those read), and disposes the inner stream unless told to leave it open.</summary>
public abstract class ChecksummingStream : Stream
{
    private readonly bool _leaveOpen;

    private protected ChecksummingStream(Stream inner, bool leaveOpen, bool md5)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        _leaveOpen = leaveOpen;
        Hash = new ChecksumAccumulator(md5);
    }

    private protected Stream Inner { get; }
    private protected ChecksumAccumulator Hash { get; }

    /// <summary>The checksums of everything that passed; call once, after the last read or write.</summary>
    public FileChecksum GetChecksum() => Hash.GetChecksum();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Hash.Dispose();
            if (!_leaveOpen) Inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        Hash.Dispose();
        if (!_leaveOpen) await Inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// Passes writes through to an inner stream while hashing them with MD5 (what tiers report) and SHA-256 (what our
/// manifest adds), so a packaged file is checksummed as it is written instead of being read back.
/// </summary>
public sealed class ChecksumStream(Stream inner, bool leaveOpen) : ChecksummingStream(inner, leaveOpen, md5: true)
{
    /// <summary>Bytes written so far.</summary>
    public long BytesWritten => Hash.Count;

    /// <summary>Hashes a whole file in one read, e.g. to verify a download against a manifest.</summary>
    public static async Task<FileChecksum> ComputeAsync(string path, CancellationToken cancellationToken)
    {
        await using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var sink = new ChecksumStream(Null, leaveOpen: false);
        await source.CopyToAsync(sink, 1 << 16, cancellationToken).ConfigureAwait(false);
        return sink.GetChecksum();
    }

    internal static string Hex(byte[] hash) => Convert.ToHexString(hash).ToLowerInvariant();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => Inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Inner.Write(buffer);
        Hash.Append(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Hash.Append(buffer.Span);
    }
}
