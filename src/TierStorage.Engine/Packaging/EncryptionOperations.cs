using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Encrypted;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Packaging;

/// <summary>Update-TierEncryptionKey (tierstorage key rotate).</summary>
public sealed record KeyRotationRequest
{
    /// <summary>Passphrase policies: the environment variable holding the new passphrase (the policy's variable must still
    /// hold the old one until the rotation is done).</summary>
    public string? NewPassphraseVariable { get; init; }
}

/// <summary>
/// Client-side encryption of a workspace's tiers: which tiers the policy encrypts and with which key, the decorator that
/// encrypts their stores, creating the key file (Initialize-TierWorkspace -Encrypt) and rotating the key-encryption key.
/// </summary>
public sealed partial class EncryptionOperations
{
    private readonly TierWorkspace _workspace;

    internal EncryptionOperations(TierWorkspace workspace) => _workspace = workspace;

    private EncryptionPolicy Policy => _workspace.Policy.Encryption;

    /// <summary>The key source of the policy.</summary>
    public EncryptionKeys Keys => new(Policy, _workspace.Layout.CredentialsDirectory);

    /// <summary>The tiers whose objects are encrypted, in policy order.</summary>
    public IReadOnlyList<TierDefinition> EncryptedTiers => _workspace.Policy.Tiers.Where(Policy.Covers).ToList();

    internal IObjectStore Wrap(IObjectStore store) =>
        EncryptedObjectStore.Wrap(store, Keys, Policy.ChunkSizeBytes, Path.Combine(_workspace.Layout.StagingDirectory, "encrypting"));

