using System.Security.Cryptography;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// A read-only stream of the <see cref="EncryptionFormat"/> ciphertext of <c>source</c>, produced as it is read (memory:
/// about two chunks), hashing the plaintext (MD5, on a second core) and the ciphertext (SHA-256, as each chunk is sealed) on the way; the ciphertext's MD5 is the
/// store's to compute, as it reports it. For stores that take a
/// plain stream, so an upload reads and encrypts the data once instead of staging the ciphertext first.
/// </summary>
public sealed class EncryptingReadStream : Stream
{
    private readonly Stream _source;
    private readonly EncryptionStream _encrypt;
    private readonly MemoryStream _sealed = new();
    private readonly byte[] _plain;
    private readonly IncrementalHash _plainMd5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly IncrementalHash _cipherSha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _readPosition;
    private bool _sourceDone;
    private long _plainSize;
    private long _cipherSize;

    public EncryptingReadStream(Stream source, ReadOnlySpan<byte> dataKey, int chunkSize)
    {
        _source = source;
        _encrypt = new EncryptionStream(_sealed, dataKey, chunkSize, leaveOpen: true);
        _plain = new byte[chunkSize];
    }

    /// <summary>Size and MD5 of the plaintext read, once the stream was read to its end.</summary>
    public (long Size, string Md5) Plaintext() => (_plainSize, ChecksumStream.Hex(_plainMd5.GetHashAndReset()));

    /// <summary>Size and SHA-256 of the ciphertext served, once the stream was read to its end.</summary>
    public (long Size, string Sha256) Ciphertext() => (_cipherSize, ChecksumStream.Hex(_cipherSha256.GetHashAndReset()));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _cipherSize; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (Pending == 0 && !_sourceDone) Seal(ReadSource());
        return Serve(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (Pending == 0 && !_sourceDone)
        {
            var filled = 0;
            while (filled < _plain.Length)
            {
                var read = await _source.ReadAsync(_plain.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                filled += read;
            }
            Seal(filled);
        }
        return Serve(buffer.Span);
    }

    private int Pending => (int)_sealed.Length - _readPosition;

    private int ReadSource()
    {
        var filled = 0;
        while (filled < _plain.Length)
        {
            var read = _source.Read(_plain, filled, _plain.Length - filled);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    /// <summary>Encrypts what was read; a short read means the source ended, so the last chunk is sealed.</summary>
    private void Seal(int filled)
    {
        if (_readPosition == _sealed.Length)
        {
            _sealed.SetLength(0);
            _readPosition = 0;
        }
        // The plaintext's MD5 runs on another core while this one encrypts the chunk and hashes the ciphertext: the two hashes
        // are most of what encryption adds to a backup. The chunk buffer is only refilled after both are done.
        var plainHash = Task.Run(() => _plainMd5.AppendData(_plain, 0, filled));
        try
        {
            _plainSize += filled;
            var before = (int)_sealed.Length;
            _encrypt.Write(_plain, 0, filled);
            if (filled < _plain.Length)
            {
                _encrypt.Complete();
                _sourceDone = true;
            }
            _cipherSha256.AppendData(_sealed.GetBuffer(), before, (int)_sealed.Length - before);
        }
        finally
        {
            plainHash.GetAwaiter().GetResult();
        }
    }

    private int Serve(Span<byte> buffer)
    {
        var take = Math.Min(buffer.Length, Pending);
        if (take == 0) return 0;
        var bytes = _sealed.GetBuffer().AsSpan(_readPosition, take);
        bytes.CopyTo(buffer);
        _cipherSize += take;
        _readPosition += take;
        return take;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _encrypt.Dispose();
            _plainMd5.Dispose();
            _cipherSha256.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
        }
        base.Dispose(disposing);
    }
}
