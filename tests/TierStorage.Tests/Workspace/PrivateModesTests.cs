using TierStorage.Engine.Tiers.Folder;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Workspace;

/// <summary>Issue 11 #19: workspaces and folder tiers were created with the process's umask (0755 here), so every user of
/// the machine could read the logs, snapshots and catalog.</summary>
public sealed class PrivateModesTests
{
    [Fact]
    public async Task The_workspace_and_a_folder_tier_it_creates_are_the_users_alone()
    {
        if (OperatingSystem.IsWindows()) return; // Unix modes; Windows folders inherit the user profile's ACL
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        Assert.False(Directory.Exists(bed.TierRoot));
        var id = await bed.CompletedSessionAsync(ws);

        Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(FolderObjectStore.PrivateFolder, File.GetUnixFileMode(bed.WorkspaceRoot));
        Assert.Equal(FolderObjectStore.PrivateFolder, File.GetUnixFileMode(bed.TierRoot));
    }
}
