using System.Buffers.Binary;
using System.Security.Cryptography;
using TierStorage.Contracts;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// The chunked AES-256-GCM format of an encrypted object (version 1):
/// <code>
/// header  "TSEC" | version (1) | 3 zero bytes | chunk size (uint32 BE) | data key id (8) | nonce prefix (8)   = 28 bytes
/// chunk i ciphertext (chunk size bytes; the last chunk 0..chunk size) | tag (16)
/// </code>
/// The nonce of chunk i is the prefix followed by i (uint32 BE), so a data key never repeats a nonce. Each chunk's
/// associated data is the whole header, i (uint64 BE) and a final flag (1 on the last chunk only): a chunk moved to
/// another position, a dropped last chunk (the new last one was sealed as not final) or a header edited to another key
/// id or chunk size all fail authentication. Every chunk but the last is full, so the reader knows the last one by
/// reaching the end.
/// </summary>
public static class EncryptionFormat
{
    public const byte Version = 1;
    public const int HeaderSize = 28;
    public const int TagSize = 16;
    public const int KeySize = 32;
    public const int DefaultChunkSize = 1 << 20;
    public const int MinChunkSize = 4 << 10;
    public const int MaxChunkSize = 16 << 20;
    private static ReadOnlySpan<byte> Magic => "TSEC"u8;

    /// <summary>The public fingerprint of a data key (first 8 bytes of SHA-256 over a label and the key): says which key an
    /// object needs without revealing it.</summary>
    public static byte[] DataKeyId(ReadOnlySpan<byte> dataKey)
    {
        Span<byte> input = stackalloc byte["tierstorage/data-key-id/"u8.Length + KeySize];
        "tierstorage/data-key-id/"u8.CopyTo(input);
        dataKey.CopyTo(input["tierstorage/data-key-id/"u8.Length..]);
        return SHA256.HashData(input)[..8];
    }

    /// <summary>Bytes an object of <paramref name="plaintextLength"/> bytes takes once encrypted.</summary>
    public static long CiphertextLength(long plaintextLength, int chunkSize)
    {
        var chunks = Math.Max(1, (plaintextLength + chunkSize - 1) / chunkSize);
        if (plaintextLength > 0 && plaintextLength % chunkSize == 0) chunks = plaintextLength / chunkSize;
        return HeaderSize + plaintextLength + chunks * TagSize;
    }

    internal static byte[] WriteHeader(int chunkSize, ReadOnlySpan<byte> dataKey)
    {
        var header = new byte[HeaderSize];
        Magic.CopyTo(header);
        header[4] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), (uint)chunkSize);
        DataKeyId(dataKey).CopyTo(header.AsSpan(12));
        RandomNumberGenerator.Fill(header.AsSpan(20, 8));
        return header;
    }

    /// <summary>The chunk size of a header, after checking its magic, version and that it was written for this data key.</summary>
    internal static int ReadHeader(ReadOnlySpan<byte> header, ReadOnlySpan<byte> dataKey, string what)
    {
        if (!header[..4].SequenceEqual(Magic))
            throw Failed(what, "it does not start with the TierStorage encryption header (TSEC)");
        if (header[4] != Version)
            throw Failed(what, $"its encryption format version is {header[4]}; this version reads version {Version}");
        var chunkSize = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        if (chunkSize is < MinChunkSize or > MaxChunkSize)
            throw Failed(what, $"its header names a chunk size of {chunkSize} bytes, outside {MinChunkSize}..{MaxChunkSize}");
        if (!header.Slice(12, 8).SequenceEqual(DataKeyId(dataKey)))
            throw Failed(what, "it was encrypted under another data key than its key envelope holds");
        return (int)chunkSize;
    }

    internal static void Nonce(ReadOnlySpan<byte> header, long index, Span<byte> nonce)
    {
        header.Slice(20, 8).CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], checked((uint)index));
    }

    internal static void AssociatedData(ReadOnlySpan<byte> header, long index, bool final, Span<byte> aad)
    {
        header.CopyTo(aad);
        BinaryPrimitives.WriteUInt64BigEndian(aad[HeaderSize..], (ulong)index);
        aad[HeaderSize + 8] = final ? (byte)1 : (byte)0;
    }

    internal const int AssociatedDataSize = HeaderSize + 9;

    internal static TierStorageException Failed(string what, string why, Exception? inner = null) =>
        new(ErrorIds.DecryptionFailed, TierErrorKind.InvalidData,
            $"'{what}' cannot be decrypted: {why}. The object was altered, truncated or reordered on the tier, or does not belong to its key envelope; it is not trusted. Back the data up again from a good copy.",
            what, inner);
}
