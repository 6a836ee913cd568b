using System.Security.Cryptography;
using System.Text;
using TierStorage.Contracts;

namespace TierStorage.Engine.Packaging;

/// <summary>How a key-encryption key was made, as a tier's keyring records it (never the key itself).</summary>
public sealed record KeyParameters
{
    /// <summary>Fingerprint of the key (<see cref="EncryptionKeys.KeyId"/>).</summary>
    public string Id { get; set; } = "";
    /// <summary>"key_file" or "passphrase".</summary>
    public string Source { get; set; } = "";
    /// <summary>passphrase: PBKDF2 salt (base64) and iteration count.</summary>
    public string? Salt { get; init; }
    public int? Iterations { get; init; }
}

/// <summary>A key-encryption key in memory with the parameters that made it.</summary>
public sealed record KeyEncryptionKey(byte[] Key, KeyParameters Parameters)
{
    public string Id => Parameters.Id;
}

/// <summary>
/// Where the key-encryption key (KEK) of an encrypted tier comes from, per the policy: the key file in credentials/
/// (created by Initialize-TierWorkspace -Encrypt), or a passphrase in an environment variable stretched with
/// PBKDF2-SHA256 and the salt the tier's keyring keeps. Wrapping and unwrapping data keys is AES-256-GCM under the KEK,
/// with the object's name as associated data so a wrapped key cannot be moved to another object.
/// </summary>
public sealed class EncryptionKeys
{
    public const string KeyFileName = "tier_encryption.key";
    /// <summary>The next key while a rotation is under way: kept until every tier is re-wrapped, then renamed over the key file.</summary>
    public const string PendingSuffix = ".next";
    private const string KeyFileHeader = "tierstorage-key v1";
    private static readonly byte[] DpapiEntropy = "TierStorage tier encryption key"u8.ToArray();
    private static readonly Dictionary<string, byte[]> DerivedKeys = new(StringComparer.Ordinal);

    private readonly EncryptionPolicy _policy;

    public EncryptionKeys(EncryptionPolicy policy, string credentialsDirectory)
    {
        _policy = policy;
        KeyFilePath = Path.Combine(credentialsDirectory, KeyFileName);
    }

    public string KeyFilePath { get; }
    public string PendingKeyFilePath => KeyFilePath + PendingSuffix;
    public EncryptionKeySource Source => _policy.KeySource;

    /// <summary>Where the key comes from, for messages (a path or a variable name; never a secret).</summary>
    public string Description => _policy.KeySource == EncryptionKeySource.KeyFile
        ? $"the key file '{KeyFilePath}'"
        : $"the passphrase in ${_policy.PassphraseVariable}";

    /// <summary>The KEK for a keyring written with <paramref name="parameters"/> (its salt and iterations), or for a new
    /// keyring when null. ErrorIds.EncryptionKeyNotFound when the key file or the passphrase variable is missing.</summary>
    public KeyEncryptionKey Current(KeyParameters? parameters) => _policy.KeySource == EncryptionKeySource.KeyFile
        ? FromKeyFile(KeyFilePath, required: true)!
        : FromPassphrase(ReadPassphrase(_policy.PassphraseVariable!), parameters);

    /// <summary>The key-file KEK a rotation is moving to, while one is under way (so objects already re-wrapped stay readable).</summary>
    public KeyEncryptionKey? Pending() => _policy.KeySource == EncryptionKeySource.KeyFile ? FromKeyFile(PendingKeyFilePath, required: false) : null;

    /// <summary>A passphrase KEK from the named variable with fresh (or the given) salt and the policy's iterations.</summary>
    public KeyEncryptionKey FromPassphraseVariable(string variable, KeyParameters? parameters) => FromPassphrase(ReadPassphrase(variable), parameters);

