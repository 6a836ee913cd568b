using System.Security.Cryptography;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// A write-only stream that encrypts what is written to it into <see cref="EncryptionFormat"/> on an inner stream, one
/// chunk at a time (memory: one chunk). The last chunk is sealed when the stream is disposed (or <see cref="Complete"/>d):
/// a writer that stops without disposing leaves an object the reader rejects as truncated.
/// </summary>
public sealed class EncryptionStream : WriteOnlyStream
{
    private readonly bool _leaveOpen;
    private readonly AesGcm _aes;
    private readonly byte[] _header;
    private readonly byte[] _plain;
    private readonly byte[] _cipher;
    private int _filled;
    private long _index;
    private bool _headerWritten;
    private bool _completed;

    public EncryptionStream(Stream inner, ReadOnlySpan<byte> dataKey, int chunkSize = EncryptionFormat.DefaultChunkSize, bool leaveOpen = false)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (dataKey.Length != EncryptionFormat.KeySize) throw new ArgumentException("A data key is 32 bytes.", nameof(dataKey));
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, EncryptionFormat.MinChunkSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, EncryptionFormat.MaxChunkSize);
        _leaveOpen = leaveOpen;
        _aes = new AesGcm(dataKey, EncryptionFormat.TagSize);
        _header = EncryptionFormat.WriteHeader(chunkSize, dataKey);
        _plain = new byte[chunkSize];
        _cipher = new byte[chunkSize + EncryptionFormat.TagSize];
    }

    public override bool CanWrite => !_completed;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        while (buffer.Length > 0)
        {
            // A full chunk is sealed only once more bytes arrive: until then it may be the last one.
            if (_filled == _plain.Length) SealChunk(final: false);
            var take = Math.Min(buffer.Length, _plain.Length - _filled);
            buffer[..take].CopyTo(_plain.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Seals the last chunk (possibly empty) and flushes. Further writes fail.</summary>
    public void Complete()
    {
        if (_completed) return;
        SealChunk(final: true);
        _completed = true;
        Inner.Flush();
    }

    private void SealChunk(bool final)
    {
        if (!_headerWritten)
        {
            Inner.Write(_header);
            _headerWritten = true;
        }
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[EncryptionFormat.AssociatedDataSize];
        EncryptionFormat.Nonce(_header, _index, nonce);
        EncryptionFormat.AssociatedData(_header, _index, final, aad);
        _aes.Encrypt(nonce, _plain.AsSpan(0, _filled), _cipher.AsSpan(0, _filled), _cipher.AsSpan(_filled, EncryptionFormat.TagSize), aad);
        Inner.Write(_cipher, 0, _filled + EncryptionFormat.TagSize);
        _index++;
        _filled = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                Complete();
            }
            finally
            {
                _aes.Dispose();
                CryptographicOperations.ZeroMemory(_plain);
                if (!_leaveOpen) Inner.Dispose();
            }
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
