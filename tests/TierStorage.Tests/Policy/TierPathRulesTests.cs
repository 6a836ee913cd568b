using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Policy;

/// <summary>Issue 11 #14: a tier at '/', a '..' chain to /etc, the workspace or a folder inside it, and one folder for two
/// tiers all passed Test-TierPolicy.</summary>
public sealed class TierPathRulesTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string Policy(string backupPath, string archivePath = "") => $"""
        version: 1
        tiers:
          - name: local
            level: 1
            kind: folder
          - name: backup
            level: 2
            kind: folder
            path: '{backupPath}'
        {(archivePath.Length == 0 ? "" : $"  - name: archive\n    level: 3\n    kind: folder\n    path: '{archivePath}'\n")}
        """;

    private IReadOnlyList<PolicyFinding> Unsafe(string yaml) =>
        _files.Test(yaml).Where(f => f.Code == PolicyFindingCodes.UnsafeTierPath).ToList();

    [Theory]
    [InlineData("/")]
    [InlineData("/etc")]
    [InlineData("/home/../etc/")]
    [InlineData("/usr")]
    public void A_root_or_system_folder_is_refused_naming_the_line(string path)
    {
        if (OperatingSystem.IsWindows()) path = path == "/" ? @"C:\" : Environment.GetFolderPath(Environment.SpecialFolder.Windows);

        var finding = Assert.Single(Unsafe(Policy(path)));

        Assert.Equal((FindingSeverity.Error, 9, "tiers[1].path"), (finding.Severity, finding.Line, finding.KeyPath));
    }

    [Fact]
    public void Two_tiers_in_one_folder_or_one_inside_the_other_are_refused()
    {
        var backup = Path.Combine(_files.Directory, "tiers", "backup");

        Assert.Contains("share the folder", Assert.Single(Unsafe(Policy(backup, backup))).Message);
        Assert.Single(Unsafe(Policy(backup, Path.Combine(backup, "archive"))));
        Assert.Empty(Unsafe(Policy(backup, Path.Combine(_files.Directory, "tiers", "backup-archive"))));
    }

    [Fact]
    public async Task The_workspace_or_a_folder_inside_it_is_refused_by_Test_TierPolicy_and_when_the_workspace_opens()
    {
        var root = Path.Combine(_files.Directory, "ws");
        await TierWorkspace.InitializeAsync(root, null, force: false, CancellationToken.None);
        var policyFile = Path.Combine(root, "tierstorage.yaml");

        foreach (var inside in new[] { root, Path.Combine(root, "backup"), "backup" })
        {
            File.WriteAllText(policyFile, Policy(inside));
            Assert.Contains("is the workspace", Assert.Single(PolicyLoader.Test(policyFile), f => f.Code == PolicyFindingCodes.UnsafeTierPath).Message);
        }

        // A policy kept outside the workspace cannot know it: opening the workspace refuses it.
        var outside = _files.Write(Policy(Path.Combine(root, "state", "copies")), "outside.yaml");
        Assert.DoesNotContain(PolicyLoader.Test(outside), f => f.Severity == FindingSeverity.Error);
        var error = await Assert.ThrowsAsync<TierStorageException>(() =>
            TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = root, PolicyPath = outside }, CancellationToken.None));
        Assert.Equal(ErrorIds.PolicyInvalid, error.ErrorId);
        Assert.Contains("inside it", error.Message);
    }

    [Fact]
    public void Sibling_folders_of_the_workspace_are_fine()
    {
        Assert.Null(TierPathRules.Refusal(Path.Combine(_files.Directory, "ws-backup"), Path.Combine(_files.Directory, "ws")));
        Assert.False(TierPathRules.Overlap(Path.Combine(_files.Directory, "a"), Path.Combine(_files.Directory, "ab")));
    }
}
