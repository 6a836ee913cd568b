using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Issue 11 #7: a deleted catalog read as "No sessions." while the logs sat in logs/; a damaged one made the
/// rebuild itself fail with CatalogCorrupt; after a rebuild, Get-SessionEvent returned no event for any session.</summary>
public sealed class CatalogRebuildEventsTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<Dictionary<string, long>> ToolCallsPerSessionAsync(TierWorkspace workspace, IEnumerable<string> sessionIds)
    {
        var counts = new Dictionary<string, long>();
        foreach (var id in sessionIds)
            counts[id] = await workspace.GetEventsAsync(new SessionEventQuery { SessionId = id, Type = SessionEventType.ToolCall }, None).CountAsync();
        return counts;
    }

    /// <summary>Three sessions as the local tier keeps them: one retained (logs/&lt;id&gt;.jsonl), one in the previous slot, one active.</summary>
    private static async Task<List<string>> ThreeLocalSessionsAsync(TierWorkspace workspace, ManualTime time)
    {
        var ids = new List<string>();
        for (var s = 0; s < 3; s++)
        {
            time.Advance(TimeSpan.FromHours(1));
            var id = (await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1, CompleteActive = true }, None)).SessionId;
            ids.Add(id);
            await workspace.AppendEventsAsync(Enumerable.Range(0, 10 + s).Select(i => new SessionEvent { Type = SessionEventType.ToolCall, Tool = "Read", DurationMs = i }), id, None);
        }
        return ids;
    }

    [Fact]
    public async Task A_deleted_catalog_is_rebuilt_from_the_local_logs_and_every_session_lists_its_events_again()
    {
        await using var test = await TestWorkspace.CreateAsync();
        var workspace = await test.OpenAsync();
        var ids = await ThreeLocalSessionsAsync(workspace, test.Time);
        var before = await ToolCallsPerSessionAsync(workspace, ids);
        var states = await workspace.GetSessionsAsync(new SessionFilter(), None).Select(s => (s.SessionId, s.State, s.Phase)).ToListAsync();
        await workspace.DisposeAsync();
        foreach (var file in Directory.EnumerateFiles(test.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);

        workspace = await test.OpenAsync();
        Assert.Empty(await workspace.GetSessionsAsync(new SessionFilter(), None).ToListAsync());
        Assert.Contains(test.Warnings, w => w.Contains("was missing", StringComparison.Ordinal) && w.Contains("Update-TierCatalog", StringComparison.Ordinal));

        var rebuilt = await workspace.RebuildCatalogFromLogsAsync(None).ToListAsync();

        Assert.Equal(ids.Select(id => (id, "local", "Added")), rebuilt.Select(r => (r.SessionId, r.Tier, r.Action)).Order());
        Assert.Equal(states, await workspace.GetSessionsAsync(new SessionFilter(), None).Select(s => (s.SessionId, s.State, s.Phase)).ToListAsync());
        Assert.Equal(before, await ToolCallsPerSessionAsync(workspace, ids));
        Assert.Equal([10L, 11L, 12L], before.Values);
        // The active session goes on accepting events, indexed once.
        await workspace.AppendEventsAsync([new SessionEvent { Type = SessionEventType.ToolCall, Tool = "Edit" }], null, None);
        Assert.Equal(13, (await ToolCallsPerSessionAsync(workspace, [ids[2]]))[ids[2]]);
        // A second rebuild finds nothing to do.
        Assert.Empty(await workspace.RebuildCatalogFromLogsAsync(None).ToListAsync());
    }

    [Fact]
    public async Task A_damaged_catalog_is_moved_aside_by_the_rebuild_and_the_sessions_come_back_with_their_events()
    {
        await using var test = await TestWorkspace.CreateAsync();
        var workspace = await test.OpenAsync();
        var ids = await ThreeLocalSessionsAsync(workspace, test.Time);
        var before = await ToolCallsPerSessionAsync(workspace, ids);
        await workspace.DisposeAsync();
        foreach (var file in Directory.EnumerateFiles(test.Layout.AnalyticsDirectory, "agent_metrics.db-*")) File.Delete(file);
        var garbage = new byte[64 * 1024];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(test.Layout.CatalogPath, garbage);

        var refused = await Assert.ThrowsAsync<TierStorageException>(() => test.OpenAsync());
        Assert.Equal(ErrorIds.CatalogCorrupt, refused.ErrorId);

        workspace = await TierWorkspace.OpenAsync(new WorkspaceOptions
        {
            WorkspacePath = test.Root, Time = test.Time, SetAsideCorruptCatalog = true, Warning = w => test.Warnings.Add(w),
        }, None);
        await using (workspace)
        {
            var aside = Assert.Single(Directory.EnumerateFiles(test.Layout.AnalyticsDirectory, "agent_metrics.db.corrupt-*"));
            Assert.Equal(garbage, File.ReadAllBytes(aside));
            Assert.Contains(test.Warnings, w => w.Contains(aside, StringComparison.Ordinal));

            Assert.Equal(3, (await workspace.RebuildCatalogFromLogsAsync(None).ToListAsync()).Count);
            Assert.Equal(before, await ToolCallsPerSessionAsync(workspace, ids));
        }
    }

    [Fact]
    public async Task After_a_rebuild_from_the_tier_local_and_backed_up_sessions_list_their_events()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var pruned = await bed.CompletedSessionAsync(ws, events: 40, seed: 1);
        var kept = await bed.CompletedSessionAsync(ws, events: 25, seed: 2);
        var before = (await EventCountAsync(ws, pruned), await EventCountAsync(ws, kept));
        var backups = await BackupAsync(ws, pruned, kept);
        Assert.Contains(pruned, backups[0].PrunedSessions);
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync();

        var rebuilt = await ToListAsync(ws.Backups.RebuildCatalogAsync(BackupTier, None));

        Assert.Equal([(pruned, "Added", before.Item1), (kept, "Added", before.Item2)], rebuilt.Select(r => (r.SessionId, r.Action, r.EventCount)).OrderBy(r => r.SessionId));
        Assert.Equal(before, (await EventCountAsync(ws, pruned), await EventCountAsync(ws, kept)));
        Assert.Equal(before.Item1, await ws.GetEventsAsync(new SessionEventQuery { SessionId = pruned }, None).CountAsync());
        Assert.Equal(before.Item2, await ws.GetEventsAsync(new SessionEventQuery { SessionId = kept }, None).CountAsync());
        Assert.All(await ws.GetSessionsAsync(new SessionFilter(), None).ToListAsync(), s => Assert.Equal(SessionState.BackedUp, s.State));
        Assert.NotNull((await SessionAsync(ws, kept)).LogPath);
        // Nothing is read twice by a second rebuild.
        Assert.All(await ToListAsync(ws.Backups.RebuildCatalogAsync(BackupTier, None)), r => Assert.Equal("Unchanged", r.Action));
        Assert.Equal(before, (await EventCountAsync(ws, pruned), await EventCountAsync(ws, kept)));
    }
}
