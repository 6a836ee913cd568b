using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;

namespace TierStorage.Engine.Tiers.Encrypted;

/// <summary>
/// Client-side encryption of one tier, as a decorator over its store: the engine keeps putting and reading its usual keys
/// (Phase_1_setup/sessions/&lt;session&gt;/activity.jsonl.gz, metadata/..._manifest.json) and sees their plaintext sizes and
/// checksums, while the tier only ever holds
/// <code>
/// tierstorage_keyring.json        the name key wrapped by the key-encryption key (KEK), and the KEK's id and KDF salt
/// Phase_&lt;n&gt;/&lt;h&gt;.bin               the object in EncryptionFormat under its own random data key
/// Phase_&lt;n&gt;/&lt;h&gt;.key               its envelope: the data key wrapped by the KEK, the real key and plaintext checksums
///                                 sealed under the data key, and the ciphertext's size, MD5 and SHA-256 in clear
/// </code>
/// where h is an HMAC of the real key under the name key and n the phase the key belongs to (objects of no phase go
/// under workspace/). So names and folders tell no more than phase numbers and sizes. Rotating the KEK re-writes only
/// envelopes and the keyring. A ciphertext is verified against its envelope as the tier reports it (size, MD5) and,
/// when read, by SHA-256 and each chunk's tag.
/// </summary>
public partial class EncryptedObjectStore : IObjectStore
{
    public const string KeyringKey = "tierstorage_keyring.json";
    private const string DataSuffix = ".bin";
    private const string EnvelopeSuffix = ".key";
    private const long MaxEnvelopeBytes = 64 << 10;
    /// <summary>Envelopes, the keyring and the sealed metadata (camelCase, indented), source-generated: the CLI is NativeAOT.</summary>
    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
    [JsonSerializable(typeof(Keyring))]
    [JsonSerializable(typeof(Envelope))]
    [JsonSerializable(typeof(SealedMetadata))]
    internal sealed partial class Json : JsonSerializerContext;

    private readonly IObjectStore _inner;
    private readonly EncryptionKeys _keys;
    private readonly int _chunkSize;
    private readonly string _tempDirectory;
    private readonly Dictionary<string, OpenEnvelope> _envelopes = new(StringComparer.Ordinal);
    private Keyring? _keyring;
    private byte[]? _nameKey;
    private Dictionary<string, KeyEncryptionKey> _keks = new(StringComparer.Ordinal);

    protected EncryptedObjectStore(IObjectStore inner, EncryptionKeys keys, int chunkSize, string tempDirectory)
    {
        _inner = inner;
        _keys = keys;
        _chunkSize = chunkSize;
        _tempDirectory = tempDirectory;
    }

    /// <summary>The decorator for <paramref name="inner"/>, keeping its archive or quota capability.</summary>
    /// <param name="tempDirectory">Where a ciphertext is staged before upload (inside the workspace, so it stays private).</param>
    public static EncryptedObjectStore Wrap(IObjectStore inner, EncryptionKeys keys, int chunkSize, string tempDirectory) => inner switch
    {
        IArchiveStore archive => new EncryptedArchiveStore(archive, keys, chunkSize, tempDirectory),
        IQuotaStore quota => new EncryptedQuotaStore(quota, keys, chunkSize, tempDirectory),
        _ => new EncryptedObjectStore(inner, keys, chunkSize, tempDirectory),
    };

    /// <summary>The store holding the ciphertext (what verification without the key and rotation work on).</summary>
    public IObjectStore Inner => _inner;
    public string TierName => _inner.TierName;
    public TierKind Kind => _inner.Kind;
    public string Location => _inner.Location;

