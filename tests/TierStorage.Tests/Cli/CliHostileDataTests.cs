using System.Security.Cryptography;
using System.Text;
using TierStorage.Cli;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Tests.Packaging;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>What the command says about hostile tier data and oversized fields (issue 11 #18): exit 4 with the error id
/// and the object for the first, a warning on stderr for the second.</summary>
public sealed class CliHostileDataTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    private string BackupTier => Path.Combine(_temp.Root, "nas", "backup");

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--workspace", _temp.Workspace]);

    private async Task InitAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(BackupTier)!);
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        File.WriteAllText(Path.Combine(_temp.Workspace, "tierstorage.yaml"), $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
              - name: backup
                level: 2
                kind: folder
                path: {BackupTier}
            retention:
              local_sessions: 1
            """);
    }

    [Fact]
    public async Task Restoring_a_package_with_a_sparse_tar_entry_exits_4_naming_the_archive()
    {
        await InitAsync();
        const string id = "session_20260101_100000";
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--phase", "1", "--id", id));
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunWithInputAsync("""{"tasks":["x"]}""", "snapshot", "save", "--workspace", _temp.Workspace));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "complete", "--wait"));
        // The tier's snapshots.tar.gz holds a GNU sparse entry, and its manifest was rewritten to match; the catalog is
        // rebuilt from that tier, so only the extractor stands in the way.
        var folder = Path.Combine(BackupTier, _temp.Namespace, "Phase_1", "sessions", id);
        var hostile = HostileTierDataTests.TarGz([], HostileTierDataTests.RawHeader("snap001.json.gz", 'S', HostileTierDataTests.Octal(5), gnu: true), new byte[512]);
        File.WriteAllBytes(Path.Combine(folder, SessionPackager.SnapshotsFileName), hostile);
        var manifestPath = Path.Combine(folder, SessionManifest.FileName);
        var manifest = SessionManifest.Parse(File.ReadAllBytes(manifestPath), "test");
        manifest = manifest with
        {
            Files = manifest.Files.Select(f => f.Name != SessionPackager.SnapshotsFileName ? f : f with
            {
                Size = hostile.Length, Md5 = Convert.ToHexStringLower(MD5.HashData(hostile)), Sha256 = Convert.ToHexStringLower(SHA256.HashData(hostile)),
            }).ToList(),
        };
        File.WriteAllBytes(manifestPath, manifest.ToUtf8Json());
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_temp.Workspace, "analytics"), "agent_metrics.db*")) File.Delete(file);
        CliRunner.AssertExit(ExitCodes.Success, await Run("catalog", "rebuild", "--from-tier", "backup"));

        var restore = await Run("restore", id, "--destination", Path.Combine(_temp.Root, "restored"));

        CliRunner.AssertExit(ExitCodes.InvalidData, restore);
        Assert.Contains(ErrorIds.UnsafeArchive, restore.Stderr);
        Assert.Contains(SessionPackager.SnapshotsFileName, restore.Stderr);
        Assert.DoesNotContain("Unexpected", restore.Stderr);
    }

    [Fact]
    public async Task A_field_too_large_to_scan_for_secrets_in_time_is_redacted_whole_with_a_warning_naming_session_event_and_field()
    {
        await InitAsync();
        const string id = "session_20260101_110000";
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--phase", "1", "--id", id));
        // 20 MB of tool output that costs the password pattern far more than its time limit to scan.
        var output = "api key " + new string('-', 20 << 20);
        var line = $$"""{"timestamp":"{{DateTimeOffset.UtcNow:O}}","type":"tool_call","tool":"Bash","data":{"output":""" + "\"" + output + "\"}}";

        var add = await CliRunner.RunWithInputAsync(line + "\n", "event", "add", "--stdin", "--workspace", _temp.Workspace);

        CliRunner.AssertExit(ExitCodes.Success, add);
        Assert.Contains(id, add.Stderr);
        Assert.Contains("tool_call event", add.Stderr);
        Assert.Contains("'data.output'", add.Stderr);
        Assert.Contains("[REDACTED:", add.Stderr);
        var log = File.ReadAllText(Path.Combine(_temp.Workspace, "logs", "session_current.jsonl"), Encoding.UTF8);
        Assert.DoesNotContain("-----", log);
    }
}
