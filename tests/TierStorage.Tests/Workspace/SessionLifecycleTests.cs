using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Workspace;

namespace TierStorage.Tests.Workspace;

public sealed class SessionLifecycleTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<List<SessionInfo>> SessionsAsync(TierWorkspace ws)
    {
        var list = new List<SessionInfo>();
        await foreach (var s in ws.GetSessionsAsync(new SessionFilter(), None)) list.Add(s);
        return list;
    }

    [Fact]
    public async Task Initialize_creates_the_seed_layout_policy_and_catalog()
    {
        await using var t = await TestWorkspace.CreateAsync();
        foreach (var dir in t.Layout.Directories) Assert.True(Directory.Exists(dir), dir);
        Assert.True(File.Exists(t.Layout.PolicyPath));
        Assert.True(File.Exists(t.Layout.CatalogPath));
        Assert.Contains("credentials/", await File.ReadAllTextAsync(Path.Combine(t.Root, ".gitignore")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(t.Layout.CredentialsDirectory));
    }

    [Fact]
    public async Task Initialize_refuses_to_overwrite_a_policy_without_force()
    {
        await using var t = await TestWorkspace.CreateAsync();
        await File.WriteAllTextAsync(t.Layout.PolicyPath, "version: 1\n# mine\n");
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => TierWorkspace.InitializeAsync(t.Root, null, force: false, None));
        Assert.Equal(ErrorIds.PolicyExists, ex.ErrorId);
        Assert.Equal("version: 1\n# mine\n", await File.ReadAllTextAsync(t.Layout.PolicyPath));

        var info = await TierWorkspace.InitializeAsync(t.Root, null, force: true, None);
        Assert.True(info.PolicyWritten);
        Assert.DoesNotContain("# mine", await File.ReadAllTextAsync(t.Layout.PolicyPath));
    }

    [Fact]
    public async Task Initialize_with_a_malformed_policy_template_changes_nothing()
    {
        var template = Path.GetTempFileName();
        var root = Path.Combine(Path.GetTempPath(), "ts-ws-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllTextAsync(template, "version: 1\ntiers: [ { name: local, level: 1, kind: folder, bogus_key: 3 } ]\n");
            var ex = await Assert.ThrowsAsync<TierStorageException>(() => TierWorkspace.InitializeAsync(root, template, force: false, None));
            Assert.Equal(ErrorIds.PolicyInvalid, ex.ErrorId);
            Assert.Contains(ex.Findings, f => f.Line == 2 && f.File is not null);
            Assert.False(Directory.Exists(root));
        }
        finally
        {
            File.Delete(template);
        }
    }

    [Fact]
    public async Task Opening_a_directory_that_is_not_a_workspace_says_how_to_create_one()
    {
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")) }, None));
        Assert.Equal(ErrorIds.WorkspaceNotFound, ex.ErrorId);
        Assert.Contains("Initialize-TierWorkspace", ex.Message);
    }

    [Fact]
    public async Task Start_session_names_it_from_the_clock_and_logs_session_start()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None);
        Assert.Equal("session_20261122_090000", session.SessionId);
        Assert.Equal(SessionState.Active, session.State);
        Assert.Equal(1, session.Phase);
        Assert.Equal(t.Layout.CurrentLogPath, session.LogPath);
        var first = (await File.ReadAllLinesAsync(t.Layout.CurrentLogPath)).Single();
        Assert.Equal(SessionEventType.SessionStart, EventJson.Parse(first, null).Type);
        Assert.Equal(1, session.EventCount);
    }

    [Fact]
    public async Task A_second_start_while_a_session_is_active_is_refused_and_changes_nothing()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        t.Time.Advance(TimeSpan.FromMinutes(5));
        var before = await File.ReadAllBytesAsync(t.Layout.CurrentLogPath);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.StartSessionAsync(new StartSessionRequest(), None));
        Assert.Equal(ErrorIds.SessionStillActive, ex.ErrorId);
        Assert.Equal(before, await File.ReadAllBytesAsync(t.Layout.CurrentLogPath));
        Assert.Single(await SessionsAsync(ws));
    }

    [Fact]
    public async Task CompleteActive_closes_the_open_session_with_a_handoff_then_rotates_its_log_to_previous()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var first = await ws.StartSessionAsync(new StartSessionRequest { Phase = 2 }, None);
        t.Time.Advance(TimeSpan.FromMinutes(30));
        var second = await ws.StartSessionAsync(new StartSessionRequest { CompleteActive = true }, None);

        var sessions = await SessionsAsync(ws);
        var closed = sessions.Single(s => s.SessionId == first.SessionId);
        Assert.Equal(SessionState.Completed, closed.State);
        Assert.Equal(t.Layout.PreviousLogPath, closed.LogPath);
        Assert.True(File.Exists(closed.HandoffPath));
        Assert.Equal(2, second.Phase); // the phase carries over
        Assert.Equal(t.Layout.CurrentLogPath, sessions.Single(s => s.SessionId == second.SessionId).LogPath);
        var previousLines = await File.ReadAllLinesAsync(t.Layout.PreviousLogPath);
        Assert.Equal(SessionEventType.SessionEnd, EventJson.Parse(previousLines[^1], null).Type);
    }

    [Fact]
    public async Task Sessions_beyond_retention_are_kept_without_a_verified_backup_and_Get_Session_says_why()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await ws.StartSessionAsync(new StartSessionRequest { CompleteActive = true }, None)).SessionId);
            t.Time.Advance(TimeSpan.FromHours(1));
        }
        await ws.CompleteSessionAsync(null, None);

        var sessions = await SessionsAsync(ws);
        Assert.All(sessions, s => Assert.True(File.Exists(s.LogPath), s.SessionId));
        var oldest = sessions.Single(s => s.SessionId == ids[0]);
        Assert.Equal(t.Layout.RetainedLogPath(ids[0]), oldest.LogPath);
        Assert.Contains("never deletes an unverified session", oldest.Note);
        Assert.False(oldest.Verified);
        Assert.Contains("most recent", sessions.Single(s => s.SessionId == ids[3]).Note);
    }

    [Fact]
    public async Task A_session_with_a_verified_copy_elsewhere_is_pruned_locally_but_an_unverified_one_is_not()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await ws.StartSessionAsync(new StartSessionRequest { CompleteActive = true }, None)).SessionId);
            await ws.SaveSnapshotAsync(null, "{\"step\":" + i + "}", None);
            t.Time.Advance(TimeSpan.FromHours(1));
        }
        await ws.CompleteSessionAsync(null, None);
        var catalog = ws.Catalog;
        // Session 0: a verified copy on the backup tier. Session 1 would be beyond retention next time, but its copy is unverified.
        await catalog.UpsertObjectAsync(new StoredObject { Tier = "backup", Key = $"Phase_0/sessions/{ids[0]}/manifest.json", SessionId = ids[0], SizeBytes = 10, StoredAt = t.Time.Now, VerifiedAt = t.Time.Now }, None);
        await catalog.UpsertObjectAsync(new StoredObject { Tier = "backup", Key = $"Phase_0/sessions/{ids[1]}/manifest.json", SessionId = ids[1], SizeBytes = 10, StoredAt = t.Time.Now }, None);
        var oldLog = (await SessionsAsync(ws)).Single(s => s.SessionId == ids[0]).LogPath!;

        await ws.StartSessionAsync(new StartSessionRequest(), None);

        var sessions = await SessionsAsync(ws);
        var pruned = sessions.Single(s => s.SessionId == ids[0]);
        Assert.Null(pruned.LogPath);
        Assert.False(File.Exists(oldLog));
        Assert.Empty(t.Layout.EnumerateSnapshots(ids[0]));
        Assert.True(pruned.Verified);
        Assert.Contains("Pruned", pruned.Note);
        var kept = sessions.Single(s => s.SessionId == ids[1]);
        Assert.True(File.Exists(kept.LogPath));
        Assert.Single(t.Layout.EnumerateSnapshots(ids[1]));
    }

    [Fact]
    public async Task Complete_session_writes_a_handoff_summarising_the_events_and_is_idempotent()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = 3 }, None);
        var at = t.Time.Now;
        await ws.AppendEventsAsync([
            new SessionEvent { Timestamp = at.AddSeconds(1), Type = SessionEventType.ToolCall, Tool = "Read", Task = "parse config", Agent = "coder", DurationMs = 120, Success = true },
            new SessionEvent { Timestamp = at.AddSeconds(2), Type = SessionEventType.ToolCall, Tool = "Bash", Task = "parse config", Agent = "coder", DurationMs = 880, Success = false, ErrorType = "ExitCode1", File = "src/a.cs" },
            new SessionEvent { Timestamp = at.AddSeconds(3), Type = SessionEventType.LlmCall, Model = "claude-sonnet-4-5", Agent = "coder", DurationMs = 2000, Tokens = new TokenUsage { Input = 1000, Output = 250, CacheRead = 4000, CacheWrite = 100 } },
            new SessionEvent { Timestamp = at.AddSeconds(4), Type = SessionEventType.Decision, Task = "use YamlDotNet representation model", Agent = "architect" },
        ], null, None);
        t.Time.Advance(TimeSpan.FromMinutes(42));

        var done = await ws.CompleteSessionAsync(null, None);
        Assert.Equal(SessionState.Completed, done.State);
        Assert.Equal(TimeSpan.FromMinutes(42), done.Duration);
        var handoff = await File.ReadAllTextAsync(done.HandoffPath!);
        Assert.Contains("# Handoff: " + session.SessionId, handoff);
        Assert.Contains("Duration: 42 min 0 s", handoff);
        Assert.Contains("| parse config | 2 | 1 s | 1 |", handoff);
        Assert.Contains("| Bash | 1 | 880 ms | 1 |", handoff);
        Assert.Contains("| ExitCode1 | 1 | src/a.cs |", handoff);
        Assert.Contains("Tokens: 5,350 (input 1,000, output 250, cache read 4,000, cache write 100)", handoff);
        Assert.Contains("use YamlDotNet representation model", handoff);

        var again = await ws.CompleteSessionAsync(session.SessionId, None);
        Assert.Equal(done.EndedAt, again.EndedAt);
        var ends = 0;
        await foreach (var _ in ws.GetEventsAsync(new SessionEventQuery { SessionId = session.SessionId, Type = SessionEventType.SessionEnd }, None)) ends++;
        Assert.Equal(1, ends);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("")]
    public async Task A_session_id_with_path_characters_is_refused(string id)
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.StartSessionAsync(new StartSessionRequest { SessionId = id }, None));
        Assert.Equal(ErrorIds.InvalidSessionId, ex.ErrorId);
        Assert.Empty(await SessionsAsync(ws));
        Assert.Empty(Directory.GetFiles(t.Layout.LogsDirectory, "*.jsonl"));
    }

    [Fact]
    public async Task Sessions_started_within_the_same_second_get_unique_ids_in_start_order()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await ws.StartSessionAsync(new StartSessionRequest { CompleteActive = true }, None)).SessionId);

        Assert.Equal(["session_20261122_090000", "session_20261122_090000_002", "session_20261122_090000_003"], ids);
        Assert.Equal(ids, (await SessionsAsync(ws)).OrderBy(s => s.StartedAt).ThenBy(s => s.SessionId, StringComparer.Ordinal).Select(s => s.SessionId));
    }

    [Fact]
    public async Task Starting_a_session_with_an_explicit_id_that_exists_still_fails()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var first = await ws.StartSessionAsync(new StartSessionRequest(), None);
        await ws.CompleteSessionAsync(null, None);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.StartSessionAsync(new StartSessionRequest { SessionId = first.SessionId }, None));
        Assert.Equal(ErrorIds.SessionExists, ex.ErrorId);
    }

    [Fact]
    public async Task A_crash_between_log_rotation_and_the_catalog_update_loses_no_log()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var a = await ws.StartSessionAsync(new StartSessionRequest(), None);
        t.Time.Advance(TimeSpan.FromHours(1));
        var b = await ws.StartSessionAsync(new StartSessionRequest { CompleteActive = true }, None);
        await ws.CompleteSessionAsync(null, None);
        t.Time.Advance(TimeSpan.FromHours(1));
        // What a crash right after the first rename of the next rotation leaves: previous moved, catalog not updated.
        File.Move(t.Layout.PreviousLogPath, t.Layout.RetainedLogPath(a.SessionId));

        var c = await ws.StartSessionAsync(new StartSessionRequest(), None);

        var sessions = await SessionsAsync(ws);
        Assert.Equal(t.Layout.RetainedLogPath(a.SessionId), sessions.Single(s => s.SessionId == a.SessionId).LogPath);
        Assert.Equal(t.Layout.PreviousLogPath, sessions.Single(s => s.SessionId == b.SessionId).LogPath);
        Assert.Equal(t.Layout.CurrentLogPath, sessions.Single(s => s.SessionId == c.SessionId).LogPath);
        Assert.All(sessions, s => Assert.Equal(s.SessionId, EventJson.Parse(File.ReadLines(s.LogPath!).First(), null).SessionId));
    }

    [Fact]
    public async Task A_workspace_on_a_read_only_file_system_fails_clearly_and_creates_nothing()
    {
        if (!OperatingSystem.IsLinux()) return; // /sys is the read-only file system every Linux host has
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => TierWorkspace.InitializeAsync("/sys/tierstorage-test-workspace", null, false, None));
        Assert.Equal(ErrorIds.WorkspaceNotWritable, ex.ErrorId);
        Assert.Contains("/sys/tierstorage-test-workspace", ex.Message);
        Assert.False(Directory.Exists("/sys/tierstorage-test-workspace"));
    }
}
