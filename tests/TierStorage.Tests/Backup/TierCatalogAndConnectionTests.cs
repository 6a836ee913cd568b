using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Update-TierCatalog -FromTier and Test-TierConnection.</summary>
public sealed class TierCatalogAndConnectionTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Catalog_rebuilt_from_the_tier_after_it_was_lost_knows_both_sessions_and_restores_one()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var older = await bed.CompletedSessionAsync(ws, events: 40, seed: 1);
        var newer = await bed.CompletedSessionAsync(ws, seed: 2);
        var olderLog = File.ReadAllBytes((await SessionAsync(ws, older)).LogPath!);
        var olderEvents = await EventCountAsync(ws, older);
        var olderInfo = await SessionAsync(ws, older);
        var backups = await BackupAsync(ws, older, newer);
        Assert.Contains(older, backups[0].PrunedSessions);

        // The catalog is lost.
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync();
        Assert.Empty(await ToListAsync(ws.GetSessionsAsync(new Engine.Workspace.SessionFilter(), None)));

        var rebuilt = await ToListAsync(ws.Backups.RebuildCatalogAsync(null, None));

        Assert.Equal([(older, "Added", 5), (newer, "Added", 5)], rebuilt.Select(r => (r.SessionId, r.Action, r.ObjectCount)).OrderBy(r => r.SessionId));
        Assert.All(rebuilt, r => Assert.Equal((1, BackupTier), (r.Phase, r.Tier)));
        foreach (var id in new[] { older, newer })
        {
            var objects = await ObjectsAsync(ws, id);
            Assert.Equal(5, objects.Count);
            Assert.All(objects, o => Assert.NotNull(o.VerifiedAt));
            Assert.Equal(SessionState.BackedUp, (await SessionAsync(ws, id)).State);
        }
        Assert.Equal(["Ok", "Ok"], (await CheckAsync(ws)).Select(c => c.Status.ToString()));

        // A second rebuild changes nothing.
        Assert.All(await ToListAsync(ws.Backups.RebuildCatalogAsync(null, None)), r => Assert.Equal("Unchanged", r.Action));

        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = older }, null, None);

        Assert.True(restored.Verified);
        Assert.Equal(olderLog, File.ReadAllBytes((await SessionAsync(ws, older)).LogPath!));
        Assert.Equal(olderEvents, await EventCountAsync(ws, older));
        // The rebuilt row only knew when the backup was made; the restored log says when the session ran.
        var after = await SessionAsync(ws, older);
        Assert.Equal((olderInfo.StartedAt, olderInfo.EndedAt), (after.StartedAt, after.EndedAt));
    }

    [Fact]
    public async Task One_damaged_manifest_is_skipped_and_named_and_the_intact_sessions_come_back()
    {
        // Issue 11 #8: one bad manifest aborted the whole rebuild; the intact sessions were not recovered.
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var damaged = await bed.CompletedSessionAsync(ws, seed: 1);
        var intact = await bed.CompletedSessionAsync(ws, seed: 2);
        await BackupAsync(ws, damaged, intact);
        var damagedManifest = $"Phase_1/sessions/{damaged}/manifest.json";
        File.WriteAllText(bed.TierPath(damagedManifest), "{ not a manifest");
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync();

        var rebuilt = await ToListAsync(ws.Backups.RebuildCatalogAsync(null, None));

        Assert.Equal((damaged, "Skipped", damagedManifest), Assert.Single(rebuilt, r => r.SessionId == damaged) is var s ? (s.SessionId, s.Action, s.Key) : default);
        Assert.Equal("Added", Assert.Single(rebuilt, r => r.SessionId == intact).Action);
        Assert.Equal([intact], (await ToListAsync(ws.GetSessionsAsync(new Engine.Workspace.SessionFilter(), None))).Select(x => x.SessionId));
    }

    [Fact]
    public async Task Connection_test_on_a_folder_tier_runs_every_step_and_leaves_nothing_behind()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();

        var steps = await ToListAsync(ws.Backups.TestConnectionAsync(null, None));

        Assert.Equal(["Reach", "Upload", "Verify", "Download", "CleanUp"], steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.True(s.Succeeded, $"{s.Step}: {s.Message}"));
        Assert.All(steps, s => Assert.Equal(BackupTier, s.Tier));
        Assert.Empty(bed.TierKeys());
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(bed.TierRoot), e => Path.GetFileName(e) != Engine.Tiers.Folder.FolderObjectStore.MetadataDirectoryName);
    }

    [Fact]
    public async Task Connection_test_on_an_unreachable_folder_tier_stops_at_the_first_step_and_says_why()
    {
        // A tier on a disk that is not plugged in: its parent folder does not exist.
        var unplugged = Path.Combine(Path.GetTempPath(), "ts-unplugged-" + Guid.NewGuid().ToString("N"), "backup");
        await using var bed = await CreateAsync(tierYaml: $"""
              - name: {BackupTier}
                level: 2
                kind: folder
                path: {unplugged}
                capacity: unlimited
                price_per_gb_month: 0
            """);
        var ws = await bed.OpenAsync();

        var step = Assert.Single(await ToListAsync(ws.Backups.TestConnectionAsync(null, None)));

        Assert.Equal(("Reach", false), (step.Step, step.Succeeded));
        Assert.Contains(ErrorIds.TierUnreachable, step.Message);
        Assert.Contains(unplugged, step.Message);
        Assert.False(Directory.Exists(Path.GetDirectoryName(unplugged)), "nothing is created in place of the missing disk");
    }
}