    private KeyEncryptionKey FromPassphrase(string passphrase, KeyParameters? parameters)
    {
        var salt = parameters?.Salt is { } s ? Convert.FromBase64String(s) : RandomNumberGenerator.GetBytes(16);
        var iterations = parameters?.Iterations ?? _policy.KdfIterations;
        if (iterations < EncryptionPolicy.MinimumKdfIterations)
            throw new TierStorageException(ErrorIds.DecryptionFailed, TierErrorKind.InvalidData,
                $"The tier's keyring asks for {iterations} PBKDF2 iterations, below the minimum of {EncryptionPolicy.MinimumKdfIterations}; it is not trusted.");
        // 600,000 iterations cost a noticeable fraction of a second, and one command opens a tier several times.
        var cacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{iterations}\0{Convert.ToBase64String(salt)}\0{passphrase}")));
        byte[] key;
        lock (DerivedKeys)
        {
            if (!DerivedKeys.TryGetValue(cacheKey, out key!))
                DerivedKeys[cacheKey] = key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, iterations, HashAlgorithmName.SHA256, EncryptionFormat.KeySize);
        }
        return new KeyEncryptionKey(key, new KeyParameters { Id = KeyId(key), Source = "passphrase", Salt = Convert.ToBase64String(salt), Iterations = iterations });
    }

    private static string ReadPassphrase(string variable)
    {
        var passphrase = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(passphrase))
            throw new TierStorageException(ErrorIds.EncryptionKeyNotFound, TierErrorKind.ObjectNotFound,
                $"The policy encrypts tiers with a passphrase from the environment variable {variable}, which is not set. Set it to the passphrase the tiers were encrypted with; without it nothing on them can be read.",
                variable);
        return passphrase;
    }

    private static KeyEncryptionKey? FromKeyFile(string path, bool required)
    {
        if (!File.Exists(path))
        {
            if (!required) return null;
            throw new TierStorageException(ErrorIds.EncryptionKeyNotFound, TierErrorKind.ObjectNotFound,
                $"The policy encrypts tiers with the key file '{path}', which does not exist. Copy back the key file the data was encrypted with (from your own backup of it), or create a key for a new workspace with Initialize-TierWorkspace -Encrypt (tierstorage init --encrypt); data encrypted under a lost key cannot be read.",
                path);
        }
        var text = File.ReadAllText(path).Trim();
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        byte[] key;
        try
        {
            if (parts.Length != 4 || $"{parts[0]} {parts[1]}" != KeyFileHeader) throw new FormatException();
            var stored = Convert.FromBase64String(parts[3]);
            key = parts[2] switch
            {
                "plain" => stored,
                "dpapi" when OperatingSystem.IsWindows() => ProtectedData.Unprotect(stored, DpapiEntropy, DataProtectionScope.CurrentUser),
                _ => throw new FormatException(),
            };
            if (key.Length != EncryptionFormat.KeySize) throw new FormatException();
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new TierStorageException(ErrorIds.EncryptionKeyMismatch, TierErrorKind.InvalidData,
                $"The key file '{path}' is not a TierStorage key (or is DPAPI-protected for another Windows user or machine). Put back the key file the data was encrypted with.",
                path, ex);
        }
        return new KeyEncryptionKey(key, new KeyParameters { Id = KeyId(key), Source = "key_file" });
    }

    /// <summary>Writes a new random key file (DPAPI-protected on Windows, 0600 elsewhere). ErrorIds.FileExists when one is there:
    /// replacing a key would make every tier encrypted under it unreadable.</summary>
    public static KeyEncryptionKey CreateKeyFile(string path)
    {
        if (File.Exists(path))
            throw new TierStorageException(ErrorIds.FileExists, TierErrorKind.ResourceExists,
                $"The key file '{path}' already exists and is kept: the tiers encrypted under it need it. Update-TierEncryptionKey (tierstorage key rotate) replaces it safely.",
                path);
        var key = RandomNumberGenerator.GetBytes(EncryptionFormat.KeySize);
        WriteKeyFile(path, key);
        return new KeyEncryptionKey(key, new KeyParameters { Id = KeyId(key), Source = "key_file" });
    }

    /// <summary>The key file for <paramref name="path"/>, written atomically and readable by the user alone.</summary>
    internal static void WriteKeyFile(string path, byte[] key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var (protection, stored) = OperatingSystem.IsWindows()
            ? ("dpapi", ProtectedData.Protect(key, DpapiEntropy, DataProtectionScope.CurrentUser))
            : ("plain", key);
        var temp = Workspace.AtomicFile.TempPathFor(path);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(Encoding.ASCII.GetBytes($"{KeyFileHeader} {protection} {Convert.ToBase64String(stored)}\n"));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>"DPAPI (current user)" on Windows, "file mode 0600" elsewhere.</summary>
    public static string Protection => OperatingSystem.IsWindows() ? "DPAPI (current user)" : "file mode 0600";

    /// <summary>The public fingerprint of a KEK: 16 hex digits of HMAC-SHA256 over a label.</summary>
    public static string KeyId(byte[] key) =>
        Convert.ToHexString(HMACSHA256.HashData(key, "tierstorage/kek-id"u8)).ToLowerInvariant()[..16];

    /// <summary>AES-256-GCM of <paramref name="secret"/> under <paramref name="key"/>: nonce || ciphertext || tag, base64.</summary>
    public static string Wrap(byte[] key, ReadOnlySpan<byte> secret, string context)
    {
        var output = new byte[12 + secret.Length + EncryptionFormat.TagSize];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using var aes = new AesGcm(key, EncryptionFormat.TagSize);
        aes.Encrypt(output.AsSpan(0, 12), secret, output.AsSpan(12, secret.Length), output.AsSpan(12 + secret.Length), Encoding.UTF8.GetBytes(context));
        return Convert.ToBase64String(output);
    }

    /// <summary>The secret <see cref="Wrap"/> sealed, or null when the key or the context does not match.</summary>
    public static byte[]? Unwrap(byte[] key, string wrapped, string context)
    {
        byte[] input;
        try
        {
            input = Convert.FromBase64String(wrapped);
        }
        catch (FormatException)
        {
            return null;
        }
        if (input.Length < 12 + EncryptionFormat.TagSize) return null;
        var secret = new byte[input.Length - 12 - EncryptionFormat.TagSize];
        using var aes = new AesGcm(key, EncryptionFormat.TagSize);
        try
        {
            aes.Decrypt(input.AsSpan(0, 12), input.AsSpan(12, secret.Length), input.AsSpan(12 + secret.Length), secret, Encoding.UTF8.GetBytes(context));
            return secret;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}