    /// <summary>What a rotation would touch: the encrypted tiers. ErrorIds.InvalidArgument when the policy encrypts none, or a
    /// passphrase policy is rotated without the variable of the new passphrase.</summary>
    public IReadOnlyList<TierDefinition> PlanRotation(KeyRotationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (EncryptedTiers.Count == 0)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidOperation,
                $"The policy '{_workspace.Policy.Source}' encrypts no tier (no 'encryption:' section with enabled: true); there is no key to rotate.");
        if (Policy.KeySource == EncryptionKeySource.Passphrase && string.IsNullOrWhiteSpace(request.NewPassphraseVariable))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"The policy's key is the passphrase in ${Policy.PassphraseVariable}; name the environment variable holding the new passphrase (-NewPassphraseVariable, --new-passphrase-env).");
        if (Policy.KeySource == EncryptionKeySource.KeyFile && !string.IsNullOrWhiteSpace(request.NewPassphraseVariable))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                "The policy's key is a key file, so the rotation makes a new random key file; -NewPassphraseVariable applies to passphrase policies only.");
        return EncryptedTiers;
    }

    /// <summary>Test-Backup -CiphertextOnly: every encrypted tier (or the named one) checked without the key. ErrorIds.InvalidArgument
    /// when the tier is not encrypted.</summary>
    public async IAsyncEnumerable<BackupCheck> VerifyCiphertextAsync(string? tierName, bool readData, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tiers = tierName is null ? EncryptedTiers : EncryptedTiers.Where(t => string.Equals(t.Name, tierName, StringComparison.OrdinalIgnoreCase)).ToList();
        if (tiers.Count == 0)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                tierName is null ? "The policy encrypts no tier; -CiphertextOnly checks encrypted tiers only." : $"Tier '{tierName}' is not encrypted; -CiphertextOnly checks encrypted tiers only.", tierName);
        foreach (var tier in tiers)
        {
            await using var store = (EncryptedObjectStore)await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
            await foreach (var (key, status, message) in store.VerifyCiphertextAsync(readData, cancellationToken).ConfigureAwait(false))
                yield return new BackupCheck { Tier = tier.Name, Key = key, Status = status, DataRead = readData, Message = message };
        }
    }

    /// <summary>
    /// Re-wraps every data key (and each tier's name key) under a new key-encryption key without touching the encrypted
    /// data. Key file: the new key is written beside the old one as tier_encryption.key.next and replaces it once every
    /// tier is done, so a rotation cut off part way (an unreachable tier) is finished by running it again, and the data
    /// stays readable meanwhile. Passphrase: each tier's keyring takes a new salt; afterwards the policy's variable must
    /// hold the new passphrase.
    /// </summary>
    public async IAsyncEnumerable<KeyRotationResult> RotateAsync(KeyRotationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tiers = PlanRotation(request);
        var keys = Keys;
        KeyEncryptionKey? nextFile = null;
        if (keys.Source == EncryptionKeySource.KeyFile)
        {
            // The current key must open the tiers before a new one is made: a rotation never starts from a wrong key.
            keys.Current(null);
            nextFile = keys.Pending();
            if (nextFile is null)
            {
                var key = RandomNumberGenerator.GetBytes(EncryptionFormat.KeySize);
                EncryptionKeys.WriteKeyFile(keys.PendingKeyFilePath, key);
                nextFile = keys.Pending()!;
            }
        }

        foreach (var tier in tiers)
        {
            await using var store = (EncryptedObjectStore)await _workspace.OpenStoreAsync(tier, cancellationToken).ConfigureAwait(false);
            var next = nextFile ?? keys.FromPassphraseVariable(request.NewPassphraseVariable!, await store.GetPendingRotationAsync(cancellationToken).ConfigureAwait(false));
            var result = await store.RewrapAsync(next, cancellationToken).ConfigureAwait(false);
            _workspace.Inform($"Tier '{tier.Name}': {result.ObjectsRewrapped} data keys re-wrapped under key {result.NewKeyId} ({result.ObjectsAlreadyRewrapped} already were); no data was re-uploaded.");
            yield return result;
        }

        if (nextFile is not null)
        {
            File.Move(keys.PendingKeyFilePath, keys.KeyFilePath, overwrite: true);
            _workspace.Inform($"The key file '{keys.KeyFilePath}' now holds key {nextFile.Id}; the old key no longer opens these tiers. Back the new key file up.");
        }
        else
        {
            _workspace.Inform($"Set ${Policy.PassphraseVariable} to the new passphrase: the tiers no longer open with the old one.");
        }
    }

    /// <summary>Initialize-TierWorkspace -Encrypt: initializes the workspace as without it, except that an existing policy
    /// kept (no template, no force) is not an error, so an existing workspace gets its key; then <see cref="CreateKeyAsync"/>.
    /// The WorkspaceInfo is null when the workspace was already there.</summary>
    public static async Task<(WorkspaceInfo? Workspace, EncryptionKeyInfo Key)> InitializeEncryptedAsync(string? workspacePath, string? policyTemplatePath, bool force,
        string? baseDirectory, CancellationToken cancellationToken)
    {
        WorkspaceInfo? info = null;
        try
        {
            info = await TierWorkspace.InitializeAsync(workspacePath, policyTemplatePath, force, baseDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.PolicyExists && policyTemplatePath is null)
        {
            // The workspace exists with its policy: -Encrypt adds the key to it.
        }
        return (info, await CreateKeyAsync(TierWorkspace.ResolveWorkspacePath(workspacePath, baseDirectory), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Initialize-TierWorkspace -Encrypt: writes a new key file into the workspace's credentials/ (refusing to replace one)
    /// and, when the workspace's policy has no encryption section, appends one that turns encryption on with it.
    /// </summary>
    public static async Task<EncryptionKeyInfo> CreateKeyAsync(string workspaceRoot, CancellationToken cancellationToken)
    {
        var layout = new WorkspaceLayout(workspaceRoot);
        var path = Path.Combine(layout.CredentialsDirectory, EncryptionKeys.KeyFileName);
        var kek = EncryptionKeys.CreateKeyFile(path);
        var updated = false;
        if (File.Exists(layout.PolicyPath))
        {
            var yaml = await File.ReadAllTextAsync(layout.PolicyPath, cancellationToken).ConfigureAwait(false);
            if (!EncryptionSection().IsMatch(yaml))
            {
                var section = (yaml.EndsWith('\n') ? "" : "\n") +
                    "\n# Client-side encryption (Initialize-TierWorkspace -Encrypt): every object sent to the backup and archive tiers is\n" +
                    "# encrypted with AES-256-GCM under a key wrapped by credentials/" + EncryptionKeys.KeyFileName + ". Keep a copy of that file\n" +
                    "# somewhere safe: without it nothing on the tiers can be read.\n" +
                    "encryption:\n  enabled: true\n  key_source: key_file\n";
                await AtomicFile.WriteAllTextAsync(layout.PolicyPath, yaml + section, overwrite: true, cancellationToken).ConfigureAwait(false);
                updated = true;
            }
        }
        return new EncryptionKeyInfo { KeyFile = path, KeyId = kek.Id, Protection = EncryptionKeys.Protection, PolicyUpdated = updated };
    }

    [GeneratedRegex(@"^encryption\s*:", RegexOptions.Multiline)]
    private static partial Regex EncryptionSection();
}