    /// <summary>The id of the KEK the tier's keyring is under; null while the tier holds no keyring.</summary>
    public async Task<string?> GetKeyIdAsync(CancellationToken cancellationToken) =>
        await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false) ? _keyring!.Kek.Id : null;

    /// <summary>The key a rotation of this tier that was cut off was moving to (its id, and its salt for a passphrase).</summary>
    public async Task<KeyParameters?> GetPendingRotationAsync(CancellationToken cancellationToken) =>
        await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false) ? _keyring!.Next : null;

    /// <summary>
    /// Checks every encrypted object on the tier without the key: its ciphertext against the size and MD5 the tier reports
    /// and its envelope records, and with <paramref name="readData"/> against the envelope's SHA-256 as read back. Objects
    /// are named by their tier keys (the real names are sealed). Yields (tier key, status, message).
    /// </summary>
    public async IAsyncEnumerable<(string Key, BackupCheckStatus Status, string Message)> VerifyCiphertextAsync(bool readData, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var data = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        var envelopes = new List<string>();
        await foreach (var info in _inner.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            if (info.Key.EndsWith(DataSuffix, StringComparison.Ordinal)) data[info.Key] = info;
            else if (info.Key.EndsWith(EnvelopeSuffix, StringComparison.Ordinal)) envelopes.Add(info.Key);
        }
        foreach (var envelopeKey in envelopes.Order(StringComparer.Ordinal))
        {
            var dataKey = envelopeKey[..^EnvelopeSuffix.Length] + DataSuffix;
            var envelope = await ReadJsonAsync(envelopeKey, Json.Default.Envelope, cancellationToken).ConfigureAwait(false);
            if (envelope is null) continue;
            var sums = envelope.Ciphertext;
            if (!data.Remove(dataKey, out var info))
            {
                yield return (dataKey, BackupCheckStatus.Missing, $"The envelope {envelopeKey} has no encrypted object beside it.");
                continue;
            }
            if (info.Size != sums.Size || (info.Md5 is { } md5 && !string.Equals(md5, sums.Md5, StringComparison.OrdinalIgnoreCase)))
            {
                yield return (dataKey, BackupCheckStatus.Corrupt, $"Tier '{TierName}' reports {info.Size:N0} bytes with MD5 {info.Md5 ?? "(none)"}; its envelope records {sums.Size:N0} bytes with MD5 {sums.Md5}.");
                continue;
            }
            if (readData)
            {
                await using var sha256 = new Sha256Stream(Stream.Null);
                await _inner.GetAsync(dataKey, sha256, 0, null, cancellationToken).ConfigureAwait(false);
                var (size, hash) = sha256.Result();
                if (size != sums.Size || !string.Equals(hash, sums.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    yield return (dataKey, BackupCheckStatus.Corrupt, $"Read back {size:N0} bytes with SHA-256 {hash}; its envelope records {sums.Size:N0} bytes with SHA-256 {sums.Sha256}.");
                    continue;
                }
            }
            yield return (dataKey, BackupCheckStatus.Ok, readData ? "Ciphertext read back: size, MD5 and SHA-256 match its envelope." : "Size and MD5 as the tier reports them match its envelope.");
        }
        foreach (var orphan in data.Keys.Order(StringComparer.Ordinal))
            yield return (orphan, BackupCheckStatus.Orphan, "An encrypted object without an envelope (a put cut off part way); it can never be read.");
    }

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        await OpenKeyringAsync(create: true, cancellationToken).ConfigureAwait(false);
        var name = HashedName(key);
        var dataKey = RandomNumberGenerator.GetBytes(EncryptionFormat.KeySize);
        var (stored, plain, cipher) = _inner.Kind == TierKind.Folder
            ? await PutStreamingAsync(key, name, content, dataKey, options, cancellationToken).ConfigureAwait(false)
            : await PutStagedAsync(key, name, content, dataKey, options, cancellationToken).ConfigureAwait(false);
        if (stored.Size != cipher.Size || (stored.Md5 is { } md5 && !string.Equals(md5, cipher.Md5, StringComparison.OrdinalIgnoreCase)))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"Tier '{TierName}' reports the encrypted '{key}' as {stored.Size:N0} bytes with MD5 {stored.Md5 ?? "(none)"}, but {cipher.Size:N0} bytes with MD5 {cipher.Md5} were sent.", key);
        if (options?.ExpectedMd5 is { } expected && !string.Equals(expected, plain.Md5, StringComparison.OrdinalIgnoreCase))
        {
            // Without its envelope the object is never read; it is removed so it does not linger either.
            await _inner.DeleteAsync(DataKey(key, name), cancellationToken).ConfigureAwait(false);
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"'{key}' read {plain.Size:N0} bytes with MD5 {plain.Md5} while being encrypted, but MD5 {expected} was expected; nothing was stored.", key);
        }

        var metadata = new SealedMetadata(key, plain.Size, plain.Md5);
        var kek = CurrentKek();
        var envelope = new Envelope
        {
            KekId = kek.Id,
            DataKey = EncryptionKeys.Wrap(kek.Key, dataKey, DataKeyContext(name)),
            Metadata = EncryptionKeys.Wrap(dataKey, JsonSerializer.SerializeToUtf8Bytes(metadata, Json.Default.SealedMetadata), MetadataContext(name)),
            Ciphertext = new CiphertextSums(cipher.Size, stored.Md5 ?? cipher.Md5, cipher.Sha256),
        };
        await PutEnvelopeAsync(key, name, envelope, cancellationToken).ConfigureAwait(false);
        _envelopes[name] = new OpenEnvelope(envelope, metadata, dataKey);
        return new ObjectInfo { Key = key, Size = plain.Size, Md5 = plain.Md5, LastModified = stored.LastModified, StoreId = stored.StoreId };
    }

    /// <summary>A folder tier takes the ciphertext as it is produced: the data is read and encrypted once.</summary>
    private async Task<(ObjectInfo Stored, (long Size, string Md5) Plain, FileChecksum Cipher)> PutStreamingAsync(string key, string name, Stream content, byte[] dataKey,
        PutOptions? options, CancellationToken cancellationToken)
    {
        await using var encrypting = new EncryptingReadStream(content, dataKey, _chunkSize);
        var stored = await _inner.PutAsync(DataKey(key, name), encrypting, new PutOptions { Progress = options?.Progress, StorageClass = options?.StorageClass }, cancellationToken).ConfigureAwait(false);
        var (size, sha256) = encrypting.Ciphertext();
        // The folder computed the MD5 of the very bytes it was handed (one hash fewer on this path); the size and, on every
        // later look, that MD5 against the envelope are what verify the copy.
        return (stored, encrypting.Plaintext(), new FileChecksum(size, stored.Md5 ?? "", sha256));
    }

    /// <summary>A remote tier gets the ciphertext staged in a private file first, so its retries and resumed uploads resend
    /// the very same bytes and it can check them against their MD5 as it receives them.</summary>
    private async Task<(ObjectInfo Stored, (long Size, string Md5) Plain, FileChecksum Cipher)> PutStagedAsync(string key, string name, Stream content, byte[] dataKey,
        PutOptions? options, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_tempDirectory);
        var temp = Path.Combine(_tempDirectory, $"{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            FileChecksum plain;
            FileChecksum cipher;
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new FileStream(temp, create))
            {
                var cipherSum = new ChecksumStream(file, leaveOpen: true);
                var encrypt = new EncryptionStream(cipherSum, dataKey, _chunkSize, leaveOpen: true);
                var plainSum = new ChecksumStream(encrypt, leaveOpen: true);
                await content.CopyToAsync(plainSum, 1 << 16, cancellationToken).ConfigureAwait(false);
                plain = plainSum.GetChecksum();
                encrypt.Complete();
                cipher = cipherSum.GetChecksum();
                await plainSum.DisposeAsync().ConfigureAwait(false);
                await encrypt.DisposeAsync().ConfigureAwait(false);
                await cipherSum.DisposeAsync().ConfigureAwait(false);
            }
            await using var upload = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var stored = await _inner.PutAsync(DataKey(key, name), upload, new PutOptions
            {
                ExpectedMd5 = cipher.Md5, Progress = options?.Progress, StorageClass = options?.StorageClass,
            }, cancellationToken).ConfigureAwait(false);
            return (stored, (plain.Size, plain.Md5), cipher);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var open = await RequireEnvelopeAsync(key, cancellationToken).ConfigureAwait(false);
        var name = HashedName(key);
        await using var decrypt = new DecryptionStream(destination, open.DataKey, key, offset, leaveOpen: true);
        await using var sha256 = new Sha256Stream(decrypt);
        // The whole ciphertext is read: each chunk's tag covers its position, so a resumed plaintext offset starts from the top.
        await _inner.GetAsync(DataKey(key, name), sha256, 0, progress, cancellationToken).ConfigureAwait(false);
        var (size, hash) = sha256.Result();
        if (size != open.Envelope.Ciphertext.Size || !string.Equals(hash, open.Envelope.Ciphertext.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"The encrypted '{key}' read back from tier '{TierName}' is {size:N0} bytes with SHA-256 {hash}, but its envelope records {open.Envelope.Ciphertext.Size:N0} bytes with SHA-256 {open.Envelope.Ciphertext.Sha256}. The copy is not trusted.",
                key);
        decrypt.Complete();
        if (decrypt.PlaintextLength != open.Metadata.Size)
            throw EncryptionFormat.Failed(key, $"it decrypts to {decrypt.PlaintextLength:N0} bytes where its envelope records {open.Metadata.Size:N0}");
    }

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        if (!await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false)) return null;
        var name = HashedName(key);
        var open = await TryEnvelopeAsync(key, name, cancellationToken).ConfigureAwait(false);
        if (open is null) return null;
        var data = await _inner.StatAsync(DataKey(key, name), cancellationToken).ConfigureAwait(false);
        return data is null ? null : PlaintextView(open, data);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false)) yield break;
        var data = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        var envelopes = new List<string>();
        await foreach (var info in _inner.ListAsync(Bucket(prefix, forListing: true), cancellationToken).ConfigureAwait(false))
        {
            if (info.Key.EndsWith(DataSuffix, StringComparison.Ordinal)) data[info.Key[..^DataSuffix.Length]] = info;
            else if (info.Key.EndsWith(EnvelopeSuffix, StringComparison.Ordinal)) envelopes.Add(info.Key);
        }
        foreach (var envelopeKey in envelopes)
        {
            var stem = envelopeKey[..^EnvelopeSuffix.Length];
            // An envelope without its data is what a put cut off between the two leaves behind, or a delete half done.
            if (!data.TryGetValue(stem, out var dataInfo)) continue;
            var open = await ReadEnvelopeAsync(envelopeKey, stem[(stem.LastIndexOf('/') + 1)..], cancellationToken).ConfigureAwait(false);
            if (open is null || !open.Metadata.Key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            yield return PlaintextView(open, dataInfo);
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        if (!await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false)) return false;
        var name = HashedName(key);
        // Data first: an envelope left alone is ignored, data left without its envelope could never be read or found again.
        var deleted = await _inner.DeleteAsync(DataKey(key, name), cancellationToken).ConfigureAwait(false);
        deleted |= await _inner.DeleteAsync(EnvelopeKey(key, name), cancellationToken).ConfigureAwait(false);
        _envelopes.Remove(name);
        return deleted;
    }

    /// <summary>Re-wraps every data key on the tier and then the name key under <paramref name="next"/>, leaving every
    /// ciphertext as it is. Resumable: envelopes already under <paramref name="next"/> are counted and skipped.</summary>
    public async Task<KeyRotationResult> RewrapAsync(KeyEncryptionKey next, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false))
            return new KeyRotationResult { Tier = TierName, OldKeyId = "", NewKeyId = next.Id };
        _keks[next.Id] = next;
        var oldId = _keyring!.Kek.Id;
        // The keyring says a rotation is under way first, so a passphrase rotation cut off part way resumes with the same salt.
        if (oldId != next.Id && _keyring.Next?.Id != next.Id)
            await PutKeyringAsync(_keyring with { Next = next.Parameters }, cancellationToken).ConfigureAwait(false);

        int rewrapped = 0, already = 0;
        var envelopes = new List<string>();
        await foreach (var info in _inner.ListAsync("", cancellationToken).ConfigureAwait(false))
            if (info.Key.EndsWith(EnvelopeSuffix, StringComparison.Ordinal)) envelopes.Add(info.Key);
        foreach (var envelopeKey in envelopes)
        {
            var name = envelopeKey[(envelopeKey.LastIndexOf('/') + 1)..^EnvelopeSuffix.Length];
            var open = await ReadEnvelopeAsync(envelopeKey, name, cancellationToken).ConfigureAwait(false);
            if (open is null) continue;
            if (open.Envelope.KekId == next.Id)
            {
                already++;
                continue;
            }
            var envelope = open.Envelope with { KekId = next.Id, DataKey = EncryptionKeys.Wrap(next.Key, open.DataKey, DataKeyContext(name)) };
            await PutEnvelopeAsync(open.Metadata.Key, name, envelope, cancellationToken).ConfigureAwait(false);
            _envelopes[name] = open with { Envelope = envelope };
            rewrapped++;
        }
        await PutKeyringAsync(new Keyring
        {
            Kek = next.Parameters,
            NameKey = EncryptionKeys.Wrap(next.Key, _nameKey!, NameKeyContext),
        }, cancellationToken).ConfigureAwait(false);
        return new KeyRotationResult
        {
            Tier = TierName, OldKeyId = oldId, NewKeyId = next.Id, ObjectsRewrapped = rewrapped, ObjectsAlreadyRewrapped = already,
            Duration = System.Diagnostics.Stopwatch.GetElapsedTime(started),
        };
    }

    public ValueTask DisposeAsync()
    {
        foreach (var open in _envelopes.Values) CryptographicOperations.ZeroMemory(open.DataKey);
        _envelopes.Clear();
        if (_nameKey is not null) CryptographicOperations.ZeroMemory(_nameKey);
        GC.SuppressFinalize(this);
        return _inner.DisposeAsync();
    }

    // ---- names ----

    private string HashedName(string key) =>
        Convert.ToHexString(HMACSHA256.HashData(_nameKey!, Encoding.UTF8.GetBytes(key))).ToLowerInvariant()[..40];

    private static string DataKey(string key, string name) => $"{Bucket(key, forListing: false)}/{name}{DataSuffix}";
    private static string EnvelopeKey(string key, string name) => $"{Bucket(key, forListing: false)}/{name}{EnvelopeSuffix}";

    /// <summary>Phase_&lt;n&gt; for keys of a phase (its sessions, review, archive and archive manifest), workspace for the rest.
    /// For a listing prefix that does not name a whole phase number yet, "" (everything).</summary>
    private static string Bucket(string key, bool forListing)
    {
        var match = PhaseOfKey().Match(key);
        if (match.Success) return forListing ? $"Phase_{match.Groups["n"].Value}/" : $"Phase_{match.Groups["n"].Value}";
        return forListing ? "" : "workspace";
    }

    [GeneratedRegex(@"^(?:metadata/)?Phase_(?<n>[0-9]{1,9})(?=[_/.])")]
    private static partial Regex PhaseOfKey();

    private const string NameKeyContext = "tierstorage/name-key";
    private static string DataKeyContext(string name) => "tierstorage/data-key/" + name;
    private static string MetadataContext(string name) => "tierstorage/metadata/" + name;

    // ---- keyring ----

    private KeyEncryptionKey CurrentKek() => _keks[_keyring!.Kek.Id];

    /// <summary>Reads the tier's keyring and opens its name key with the policy's key; with <paramref name="create"/>, a tier
    /// without one gets a new keyring. False when there is none (and none was made): the tier holds nothing encrypted.</summary>
    private async Task<bool> OpenKeyringAsync(bool create, CancellationToken cancellationToken)
    {
        if (_nameKey is not null) return true;
        var keyring = await ReadJsonAsync(KeyringKey, Json.Default.Keyring, cancellationToken).ConfigureAwait(false);
        if (keyring is null)
        {
            if (!create) return false;
            // Two processes of the workspace (the background backup after Complete-Session and a manual one) must not each
            // write a keyring with its own name key: the loser's objects could never be found again.
            Directory.CreateDirectory(_tempDirectory);
            using var creating = await Workspace.FileLock.AcquireAsync(Path.Combine(_tempDirectory, "keyring-" + TierName + ".lock"), TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            keyring = await ReadJsonAsync(KeyringKey, Json.Default.Keyring, cancellationToken).ConfigureAwait(false);
            if (keyring is null)
            {
                var kek = _keys.Current(null);
                var nameKey = RandomNumberGenerator.GetBytes(EncryptionFormat.KeySize);
                keyring = new Keyring { Kek = kek.Parameters, NameKey = EncryptionKeys.Wrap(kek.Key, nameKey, NameKeyContext) };
                await PutKeyringAsync(keyring, cancellationToken).ConfigureAwait(false);
                _keks[kek.Id] = kek;
                _keyring = keyring;
                _nameKey = nameKey;
                return true;
            }
        }

        var current = _keys.Current(keyring.Kek);
        _keks[current.Id] = current;
        if (_keys.Pending() is { } pending) _keks[pending.Id] = pending;
        if (!_keks.TryGetValue(keyring.Kek.Id, out var opening))
            throw new TierStorageException(ErrorIds.EncryptionKeyMismatch, TierErrorKind.PermissionDenied,
                $"Tier '{TierName}' is encrypted under the key with id {keyring.Kek.Id}, but {_keys.Description} has id {current.Id}: it is not the key (or passphrase) this tier's data was written with. " +
                (keyring.Next is { } next && next.Id == current.Id
                    ? "A key rotation to this key was interrupted; run Update-TierEncryptionKey (tierstorage key rotate) again with the old key in place."
                    : "Put back the key file (or set the passphrase) the data was encrypted with; without it the data cannot be read."),
                TierName);
        _nameKey = EncryptionKeys.Unwrap(opening.Key, keyring.NameKey, NameKeyContext)
            ?? throw new TierStorageException(ErrorIds.EncryptionKeyMismatch, TierErrorKind.PermissionDenied,
                $"The keyring of tier '{TierName}' does not open with {_keys.Description} although the key ids match; the keyring was altered and is not trusted.", TierName);
        _keyring = keyring;
        return true;
    }

    private Task PutKeyringAsync(Keyring keyring, CancellationToken cancellationToken)
    {
        _keyring = keyring;
        return PutJsonAsync(KeyringKey, keyring, Json.Default.Keyring, cancellationToken);
    }

    // ---- envelopes ----

    private async Task<OpenEnvelope> RequireEnvelopeAsync(string key, CancellationToken cancellationToken)
    {
        if (await OpenKeyringAsync(create: false, cancellationToken).ConfigureAwait(false)
            && await TryEnvelopeAsync(key, HashedName(key), cancellationToken).ConfigureAwait(false) is { } open)
            return open;
        throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
            $"Tier '{TierName}' holds no encrypted object '{key}'.", key);
    }

    private async Task<OpenEnvelope?> TryEnvelopeAsync(string key, string name, CancellationToken cancellationToken)
    {
        if (_envelopes.TryGetValue(name, out var cached)) return cached;
        var open = await ReadEnvelopeAsync(EnvelopeKey(key, name), name, cancellationToken).ConfigureAwait(false);
        if (open is not null && open.Metadata.Key != key)
            throw EncryptionFormat.Failed(key, "its envelope belongs to another object");
        return open;
    }

    private async Task<OpenEnvelope?> ReadEnvelopeAsync(string envelopeKey, string name, CancellationToken cancellationToken)
    {
        if (_envelopes.TryGetValue(name, out var cached)) return cached;
        var envelope = await ReadJsonAsync(envelopeKey, Json.Default.Envelope, cancellationToken).ConfigureAwait(false);
        if (envelope is null) return null;
        if (!_keks.TryGetValue(envelope.KekId, out var kek))
            throw new TierStorageException(ErrorIds.EncryptionKeyMismatch, TierErrorKind.PermissionDenied,
                $"An object on tier '{TierName}' ({envelopeKey}) is wrapped under the key with id {envelope.KekId}, which {_keys.Description} is not. If a key rotation was interrupted, run Update-TierEncryptionKey (tierstorage key rotate) again.",
                envelopeKey);
        var dataKey = EncryptionKeys.Unwrap(kek.Key, envelope.DataKey, DataKeyContext(name))
            ?? throw EncryptionFormat.Failed(envelopeKey, "its data key does not unwrap under the tier's key (the envelope was altered or moved)");
        var sealedMetadata = EncryptionKeys.Unwrap(dataKey, envelope.Metadata, MetadataContext(name))
            ?? throw EncryptionFormat.Failed(envelopeKey, "its sealed metadata fails authentication");
        SealedMetadata metadata;
        try
        {
            metadata = JsonSerializer.Deserialize(sealedMetadata, Json.Default.SealedMetadata) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw EncryptionFormat.Failed(envelopeKey, "its sealed metadata is not readable", ex);
        }
        var open = new OpenEnvelope(envelope, metadata, dataKey);
        _envelopes[name] = open;
        return open;
    }

    private Task PutEnvelopeAsync(string key, string name, Envelope envelope, CancellationToken cancellationToken) =>
        PutJsonAsync(EnvelopeKey(key, name), envelope, Json.Default.Envelope, cancellationToken);

    /// <summary>The plaintext view of an object whose ciphertext the tier reports as <paramref name="data"/>: when the tier's
    /// size or MD5 of the ciphertext differs from the envelope's, the view carries the tier's MD5, so every check of the
    /// engine sees a mismatch.</summary>
    private static ObjectInfo PlaintextView(OpenEnvelope open, ObjectInfo data)
    {
        var intact = data.Size == open.Envelope.Ciphertext.Size
            && (data.Md5 is null || string.Equals(data.Md5, open.Envelope.Ciphertext.Md5, StringComparison.OrdinalIgnoreCase));
        return new ObjectInfo
        {
            Key = open.Metadata.Key, Size = open.Metadata.Size, Md5 = intact ? open.Metadata.Md5 : data.Md5 ?? "",
            LastModified = data.LastModified, StoreId = data.StoreId,
        };
    }

    private async Task<T?> ReadJsonAsync<T>(string key, JsonTypeInfo<T> type, CancellationToken cancellationToken) where T : class
    {
        var info = await _inner.StatAsync(key, cancellationToken).ConfigureAwait(false);
        if (info is null) return null;
        if (info.Size > MaxEnvelopeBytes)
            throw EncryptionFormat.Failed(key, $"it is {info.Size:N0} bytes, more than a key envelope ever is");
        using var bytes = new MemoryStream();
        await _inner.GetAsync(key, bytes, 0, null, cancellationToken).ConfigureAwait(false);
        if (bytes.Length > MaxEnvelopeBytes) throw EncryptionFormat.Failed(key, "it grew beyond the size of a key envelope while being read");
        try
        {
            return JsonSerializer.Deserialize(bytes.ToArray(), type) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw EncryptionFormat.Failed(key, "it is not a readable TierStorage key envelope or keyring", ex);
        }
    }

    private async Task PutJsonAsync<T>(string key, T value, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, type);
        // Envelopes and the keyring stay in a class read without a thaw, even when the tier archives the data itself.
        await _inner.PutAsync(key, new MemoryStream(bytes), new PutOptions
        {
            ExpectedMd5 = ChecksumStream.Hex(MD5.HashData(bytes)), ContentType = "application/json",
            StorageClass = _inner is IArchiveStore ? "STANDARD" : null,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Maps a plaintext key to the key of its ciphertext on the inner store (archive thaws go to the data object).</summary>
    protected async Task<string> InnerDataKeyAsync(string key, CancellationToken cancellationToken)
    {
        await RequireEnvelopeAsync(key, cancellationToken).ConfigureAwait(false);
        return DataKey(key, HashedName(key));
    }

    /// <summary>Passes writes on while hashing them with SHA-256 alone: on the read path the tags already authenticate every
    /// chunk, so the ciphertext's MD5 (what the tier reports) is not worth a second pass.</summary>
    private sealed class Sha256Stream(Stream inner) : WriteOnlyStream(inner)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _size;

        public (long Size, string Sha256) Result() => (_size, ChecksumStream.Hex(_hash.GetHashAndReset()));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            _size += buffer.Length;
            Inner.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    internal sealed record Keyring
    {
        public string Format { get; set; } = "tierstorage-keyring";
        public int Version { get; set; } = 1;
        public KeyParameters Kek { get; set; } = new();
        /// <summary>The name key wrapped by the KEK.</summary>
        public string NameKey { get; set; } = "";
        /// <summary>The key a rotation under way is moving to.</summary>
        public KeyParameters? Next { get; init; }
    }

    internal sealed record Envelope
    {
        public string Format { get; set; } = "tierstorage-envelope";
        public int Version { get; set; } = 1;
        public string KekId { get; set; } = "";
        public string DataKey { get; set; } = "";
        public string Metadata { get; set; } = "";
        public CiphertextSums Ciphertext { get; set; } = new(0, "", "");
    }

    internal sealed record CiphertextSums(long Size, string Md5, string Sha256);

    internal sealed record SealedMetadata(string Key, long Size, string Md5);

    private sealed record OpenEnvelope(Envelope Envelope, SealedMetadata Metadata, byte[] DataKey);
}

/// <summary>The encrypting decorator of a store whose objects may need a thaw (S3 Deep Archive): thaws go to the ciphertext.</summary>
public sealed class EncryptedArchiveStore : EncryptedObjectStore, IArchiveStore
{
    private readonly IArchiveStore _archive;

    internal EncryptedArchiveStore(IArchiveStore inner, EncryptionKeys keys, int chunkSize, string tempDirectory) : base(inner, keys, chunkSize, tempDirectory) =>
        _archive = inner;

    public async Task<ArchiveRestoreStatus> GetRestoreStatusAsync(string key, CancellationToken cancellationToken) =>
        (await _archive.GetRestoreStatusAsync(await InnerDataKeyAsync(key, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)) with { Key = key };

    public async Task<ArchiveRestoreStatus> RequestRestoreAsync(string key, int days, ArchiveRetrievalTier tier, CancellationToken cancellationToken) =>
        (await _archive.RequestRestoreAsync(await InnerDataKeyAsync(key, cancellationToken).ConfigureAwait(false), days, tier, cancellationToken).ConfigureAwait(false)) with { Key = key };
}

/// <summary>The encrypting decorator of a store that reports its quota (a folder's disk, Drive's storage quota).</summary>
public sealed class EncryptedQuotaStore : EncryptedObjectStore, IQuotaStore
{
    private readonly IQuotaStore _quota;

    internal EncryptedQuotaStore(IQuotaStore inner, EncryptionKeys keys, int chunkSize, string tempDirectory) : base(inner, keys, chunkSize, tempDirectory) =>
        _quota = inner;

    public Task<StoreQuota> GetQuotaAsync(CancellationToken cancellationToken) => _quota.GetQuotaAsync(cancellationToken);
}
