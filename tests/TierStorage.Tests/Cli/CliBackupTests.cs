using System.Text.Json;
using TierStorage.Cli;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>The backup commands end to end through the CLI, against a folder backup tier in the test's temp directory.</summary>
public sealed class CliBackupTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    private string BackupTier => Path.Combine(_temp.Root, "nas", "backup");
    /// <summary>The workspace's namespace folder in the backup tier, where its keys live.</summary>
    private string BackupFolder => Path.Combine(BackupTier, _temp.Namespace);

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--workspace", _temp.Workspace]);

    /// <param name="mounted">False leaves out the backup tier's parent directory, like a NAS share that is not mounted.</param>
    private async Task InitAsync(string backupPath, bool mounted = true)
    {
        if (mounted) Directory.CreateDirectory(Path.GetDirectoryName(backupPath)!);
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
                path: {backupPath}
            retention:
              local_sessions: 1
            """);
    }

    private async Task<string> RecordSessionAsync(string id)
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--phase", "1", "--id", id));
        CliRunner.AssertExit(ExitCodes.Success, await Run("event", "add", "--type", "tool_call", "--tool", "Edit", "--file", "src/a.cs"));
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunWithInputAsync("""{"tasks":["backup"]}""", "snapshot", "save", "--workspace", _temp.Workspace));
        return id;
    }

    private static List<T> JsonLines<T>(CliRun run) =>
        run.StdoutLines.Select(line => CliJson.Deserialize<T>(line) ?? throw new InvalidOperationException(line)).ToList();

    [Fact]
    public async Task Complete_with_wait_backs_up_verifies_and_a_restore_returns_the_same_bytes()
    {
        await InitAsync(BackupTier);
        var id = await RecordSessionAsync("session_20260101_100000");
        var log = Path.Combine(_temp.Workspace, "logs", "session_current.jsonl");

        var complete = await Run("session", "complete", "--wait", "--json");

        CliRunner.AssertExit(ExitCodes.Success, complete);
        var backup = CliJson.Deserialize<BackupResult>(complete.StdoutLines[1])!;
        Assert.Equal(BackupStatus.Succeeded, backup.Status);
        Assert.True(backup.Verified);
        Assert.Contains(backup.Files, f => f.Name == "activity.jsonl.gz" && f.Md5.Length == 32 && f.Sha256.Length == 64);
        Assert.True(File.Exists(Path.Combine(BackupFolder, "Phase_1", "sessions", id, "manifest.json")));

        var check = await Run("backup", "test", "--json");
        CliRunner.AssertExit(ExitCodes.Success, check);
        Assert.Equal([BackupCheckStatus.Ok], JsonLines<BackupCheck>(check).Select(c => c.Status));

        var again = await Run("backup", "run", id, "--json");
        CliRunner.AssertExit(ExitCodes.Success, again);
        Assert.Equal(0, JsonLines<BackupResult>(again).Single().BytesSent);

        var elsewhere = Path.Combine(_temp.Root, "restored");
        var restore = await Run("restore", id, "--destination", elsewhere, "--json");
        CliRunner.AssertExit(ExitCodes.Success, restore);
        Assert.Equal(File.ReadAllBytes(log), File.ReadAllBytes(Path.Combine(elsewhere, "activity.jsonl")));
        Assert.True(CliJson.Deserialize<RestoreResult>(restore.StdoutLines[0])!.Verified);
    }

    [Fact]
    public async Task An_unreachable_tier_queues_the_backup_and_sync_sends_it_once_the_tier_is_back()
    {
        await InitAsync(BackupTier, mounted: false);
        var id = await RecordSessionAsync("session_20260101_110000");

        var complete = await Run("session", "complete", "--wait");

        CliRunner.AssertExit(ExitCodes.Unavailable, complete);
        Assert.Contains("Queued", complete.Stdout);
        Assert.True(File.Exists(Path.Combine(_temp.Workspace, "logs", "session_current.jsonl")));

        Directory.CreateDirectory(Path.GetDirectoryName(BackupTier)!);
        var sync = await Run("backup", "sync", "--json");

        CliRunner.AssertExit(ExitCodes.Success, sync);
        var result = JsonLines<BackupResult>(sync).Single();
        Assert.Equal((id, BackupStatus.Succeeded), (result.SessionId, result.Status));
        var emptyQueue = await Run("backup", "sync", "--json");
        Assert.Empty(emptyQueue.StdoutLines);
    }

    [Fact]
    public async Task Complete_hands_the_backup_to_a_background_process_that_finishes_on_its_own()
    {
        await InitAsync(BackupTier);
        var id = await RecordSessionAsync("session_20260101_120000");

        var complete = await Run("session", "complete");

        CliRunner.AssertExit(ExitCodes.Success, complete);
        Assert.Contains("Started", complete.Stdout);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        SessionInfo? session = null;
        while (DateTime.UtcNow < deadline)
        {
            var list = await Run("session", "list", "--id", id, "--json");
            session = JsonLines<SessionInfo>(list).Single();
            if (session.State == SessionState.BackedUp) break;
            await Task.Delay(250);
        }
        Assert.Equal(SessionState.BackedUp, session!.State);
        Assert.True(session.Verified);
    }

    [Fact]
    public async Task Tier_test_runs_every_step_and_leaves_nothing_behind()
    {
        await InitAsync(BackupTier);

        var run = await Run("tier", "test", "--json");

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.Equal(["Reach", "Upload", "Verify", "Download", "CleanUp"], JsonLines<TierConnectionStep>(run).Select(s => s.Step));
        Assert.All(JsonLines<TierConnectionStep>(run), s => Assert.True(s.Succeeded, s.Message));
        Assert.Empty(Directory.EnumerateFiles(BackupTier, "probe.bin", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task The_catalog_is_rebuilt_from_the_tier_after_the_local_disk_is_lost()
    {
        await InitAsync(BackupTier);
        var id = await RecordSessionAsync("session_20260101_130000");
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "complete", "--wait"));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_temp.Workspace, "analytics"))) File.Delete(file);

        var rebuild = await Run("catalog", "rebuild", "--from-tier", "backup", "--json");

        CliRunner.AssertExit(ExitCodes.Success, rebuild);
        var rebuilt = JsonLines<CatalogRebuildResult>(rebuild).Single();
        Assert.Equal((id, "Added"), (rebuilt.SessionId, rebuilt.Action));
        var list = JsonLines<SessionInfo>(await Run("session", "list", "--json")).Single();
        Assert.Equal((id, SessionState.BackedUp, true), (list.SessionId, list.State, list.Verified));
    }

    [Fact]
    public async Task A_damaged_catalog_is_moved_aside_by_catalog_rebuild_and_event_list_shows_every_session_s_events_again()
    {
        // Issue 11 #7: garbage in agent_metrics.db made the rebuild fail with CatalogCorrupt, and a rebuilt catalog listed no events.
        await InitAsync(BackupTier);
        var backedUp = await RecordSessionAsync("session_20260101_150000");
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "complete", "--wait"));
        var local = await RecordSessionAsync("session_20260101_160000");
        var before = (await Run("event", "list", "--json")).StdoutLines.Length;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_temp.Workspace, "analytics"), "agent_metrics.db-*")) File.Delete(file);
        File.WriteAllBytes(Path.Combine(_temp.Workspace, "analytics", "agent_metrics.db"), Enumerable.Repeat((byte)0x5A, 8192).ToArray());
        Assert.Equal(ExitCodes.InvalidData, (await Run("event", "list")).ExitCode);

        var rebuild = await Run("catalog", "rebuild", "--from-tier", "backup");

        CliRunner.AssertExit(ExitCodes.Success, rebuild);
        Assert.Contains("agent_metrics.db.corrupt-", rebuild.Stderr);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_temp.Workspace, "analytics"), "agent_metrics.db.corrupt-*"));
        Assert.Contains("EVENTS", rebuild.Stdout);
        var sessions = JsonLines<SessionInfo>(await Run("session", "list", "--json"));
        Assert.Equal([(backedUp, SessionState.BackedUp), (local, SessionState.Active)], sessions.Select(s => (s.SessionId, s.State)));
        Assert.Equal(before, (await Run("event", "list", "--json")).StdoutLines.Length);
        foreach (var id in new[] { backedUp, local })
            Assert.Contains(JsonLines<SessionEvent>(await Run("event", "list", "--session", id, "--json")), e => e.Tool == "Edit");
    }

    [Fact]
    public async Task Catalog_rebuild_without_a_tier_indexes_the_local_logs_of_a_deleted_catalog()
    {
        await InitAsync(BackupTier);
        var id = await RecordSessionAsync("session_20260101_170000");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_temp.Workspace, "analytics"), "agent_metrics.db*")) File.Delete(file);
        Assert.Equal("No sessions.", (await Run("session", "list")).Stdout.Trim());

        var rebuild = await Run("catalog", "rebuild", "--json");

        CliRunner.AssertExit(ExitCodes.Success, rebuild);
        var result = JsonLines<CatalogRebuildResult>(rebuild).Single();
        Assert.Equal((id, "local", "Added", 3L), (result.SessionId, result.Tier, result.Action, result.EventCount));
        Assert.Equal(3, (await Run("event", "list", "--session", id, "--json")).StdoutLines.Length);
    }

    [Fact]
    public async Task After_a_lost_catalog_is_rebuilt_review_reads_the_events_back_from_the_backup_and_writes_phase_analytics_db()
    {
        await InitAsync(BackupTier);
        await RecordSessionAsync("session_20260101_140000");
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "complete", "--wait"));
        var before = CliJson.Deserialize<PhaseReview>((await Run("review", "1", "--json")).StdoutLines[0])!;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_temp.Workspace, "analytics"))) File.Delete(file);
        CliRunner.AssertExit(ExitCodes.Success, await Run("catalog", "rebuild", "--from-tier", "backup"));

        var review = await Run("review", "1", "--json");

        CliRunner.AssertExit(ExitCodes.Success, review);
        var after = CliJson.Deserialize<PhaseReview>(review.StdoutLines[0])!;
        Assert.Equal((before.EventCount, before.Tools.Single().Calls), (after.EventCount, after.Tools.Single().Calls));
        Assert.True(after.EventCount >= 3, $"{after.EventCount} events");
        Assert.Contains(after.ReportPaths, p => p.EndsWith("phase_analytics.db", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(BackupFolder, "Phase_1", "phase_analytics.db")));
        Assert.Contains("--full", (await Run("review", "--help")).Stdout);
    }

    [Fact]
    public async Task Connect_drive_without_a_drive_tier_says_so()
    {
        await InitAsync(BackupTier);

        var run = await Run("connect", "drive");

        Assert.NotEqual(ExitCodes.Success, run.ExitCode);
        Assert.Contains(ErrorIds.TierNotFound, run.Stderr);
    }

    [Fact]
    public async Task A_copied_workspace_is_told_refuses_to_back_up_and_init_new_identity_gives_it_its_own_namespace()
    {
        await InitAsync(BackupTier);
        var id = await RecordSessionAsync("session_20260101_140000");
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "complete", "--wait"));
        var copy = Path.Combine(_temp.Root, "copy", ".tierstorage");
        Workspace.WorkspaceNamespaceTests.CopyDirectory(_temp.Workspace, copy);

        var list = await CliRunner.RunAsync(["session", "list", "--workspace", copy]);
        CliRunner.AssertExit(ExitCodes.Success, list);
        Assert.Contains("is a copy of", list.Stderr, StringComparison.Ordinal);
        var refused = await CliRunner.RunAsync(["backup", "run", "--workspace", copy]);
        Assert.Equal(ExitCodes.Failed, refused.ExitCode);
        Assert.Contains("init --new-identity", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await CliRunner.RunAsync(["init", "--new-identity", "--force", "--workspace", copy])).ExitCode);

        var fork = await CliRunner.RunAsync(["init", "--new-identity", "--workspace", copy]);
        CliRunner.AssertExit(ExitCodes.Success, fork);
        Assert.Contains("has a new identity: namespace copy-", fork.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("is a copy of", fork.Stderr, StringComparison.Ordinal);
        var backup = await CliRunner.RunAsync(["backup", "run", "--workspace", copy, "--json"]);
        CliRunner.AssertExit(ExitCodes.Success, backup);
        Assert.Equal(2, Directory.EnumerateFiles(BackupTier, "manifest.json", SearchOption.AllDirectories).Count(f => f.Contains(id, StringComparison.Ordinal)));
    }
}
