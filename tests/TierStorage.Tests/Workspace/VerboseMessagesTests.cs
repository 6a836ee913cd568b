using System.Collections.Concurrent;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Workspace;

/// <summary>Issue 10: -Verbose said nothing. The engine says which workspace and policy it opened, which rule asked for each
/// move and what it skipped; debug detail names the catalog, its schema version and the tier roots.</summary>
public sealed class VerboseMessagesTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Opening_says_which_workspace_and_policy_and_debug_names_the_catalog_and_tier_roots()
    {
        await using var bed = await CreateAsync();
        var verbose = new ConcurrentQueue<string>();
        var debug = new ConcurrentQueue<string>();

        await using var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = bed.WorkspaceRoot, Verbose = verbose.Enqueue, Debug = debug.Enqueue }, None);

        Assert.Contains($"Workspace '{bed.WorkspaceRoot}' (given with -WorkspacePath (--workspace)).", verbose);
        Assert.Contains($"Policy '{Path.Combine(bed.WorkspaceRoot, "tierstorage.yaml")}' (the workspace's policy).", verbose);
        Assert.Contains(debug, m => m.StartsWith($"Catalog '{bed.Layout.CatalogPath}', schema version ", StringComparison.Ordinal));
        Assert.Contains($"Tier '{BackupTier}': level 2 (Backup), Folder, root '{bed.TierRoot}'.", debug);
    }

    [Fact]
    public async Task Each_move_names_the_rule_that_asked_for_it_and_a_skipped_backup_says_why()
    {
        await using var bed = await CreateAsync();
        var setup = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(setup);
        await bed.CloseAsync(setup);
        var verbose = new ConcurrentQueue<string>();
        await using var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = bed.WorkspaceRoot, Time = bed.Time, Verbose = verbose.Enqueue }, None);

        foreach (var move in await ws.Lifecycle.PlanAsync(None)) await ws.Lifecycle.ExecuteAsync(move, force: false, null, None);
        await BackupAsync(ws, id);

        Assert.Contains($"Copy session '{id}' from 'local' to '{BackupTier}': asked for by rule 'completed session not yet on backup'.", verbose);
        Assert.Contains(verbose, m => m.StartsWith($"Backup of '{id}' to tier '{BackupTier}': Skipped: ", StringComparison.Ordinal));
    }
}
