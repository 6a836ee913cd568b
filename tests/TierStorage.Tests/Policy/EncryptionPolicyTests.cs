using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>The encryption section: which tiers, which key, and its checks.</summary>
public sealed class EncryptionPolicyTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Without_a_section_nothing_is_encrypted_and_a_section_turns_it_on_for_every_non_local_tier()
    {
        var off = PolicyLoader.Load(_files.Write(ValidTiers));
        var on = PolicyLoader.Load(_files.Write(ValidTiers + "encryption:\n  key_source: key_file\n"));

        Assert.False(off.Encryption.Enabled);
        Assert.All(off.Tiers, t => Assert.False(off.Encryption.Covers(t)));
        Assert.True(on.Encryption.Enabled);
        Assert.Equal(["backup", "archive"], on.Tiers.Where(on.Encryption.Covers).Select(t => t.Name));
        Assert.Equal((EncryptionKeySource.KeyFile, 600_000, 1 << 20), (on.Encryption.KeySource, on.Encryption.KdfIterations, on.Encryption.ChunkSizeBytes));
    }

    [Fact]
    public void Passphrase_tiers_chunk_size_and_iterations_are_read()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            encryption:
              key_source: passphrase
              passphrase_env: MY_TIER_PASSPHRASE
              kdf_iterations: 1000000
              chunk_size: 256KB
              tiers: [archive]
            """));

        var encryption = policy.Encryption;
        Assert.Equal((EncryptionKeySource.Passphrase, "MY_TIER_PASSPHRASE", 1_000_000, 256 * 1000), (encryption.KeySource, encryption.PassphraseVariable, encryption.KdfIterations, encryption.ChunkSizeBytes));
        Assert.Equal(["archive"], policy.Tiers.Where(encryption.Covers).Select(t => t.Name));
        Assert.False(PolicyLoader.Load(_files.Write(ValidTiers + "encryption:\n  enabled: false\n")).Encryption.Enabled);
    }

    [Fact]
    public void Each_malformed_value_is_a_finding_at_its_line_and_key()
    {
        var findings = Errors(_files.Test(ValidTiers + """
            encryption:
              key_source: passfrase
              passphrase_env: "hunter2 is my passphrase"
              kdf_iterations: 10000
              chunk_size: 1KB
              tiers: [local, bakup]
              passphrase: abc
            """));

        Assert.Equal(
            [
                (18, 15, "encryption.key_source", PolicyFindingCodes.InvalidValue),
                (19, 19, "encryption.passphrase_env", PolicyFindingCodes.InvalidValue),
                (20, 19, "encryption.kdf_iterations", PolicyFindingCodes.OutOfRange),
                (21, 15, "encryption.chunk_size", PolicyFindingCodes.OutOfRange),
                (22, 11, "encryption.tiers", PolicyFindingCodes.InvalidValue),
                (22, 18, "encryption.tiers", PolicyFindingCodes.MissingTier),
                (23, 3, "encryption.passphrase", PolicyFindingCodes.SecretInPolicy),
            ],
            findings.Select(f => (f.Line!.Value, f.Column!.Value, f.KeyPath!, f.Code)));
        Assert.Contains("did you mean 'passphrase'", findings[0].Message, StringComparison.Ordinal);
        Assert.Contains("never the passphrase itself", findings[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", findings[1].Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'backup'", findings[5].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_passphrase_without_its_variable_is_a_finding()
    {
        var findings = Errors(_files.Test(ValidTiers + "encryption:\n  key_source: passphrase\n"));

        Assert.Equal(("encryption.passphrase_env", PolicyFindingCodes.MissingKey), Assert.Single(findings) is var f ? (f.KeyPath!, f.Code) : default);
    }
}
