using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using Xunit;

namespace TierStorage.Tests.Packaging;

public sealed class EncryptionStreamTests
{
    private const int Chunk = EncryptionFormat.MinChunkSize;
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    private static byte[] Encrypt(byte[] plain, byte[]? key = null, int chunk = Chunk, int writeSize = 1000)
    {
        var output = new MemoryStream();
        using (var encrypt = new EncryptionStream(output, key ?? Key, chunk, leaveOpen: true))
            for (var i = 0; i < plain.Length; i += writeSize) encrypt.Write(plain, i, Math.Min(writeSize, plain.Length - i));
        return output.ToArray();
    }

    private static byte[] Decrypt(byte[] cipher, byte[]? key = null, long skip = 0, int writeSize = 777)
    {
        var output = new MemoryStream();
        using var decrypt = new DecryptionStream(output, key ?? Key, "test.bin", skip, leaveOpen: true);
        for (var i = 0; i < cipher.Length; i += writeSize) decrypt.Write(cipher, i, Math.Min(writeSize, cipher.Length - i));
        decrypt.Complete();
        return output.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk - 1)]
    [InlineData(Chunk)]
    [InlineData(Chunk * 3)]
    [InlineData(Chunk * 3 + 17)]
    public void Round_trip_of_every_length_around_chunk_boundaries(int length)
    {
        var plain = RandomNumberGenerator.GetBytes(length);

        var cipher = Encrypt(plain);

        Assert.Equal(EncryptionFormat.CiphertextLength(length, Chunk), cipher.Length);
        Assert.Equal(plain, Decrypt(cipher));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Chunk)]
    [InlineData(Chunk * 2 + 3)]
    public async Task The_reading_encryptor_produces_the_same_format_and_its_checksums(int length)
    {
        var plain = RandomNumberGenerator.GetBytes(length);
        await using var encrypting = new EncryptingReadStream(new MemoryStream(plain), Key, Chunk);
        var cipher = new MemoryStream();

        await encrypting.CopyToAsync(cipher, 1000);

        Assert.Equal(plain, Decrypt(cipher.ToArray()));
        Assert.Equal((long)length, encrypting.Plaintext().Size);
        var sums = encrypting.Ciphertext();
        Assert.Equal((cipher.Length, Convert.ToHexStringLower(SHA256.HashData(cipher.ToArray()))), (sums.Size, sums.Sha256));
    }

    [Fact]
    public void Ciphertext_does_not_contain_the_plaintext_and_two_encryptions_differ()
    {
        var plain = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("ghp_SECRETTOKEN project-zebra ", 500)));

        var first = Encrypt(plain);
        var second = Encrypt(plain);

        Assert.DoesNotContain("ghp_SECRETTOKEN", System.Text.Encoding.Latin1.GetString(first), StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Skip_passes_on_only_the_bytes_after_the_offset()
    {
        var plain = RandomNumberGenerator.GetBytes(Chunk * 2 + 100);

        Assert.Equal(plain[(Chunk + 5)..], Decrypt(Encrypt(plain), skip: Chunk + 5));
    }

    [Fact]
    public void A_tampered_chunk_fails_authentication_and_names_it()
    {
        var cipher = Encrypt(RandomNumberGenerator.GetBytes(Chunk * 3));
        cipher[EncryptionFormat.HeaderSize + Chunk + EncryptionFormat.TagSize + 10] ^= 1;

        var ex = Assert.Throws<TierStorageException>(() => Decrypt(cipher));

        Assert.Equal(ErrorIds.DecryptionFailed, ex.ErrorId);
        Assert.Contains("chunk 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dropping_the_final_chunk_is_detected_as_truncation()
    {
        var record = Chunk + EncryptionFormat.TagSize;
        var cipher = Encrypt(RandomNumberGenerator.GetBytes(Chunk * 2 + 50));

        var truncated = cipher[..(EncryptionFormat.HeaderSize + 2 * record)];

        var ex = Assert.Throws<TierStorageException>(() => Decrypt(truncated));
        Assert.Equal(ErrorIds.DecryptionFailed, ex.ErrorId);
        Assert.Contains("last chunk", ex.Message, StringComparison.Ordinal);
        // Cut inside the header, or to nothing, too.
        Assert.Equal(ErrorIds.DecryptionFailed, Assert.Throws<TierStorageException>(() => Decrypt(cipher[..10])).ErrorId);
        Assert.Equal(ErrorIds.DecryptionFailed, Assert.Throws<TierStorageException>(() => Decrypt([])).ErrorId);
    }

    [Fact]
    public void Reordered_chunks_fail_authentication()
    {
        var record = Chunk + EncryptionFormat.TagSize;
        var cipher = Encrypt(RandomNumberGenerator.GetBytes(Chunk * 3 + 50));
        var swapped = (byte[])cipher.Clone();
        Array.Copy(cipher, EncryptionFormat.HeaderSize, swapped, EncryptionFormat.HeaderSize + record, record);
        Array.Copy(cipher, EncryptionFormat.HeaderSize + record, swapped, EncryptionFormat.HeaderSize, record);

        var ex = Assert.Throws<TierStorageException>(() => Decrypt(swapped));

        Assert.Equal(ErrorIds.DecryptionFailed, ex.ErrorId);
        Assert.Contains("chunk 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_data_key_is_refused_from_the_header_before_any_chunk()
    {
        var cipher = Encrypt(RandomNumberGenerator.GetBytes(100));

        var ex = Assert.Throws<TierStorageException>(() => Decrypt(cipher, RandomNumberGenerator.GetBytes(32)));

        Assert.Equal(ErrorIds.DecryptionFailed, ex.ErrorId);
        Assert.Contains("another data key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_edited_header_chunk_size_fails_every_chunk()
    {
        var cipher = Encrypt(RandomNumberGenerator.GetBytes(Chunk * 2));
        cipher[10] ^= 0x01; // chunk size 4096 -> 4096 + 65536: still in range, but the AAD no longer matches

        Assert.Equal(ErrorIds.DecryptionFailed, Assert.Throws<TierStorageException>(() => Decrypt(cipher)).ErrorId);
    }

    [Fact]
    public void Memory_stays_one_chunk_whatever_the_length()
    {
        // 64 MB through 1 MB chunks: the streams hold one chunk each, so allocation stays far below the data's size.
        var block = RandomNumberGenerator.GetBytes(1 << 20);
        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var encrypt = new EncryptionStream(Stream.Null, Key))
            for (var i = 0; i < 64; i++) encrypt.Write(block);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 8 << 20, $"{allocated:N0} bytes allocated for 64 MB");
    }

    [Fact]
    public void Key_wrapping_binds_the_context()
    {
        var kek = RandomNumberGenerator.GetBytes(32);
        var wrapped = EncryptionKeys.Wrap(kek, Key, "tierstorage/data-key/a");

        Assert.Equal(Key, EncryptionKeys.Unwrap(kek, wrapped, "tierstorage/data-key/a"));
        Assert.Null(EncryptionKeys.Unwrap(kek, wrapped, "tierstorage/data-key/b"));
        Assert.Null(EncryptionKeys.Unwrap(RandomNumberGenerator.GetBytes(32), wrapped, "tierstorage/data-key/a"));
    }

    [Fact]
    public void Passphrase_kdf_is_pbkdf2_sha256_with_the_salt_kept_and_at_least_600k_iterations()
    {
        Environment.SetEnvironmentVariable("TS_TEST_PASSPHRASE_KDF", "correct horse battery staple");
        try
        {
            var keys = new EncryptionKeys(new EncryptionPolicy { Enabled = true, KeySource = EncryptionKeySource.Passphrase, PassphraseVariable = "TS_TEST_PASSPHRASE_KDF" }, Path.GetTempPath());

            var fresh = keys.Current(null);
            var again = keys.Current(fresh.Parameters);

            Assert.Equal(600_000, fresh.Parameters.Iterations);
            Assert.Equal(fresh.Key, again.Key);
            Assert.Equal(Rfc2898DeriveBytes.Pbkdf2("correct horse battery staple"u8.ToArray(), Convert.FromBase64String(fresh.Parameters.Salt!), 600_000, HashAlgorithmName.SHA256, 32), fresh.Key);
            Assert.NotEqual(fresh.Key, keys.Current(null).Key);
            Assert.Equal(ErrorIds.DecryptionFailed, Assert.Throws<TierStorageException>(() => keys.Current(fresh.Parameters with { Iterations = 1000 })).ErrorId);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TS_TEST_PASSPHRASE_KDF", null);
        }
    }

    [Fact]
    public void A_missing_passphrase_variable_or_key_file_is_EncryptionKeyNotFound()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ts-keys-" + Guid.NewGuid().ToString("N"));
        var fromFile = new EncryptionKeys(new EncryptionPolicy { Enabled = true }, dir);
        var fromPassphrase = new EncryptionKeys(new EncryptionPolicy { Enabled = true, KeySource = EncryptionKeySource.Passphrase, PassphraseVariable = "TS_TEST_UNSET_" + Guid.NewGuid().ToString("N") }, dir);

        var file = Assert.Throws<TierStorageException>(() => fromFile.Current(null));
        var passphrase = Assert.Throws<TierStorageException>(() => fromPassphrase.Current(null));

        Assert.Equal((ErrorIds.EncryptionKeyNotFound, TierErrorKind.ObjectNotFound), (file.ErrorId, file.Kind));
        Assert.Contains(EncryptionKeys.KeyFileName, file.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.EncryptionKeyNotFound, passphrase.ErrorId);
        Assert.Contains("not set", passphrase.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_key_file_is_private_and_never_replaced()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ts-keys-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, EncryptionKeys.KeyFileName);
            var created = EncryptionKeys.CreateKeyFile(path);
            var keys = new EncryptionKeys(new EncryptionPolicy { Enabled = true }, dir);

            Assert.Equal(created.Key, keys.Current(null).Key);
            // DPAPI on Windows: the file alone does not give the key away.
            if (OperatingSystem.IsWindows()) Assert.DoesNotContain(Convert.ToBase64String(created.Key), File.ReadAllText(path), StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(ErrorIds.FileExists, Assert.Throws<TierStorageException>(() => EncryptionKeys.CreateKeyFile(path)).ErrorId);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
