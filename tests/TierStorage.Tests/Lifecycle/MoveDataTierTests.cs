using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Lifecycle;

/// <summary>Move-DataTier over a real workspace and folder tiers: the seed's four phases run through the whole design.</summary>
public class MoveDataTierTests : TierStorage.Tests.Backup.CatalogProviderTests
{
    public MoveDataTierTests() : this(null) { }

    protected MoveDataTierTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture? postgres) : base(postgres) { }

    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<(BackupTestBed Bed, string Root)> BedAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-move-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var bed = await CreateAsync(localSessions: 1, tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
              - name: archive
                level: 3
                kind: folder
                path: {Path.Combine(root, "archive")}
            """);
        return (bed, root);
    }

    private static async Task<string> SessionInPhaseAsync(BackupTestBed bed, TierWorkspace ws, int phase)
    {
        bed.Time.Advance(TimeSpan.FromHours(1));
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = phase }, None);
        await ws.AppendEventsAsync([new SessionEvent { Type = SessionEventType.ToolCall, Tool = "Edit", DurationMs = phase }], null, None);
        await ws.SaveSnapshotAsync(null, $$"""{"phase":{{phase}}}""", None);
        await ws.CompleteSessionAsync(null, None);
        return session.SessionId;
    }

    private static async Task<List<TierMove>> RunAsync(TierWorkspace ws)
    {
        var done = new List<TierMove>();
        foreach (var move in await ws.Lifecycle.PlanAsync(None)) done.Add(await ws.Lifecycle.ExecuteAsync(move, force: false, null, None));
        return done;
    }

    [Fact]
    public async Task Four_phases_end_with_the_two_old_ones_archived_and_only_the_newest_session_local_and_a_rerun_plans_nothing()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = new List<string>();
            for (var phase = 0; phase < 4; phase++) ids.Add(await SessionInPhaseAsync(bed, ws, phase));

            var moves = await RunAsync(ws);

            Assert.All(moves, m => Assert.True(m.State == TierMoveState.Done, $"{m.Action} {m.Subject}: {m.State} {m.Message}"));
            Assert.Contains(moves, m => m.Action == TierMoveAction.Archive && m.Subject == "Phase_0");
            Assert.Contains(moves, m => m.Action == TierMoveAction.Archive && m.Subject == "Phase_1");
            Assert.DoesNotContain(moves, m => m.Action == TierMoveAction.Archive && m.Phase >= 2);
            Assert.True(File.Exists(Path.Combine(root, "archive", bed.Namespace, "Phase_0.tar.gz")));
            Assert.True(File.Exists(Path.Combine(root, "archive", bed.Namespace, "Phase_1.tar.gz")));
            Assert.False(Directory.Exists(Path.Combine(root, "backup", bed.Namespace, "Phase_0", "sessions", ids[0])) &&
                         Directory.EnumerateFiles(Path.Combine(root, "backup", bed.Namespace, "Phase_0", "sessions", ids[0])).Any(f => f.EndsWith(".gz", StringComparison.Ordinal)));
            Assert.True(File.Exists(Path.Combine(root, "backup", bed.Namespace, "Phase_3", "sessions", ids[3], "manifest.json")));
            Assert.Null((await SessionAsync(ws, ids[0])).LogPath);
            Assert.NotNull((await SessionAsync(ws, ids[3])).LogPath);
            Assert.Empty(await ws.Lifecycle.PlanAsync(None));

            // Nothing was lost: the oldest session comes back from its archive.
            var restored = await ws.Backups.RestoreAsync(new Engine.Backup.RestoreRequest { SessionId = ids[0], Destination = Path.Combine(root, "out") }, null, None);
            Assert.Equal(("archive", true), (restored.Tier, restored.Verified));
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task When_the_archive_tier_is_unreachable_nothing_relying_on_it_is_deleted()
    {
        var (bed, root) = await BedAsync();
        await using (bed)
        {
            var ws = await bed.OpenAsync();
            var ids = new List<string>();
            for (var phase = 0; phase < 4; phase++) ids.Add(await SessionInPhaseAsync(bed, ws, phase));
            // The archive disk is unplugged: its folder and parent are gone.
            var archive = Path.Combine(root, "archive");
            File.WriteAllText(Path.Combine(root, "not-a-dir"), "");
            var policyPath = Path.Combine(bed.WorkspaceRoot, "tierstorage.yaml");
            File.WriteAllText(policyPath, File.ReadAllText(policyPath).Replace(archive, Path.Combine(root, "unplugged", "archive")));
            await bed.CloseAsync(ws);
            ws = await bed.OpenAsync();

            var moves = await RunAsync(ws);

            Assert.Contains(moves, m => m.Action == TierMoveAction.Archive && m.State == TierMoveState.Failed);
            Assert.DoesNotContain(moves, m => m.Action == TierMoveAction.Delete && m.From == "backup" && m.State == TierMoveState.Done);
            foreach (var id in ids)
            {
                var info = await SessionAsync(ws, id);
                Assert.True(info.LogPath is not null || info.Verified, $"{id} lost its last copy");
            }
            Assert.All(ids, id => Assert.True(Directory.EnumerateFiles(Path.Combine(root, "backup", bed.Namespace), "activity.jsonl.gz", SearchOption.AllDirectories)
                .Any(f => f.Contains(id, StringComparison.Ordinal)), id));
        }
        Directory.Delete(root, true);
    }
}

/// <summary>Every test of <see cref="MoveDataTierTests"/> with the workspace's catalog on a real PostgreSQL.</summary>
[Collection(TierStorage.Tests.Catalog.Postgres.PostgresCollection.Name)]
public sealed class PostgresMoveDataTierTests(TierStorage.Tests.Catalog.Postgres.PostgresServerFixture server) : MoveDataTierTests(server);
