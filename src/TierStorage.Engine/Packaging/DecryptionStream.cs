using System.Security.Cryptography;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// A write-only stream that takes the bytes of an <see cref="EncryptionFormat"/> object (as a download delivers them) and
/// writes the plaintext to an inner stream, one authenticated chunk at a time (memory: one chunk). Only authenticated
/// bytes reach the inner stream. <see cref="Complete"/> opens the last chunk, so an object cut short fails there; a
/// stream disposed without it never passes its last chunk on. The first <paramref name="skip"/> plaintext bytes are authenticated but not passed on (a resumed download).
/// </summary>
public sealed class DecryptionStream : WriteOnlyStream
{
    private readonly bool _leaveOpen;
    private readonly byte[] _dataKey;
    private readonly string _what;
    private readonly byte[] _header = new byte[EncryptionFormat.HeaderSize];
    private int _headerFilled;
    private AesGcm? _aes;
    private byte[] _record = [];
    private byte[] _plain = [];
    private int _filled;
    private long _index;
    private long _skip;
    private bool _completed;

    /// <param name="what">The object's name in error messages.</param>
    public DecryptionStream(Stream inner, ReadOnlySpan<byte> dataKey, string what, long skip = 0, bool leaveOpen = false)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (dataKey.Length != EncryptionFormat.KeySize) throw new ArgumentException("A data key is 32 bytes.", nameof(dataKey));
        _leaveOpen = leaveOpen;
        _dataKey = dataKey.ToArray();
        _what = what;
        _skip = skip;
    }

    /// <summary>Plaintext bytes authenticated so far.</summary>
    public long PlaintextLength { get; private set; }

    public override bool CanWrite => !_completed;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_headerFilled < EncryptionFormat.HeaderSize)
        {
            var take = Math.Min(buffer.Length, EncryptionFormat.HeaderSize - _headerFilled);
            buffer[..take].CopyTo(_header.AsSpan(_headerFilled));
            _headerFilled += take;
            buffer = buffer[take..];
            if (_headerFilled < EncryptionFormat.HeaderSize) return;
            var chunkSize = EncryptionFormat.ReadHeader(_header, _dataKey, _what);
            _aes = new AesGcm(_dataKey, EncryptionFormat.TagSize);
            _record = new byte[chunkSize + EncryptionFormat.TagSize];
            _plain = new byte[chunkSize];
        }
        while (buffer.Length > 0)
        {
            // A full record is opened only once more bytes arrive: until then it may be the last one.
            if (_filled == _record.Length) OpenChunk(final: false);
            var take = Math.Min(buffer.Length, _record.Length - _filled);
            buffer[..take].CopyTo(_record.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Opens the last chunk; fails when the object ended early (no header, or a last chunk not sealed as last).</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        if (_aes is null) throw EncryptionFormat.Failed(_what, $"it ends after {_headerFilled} bytes, inside its header");
        OpenChunk(final: true);
        Inner.Flush();
    }

    private void OpenChunk(bool final)
    {
        if (_filled < EncryptionFormat.TagSize) throw EncryptionFormat.Failed(_what, $"chunk {_index} is cut short");
        var length = _filled - EncryptionFormat.TagSize;
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[EncryptionFormat.AssociatedDataSize];
        EncryptionFormat.Nonce(_header, _index, nonce);
        EncryptionFormat.AssociatedData(_header, _index, final, aad);
        try
        {
            _aes!.Decrypt(nonce, _record.AsSpan(0, length), _record.AsSpan(length, EncryptionFormat.TagSize), _plain.AsSpan(0, length), aad);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw EncryptionFormat.Failed(_what, final
                ? $"chunk {_index} fails authentication as the last chunk (the object is cut short or its chunks were altered or reordered)"
                : $"chunk {_index} fails authentication (altered, or moved from another position)", ex);
        }
        var pass = (int)Math.Min(length, Math.Max(0, (PlaintextLength + length) - _skip));
        if (pass > 0) Inner.Write(_plain, length - pass, pass);
        PlaintextLength += length;
        _index++;
        _filled = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes?.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
            CryptographicOperations.ZeroMemory(_dataKey);
            if (!_leaveOpen) Inner.Dispose();
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
