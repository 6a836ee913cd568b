using TierStorage.Cli;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>init --encrypt, an encrypted backup, key rotate, and the exit codes of a lost or wrong key.</summary>
public sealed class CliEncryptionTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    private string BackupTier => Path.Combine(_temp.Root, "backup");
    private string KeyFile => Path.Combine(_temp.Workspace, "credentials", EncryptionKeys.KeyFileName);

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--workspace", _temp.Workspace]);

    private async Task<string> InitEncryptedAsync()
    {
        File.WriteAllText(Path.Combine(_temp.Root, "template.yaml"), $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
              - name: backup
                level: 2
                kind: folder
                path: {BackupTier}
            """);
        var init = await Run("init", "--policy-template", Path.Combine(_temp.Root, "template.yaml"), "--encrypt");
        CliRunner.AssertExit(ExitCodes.Success, init);
        Assert.Contains("encryption turned on in the policy", init.Stdout, StringComparison.Ordinal);
        Assert.Contains("Keep a copy", init.Stderr, StringComparison.Ordinal);
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--phase", "1", "--id", "session_20261203_100000"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("event", "add", "--type", "tool_call", "--tool", "Edit", "--file", "src/secret_project.cs"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "complete", "--no-backup"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("backup", "run"));
        return "session_20261203_100000";
    }

    [Fact]
    public async Task Init_encrypt_backs_up_encrypted_and_key_rotate_rewraps_without_resending()
    {
        var id = await InitEncryptedAsync();
        Assert.True(File.Exists(KeyFile));
        Assert.Contains("encryption:", File.ReadAllText(Path.Combine(_temp.Workspace, "tierstorage.yaml")), StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.EnumerateFiles(BackupTier, "*", SearchOption.AllDirectories), p => p.Contains(id, StringComparison.Ordinal));

        // A second --encrypt never replaces the key.
        CliRunner.AssertExit(ExitCodes.Failed, await Run("init", "--encrypt"));

        var whatIf = await Run("key", "rotate", "--what-if");
        CliRunner.AssertExit(ExitCodes.Success, whatIf);
        Assert.Contains("tier 'backup'", whatIf.Stdout, StringComparison.Ordinal);
        var rotate = await Run("key", "rotate", "--json");
        CliRunner.AssertExit(ExitCodes.Success, rotate);
        var result = Assert.Single(rotate.StdoutLines.Select(l => CliJson.Deserialize<KeyRotationResult>(l)!));
        Assert.True(result.ObjectsRewrapped > 0);
        CliRunner.AssertExit(ExitCodes.Success, await Run("backup", "test", "--read-data"));
    }

    [Fact]
    public async Task A_lost_key_exits_3_and_a_wrong_key_exits_5_naming_the_problem()
    {
        await InitEncryptedAsync();
        var original = File.ReadAllBytes(KeyFile);

        File.Delete(KeyFile);
        var lost = await Run("backup", "test");
        CliRunner.AssertExit(ExitCodes.NotFound, lost);
        Assert.Contains(ErrorIds.EncryptionKeyNotFound, lost.Stderr, StringComparison.Ordinal);

        EncryptionKeys.CreateKeyFile(KeyFile);
        var wrong = await Run("backup", "test");
        CliRunner.AssertExit(ExitCodes.Unavailable, wrong);
        Assert.Contains(ErrorIds.EncryptionKeyMismatch, wrong.Stderr, StringComparison.Ordinal);

        File.WriteAllBytes(KeyFile, original);
        CliRunner.AssertExit(ExitCodes.Success, await Run("backup", "test"));
    }
}
