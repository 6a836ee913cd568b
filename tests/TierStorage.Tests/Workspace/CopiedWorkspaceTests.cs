using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Workspace;

/// <summary>Issue 11 #1: the catalog stored absolute paths, so `cp -a X Y` then a backup in Y pruned X's logs and handoffs
/// (X then failed every backup with BackupNotFound).</summary>
public sealed class CopiedWorkspaceTests
{
    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.EnumerateDirectories(from)) CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }

    private static Dictionary<string, byte[]> Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains(Path.DirectorySeparatorChar + "analytics" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);

    [Fact]
    public async Task A_backup_in_a_copied_workspace_prunes_its_own_files_and_never_the_originals()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var original = await bed.OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await bed.CompletedSessionAsync(original, seed: i + 1));
        await bed.CloseAsync(original);
        var before = Files(bed.WorkspaceRoot);
        var copyRoot = Path.Combine(bed.Root, "copy");
        CopyDirectory(bed.WorkspaceRoot, copyRoot);

        await using (var copy = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = copyRoot }, CancellationToken.None))
        {
            var sessions = await ToListAsync(copy.GetSessionsAsync(new SessionFilter(), CancellationToken.None));
            Assert.All(sessions.Where(s => s.LogPath is not null), s => Assert.StartsWith(copyRoot, s.LogPath!, StringComparison.Ordinal));
            // The original still exists, so the copy shares its namespace on the tier until it gets its own (issue 11 #2).
            Assert.Equal(bed.WorkspaceRoot, copy.CopyOf);
            await copy.NewIdentityAsync(CancellationToken.None);
            var results = await ToListAsync(copy.Backups.BackupAsync(new Engine.Backup.BackupRequest { SessionIds = ids }, null, CancellationToken.None));
            Assert.All(results, r => Assert.True(r.Verified, r.Message));
            Assert.Equal(ids.Take(2), results.SelectMany(r => r.PrunedSessions).Order());
        }

        Assert.Equal(before.Keys.Order(), Files(bed.WorkspaceRoot).Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, File.ReadAllBytes(Path.Combine(bed.WorkspaceRoot, kv.Key))));
        Assert.DoesNotContain(Files(copyRoot).Keys, k => k.Contains(ids[0], StringComparison.Ordinal) && !k.StartsWith("staging", StringComparison.Ordinal));
    }

    [Fact]
    public void Paths_are_stored_relative_to_the_workspace_and_old_absolute_rows_are_read_inside_it()
    {
        var root = Path.Combine(Path.GetTempPath(), "ws-now");
        var inside = Path.Combine(root, "handoffs", "s_handoff.md");

        Assert.Equal("handoffs/s_handoff.md", WorkspacePaths.ToStored(root, inside));
        Assert.Equal(inside, WorkspacePaths.FromStored(root, "handoffs/s_handoff.md"));
        Assert.Equal(inside, WorkspacePaths.FromStored(root, Path.Combine(Path.GetTempPath(), "ws-before", "handoffs", "s_handoff.md")));
        var elsewhere = Path.Combine(Path.GetTempPath(), "elsewhere", "notes.md");
        Assert.Equal(elsewhere, WorkspacePaths.ToStored(root, elsewhere));
        Assert.False(WorkspacePaths.IsInside(root, elsewhere));
        Assert.False(WorkspacePaths.IsInside(root, root));
    }
}

/// <summary>Issue 11 #7: a deleted catalog gave "No sessions." and exit 0 while the logs sat in logs/.</summary>
public sealed class LostCatalogTests
{
    [Fact]
    public async Task A_workspace_whose_catalog_is_gone_says_so_loudly_when_its_logs_remain()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), CancellationToken.None);
        await ws.CompleteSessionAsync(null, CancellationToken.None);
        await ws.DisposeAsync();
        Assert.Empty(t.Warnings);
        foreach (var file in Directory.EnumerateFiles(t.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);

        await using (await t.OpenAsync())
        {
            Assert.Contains(t.Warnings, w => w.Contains("was missing", StringComparison.Ordinal) && w.Contains("Update-TierCatalog", StringComparison.Ordinal));
        }
        t.Warnings.Clear();
        await using (await t.OpenAsync()) Assert.Empty(t.Warnings);
    }
}
