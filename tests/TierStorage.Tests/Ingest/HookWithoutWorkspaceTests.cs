using System.Diagnostics;
using TierStorage.Cli;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Cli;
using Xunit;

namespace TierStorage.Tests.Ingest;

/// <summary>The hook's fast path (no policy YAML, no catalog while a session is active) keeps what the slow path promised:
/// the policy's redaction, the catalog seeing every event, whole lines from parallel hooks.</summary>
public sealed class HookWithoutWorkspaceTests : IDisposable
{
    /// <summary>A policy with one pattern of its own beside the built-in ones (also the native hook's tests' policy).</summary>
    internal const string Policy = """
        version: 1
        backup:
          on_session_complete: false
        redaction:
          patterns:
            - name: acme_key
              pattern: 'ACME-[0-9]{6}'

        """;

    private readonly TempWorkspace _temp = new();
    private readonly WorkspaceLayout _layout;

    public HookWithoutWorkspaceTests()
    {
        _layout = new WorkspaceLayout(_temp.Workspace);
    }

    public void Dispose() => _temp.Dispose();

    private static string Payload(string hook, string toolUseId = "toolu_01", string command = "make") =>
        $$$"""{"session_id":"c0ffee","hook_event_name":"{{{hook}}}","tool_name":"Bash","tool_use_id":"{{{toolUseId}}}","tool_input":{"command":"{{{command}}}"},"tool_response":{"success":true}}""";

    private async Task<string> InitializeWithActiveSessionAsync()
    {
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        await File.WriteAllTextAsync(_layout.PolicyPath, Policy);
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunWithInputAsync(Payload("SessionStart"), "hook", "--workspace", _temp.Workspace));
        return (await IndexedAsync()).Single(s => s.State == SessionState.Active).SessionId;
    }

    private Task<CliRun> HookAsync(string payload) => CliRunner.RunWithInputAsync(payload, "hook", "--workspace", _temp.Workspace);

    /// <summary>The catalog as it is on disk, read without opening the workspace (which would index the log first).</summary>
    private async Task<List<SessionRecord>> IndexedAsync()
    {
        await using var catalog = await CatalogDatabase.OpenAsync(_layout.CatalogPath, CancellationToken.None);
        var sessions = new List<SessionRecord>();
        await foreach (var s in catalog.ListSessionsAsync(null, null, CancellationToken.None)) sessions.Add(s);
        return sessions;
    }

    private async Task<List<SessionEvent>> ToolCallsAsync(string sessionId)
    {
        await using var workspace = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = _temp.Workspace }, CancellationToken.None);
        var events = new List<SessionEvent>();
        await foreach (var e in workspace.GetEventsAsync(new SessionEventQuery { SessionId = sessionId, Type = SessionEventType.ToolCall }, CancellationToken.None))
            events.Add(e);
        return events;
    }

    private string CurrentLog => File.ReadAllText(_layout.CurrentLogPath);

    [Fact]
    public async Task A_tool_call_skips_the_catalog_is_redacted_by_the_policys_own_pattern_and_is_in_the_catalog_at_the_next_open()
    {
        var sessionId = await InitializeWithActiveSessionAsync();
        var indexedBefore = (await IndexedAsync()).Single().LogIndexedBytes;

        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PreToolUse")));
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", command: "deploy ACME-123456 password=hunter2")));

        // The line is in the log, redacted, and the catalog was not touched: the fast path ran.
        Assert.Contains("[REDACTED:acme_key]", CurrentLog);
        Assert.DoesNotContain("ACME-123456", CurrentLog);
        Assert.DoesNotContain("hunter2", CurrentLog);
        Assert.Equal(indexedBefore, (await IndexedAsync()).Single().LogIndexedBytes);
        Assert.True(File.Exists(_layout.RedactionCachePath));

        var call = Assert.Single(await ToolCallsAsync(sessionId));
        Assert.Equal("deploy [REDACTED:acme_key] password=[REDACTED:password_pair]", call.Data!["command"]);
        Assert.Equal(new FileInfo(_layout.CurrentLogPath).Length, (await IndexedAsync()).Single().LogIndexedBytes);
        Assert.Empty(Directory.EnumerateFiles(_layout.HookMarkersDirectory));
    }

    [Fact]
    public async Task A_policy_edit_of_the_same_length_and_time_applies_at_the_next_hook_call()
    {
        var sessionId = await InitializeWithActiveSessionAsync();
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", "toolu_01", "ACME-111111")));
        var written = File.GetLastWriteTimeUtc(_layout.PolicyPath);

        await File.WriteAllTextAsync(_layout.PolicyPath, Policy.Replace("ACME-", "ZETA-", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(_layout.PolicyPath, written);
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", "toolu_02", "ZETA-222222 ACME-333333")));

        Assert.Equal(["[REDACTED:acme_key]", "[REDACTED:acme_key] ACME-333333"], (await ToolCallsAsync(sessionId)).Select(e => (string)e.Data!["command"]!));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("not json")]
    [InlineData("pattern that does not compile")]
    [InlineData("another policy's")]
    public async Task A_cache_that_cannot_be_used_is_replaced_by_a_full_load_that_still_redacts(string damage)
    {
        var sessionId = await InitializeWithActiveSessionAsync();
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", "toolu_01", "ACME-111111")));
        var cache = await File.ReadAllTextAsync(_layout.RedactionCachePath);
        Assert.Contains("ACME-[0-9]{6}", cache);

        switch (damage)
        {
            case "missing": File.Delete(_layout.RedactionCachePath); break;
            case "not json": await File.WriteAllTextAsync(_layout.RedactionCachePath, cache[..(cache.Length / 2)]); break;
            case "pattern that does not compile": await File.WriteAllTextAsync(_layout.RedactionCachePath, cache.Replace("ACME-[0-9]{6}", "ACME-[0-9", StringComparison.Ordinal)); break;
            default: await File.WriteAllTextAsync(_layout.RedactionCachePath, cache.Replace("ACME-[0-9]{6}", "NOTHING", StringComparison.Ordinal).Replace("\"2|", "\"9|", StringComparison.Ordinal)); break;
        }
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", "toolu_02", "ACME-222222")));

        Assert.Equal(["[REDACTED:acme_key]", "[REDACTED:acme_key]"], (await ToolCallsAsync(sessionId)).Select(e => (string)e.Data!["command"]!));
        Assert.Equal(cache, await File.ReadAllTextAsync(_layout.RedactionCachePath));
    }

    [Fact]
    public async Task After_SessionEnd_a_hook_starts_a_new_session_and_never_appends_to_the_ended_log()
    {
        var first = await InitializeWithActiveSessionAsync();
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", "toolu_01")));
        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("SessionEnd")));
        var endedLog = await File.ReadAllTextAsync((await IndexedAsync()).Single(s => s.SessionId == first).LogPath!);
        // Session ids have a resolution of one second (session_YYYYMMDD_HHMMSS).
        await Task.Delay(1_100);

        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", "toolu_02")));

        var sessions = await IndexedAsync();
        Assert.Equal(SessionState.Completed, sessions.Single(s => s.SessionId == first).State);
        var second = Assert.Single(sessions, s => s.State == SessionState.Active).SessionId;
        Assert.NotEqual(first, second);
        // Rotated to session_previous.jsonl by the new session's start, otherwise as SessionEnd left it.
        Assert.Equal(endedLog, await File.ReadAllTextAsync(sessions.Single(s => s.SessionId == first).LogPath!));
        Assert.Equal(["toolu_01"], (await ToolCallsAsync(first)).Select(e => (string)e.Data!["tool_use_id"]!));
        Assert.Equal(["toolu_02"], (await ToolCallsAsync(second)).Select(e => (string)e.Data!["tool_use_id"]!));
    }

    [Fact]
    public async Task SessionEnd_indexes_the_fast_paths_events_before_it_writes_the_handoff()
    {
        var sessionId = await InitializeWithActiveSessionAsync();
        for (var i = 0; i < 3; i++) CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("PostToolUse", $"toolu_{i}")));

        CliRunner.AssertExit(ExitCodes.Success, await HookAsync(Payload("SessionEnd")));

        var session = (await IndexedAsync()).Single(s => s.SessionId == sessionId);
        Assert.Equal(SessionState.Completed, session.State);
        Assert.Equal(new FileInfo(session.LogPath!).Length, session.LogIndexedBytes);
        Assert.Equal(3, (await ToolCallsAsync(sessionId)).Count);
        Assert.Contains("Bash", await File.ReadAllTextAsync(session.HandoffPath!));
    }

    [Fact]
    public async Task With_the_catalog_gone_the_fast_path_declines_and_leaves_the_log_alone()
    {
        await InitializeWithActiveSessionAsync();
        var before = CurrentLog;
        foreach (var file in Directory.EnumerateFiles(_layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);

        var outcome = ClaudeHookRecorder.TryRecordWithoutWorkspace(_temp.Workspace, null, Payload("PostToolUse"), DateTimeOffset.UtcNow, null, CancellationToken.None);

        Assert.Null(outcome);
        Assert.Equal(before, CurrentLog);
    }

    [Fact]
    public async Task Without_an_active_session_the_engine_declines_and_changes_nothing()
    {
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        Directory.CreateDirectory(_layout.HookMarkersDirectory);
        await File.WriteAllTextAsync(Path.Combine(_layout.HookMarkersDirectory, "toolu_01"), "1");

        var outcome = ClaudeHookRecorder.TryRecordWithoutWorkspace(_temp.Workspace, null, Payload("PostToolUse"), DateTimeOffset.UtcNow, null, CancellationToken.None);

        Assert.Null(outcome);
        Assert.False(File.Exists(_layout.CurrentLogPath));
        // The start marker stays for the full path, which measures the duration from it.
        Assert.True(File.Exists(Path.Combine(_layout.HookMarkersDirectory, "toolu_01")));
    }

    [Fact]
    public async Task Parallel_hook_processes_append_whole_lines_each_once()
    {
        var sessionId = await InitializeWithActiveSessionAsync();
        const int processes = 4, perProcess = 6;
        // Long commands make each line span more than one small write, where unlocked writers would interleave.
        var pad = new string('x', 3_000);

        var runs = Enumerable.Range(0, processes).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < perProcess; i++)
            {
                var (exit, output) = await RunHookProcessAsync(Payload("PostToolUse", $"toolu_{p}_{i}", $"{pad} ACME-{p}0000{i}"));
                Assert.True(exit == 0, output);
            }
        }));
        await Task.WhenAll(runs);

        var lines = File.ReadAllLines(_layout.CurrentLogPath);
        var calls = lines.Select(line => EventJson.Parse(line, null)).Where(e => e.Type == SessionEventType.ToolCall).ToList();
        Assert.Equal(processes * perProcess, calls.Count);
        Assert.All(calls, e => Assert.Equal($"{pad} [REDACTED:acme_key]", e.Data!["command"]));
        for (var p = 0; p < processes; p++)
            Assert.Equal(Enumerable.Range(0, perProcess).Select(i => $"toolu_{p}_{i}"), calls.Select(e => (string)e.Data!["tool_use_id"]!).Where(id => id.StartsWith($"toolu_{p}_", StringComparison.Ordinal)));
        Assert.Equal(processes * perProcess, (await ToolCallsAsync(sessionId)).Count);
    }

    [Fact]
    public async Task A_hook_waits_for_the_write_lock_and_appends_after_the_writer_holding_it()
    {
        await InitializeWithActiveSessionAsync();
        var before = CurrentLog;

        Task<CliRun> hook;
        using (await FileLock.AcquireAsync(_layout.WriteLockPath, TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            hook = Task.Run(() => HookAsync(Payload("PostToolUse")));
            await Task.Delay(300);
            Assert.False(hook.IsCompleted);
            Assert.Equal(before, CurrentLog);
        }

        CliRunner.AssertExit(ExitCodes.Success, await hook);
        Assert.StartsWith(before, CurrentLog);
        Assert.Contains("toolu_01", CurrentLog[before.Length..]);
    }

    [Fact]
    public async Task The_synchronous_lock_times_out_with_LockTimeout_and_is_free_again_after_release()
    {
        Directory.CreateDirectory(_temp.Root);
        var path = Path.Combine(_temp.Root, ".write.lock");
        using (await FileLock.AcquireAsync(path, TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            var error = await Task.Run(() => Assert.Throws<TierStorageException>(() => FileLock.Acquire(path, TimeSpan.FromMilliseconds(200), CancellationToken.None)));
            Assert.Equal(ErrorIds.LockTimeout, error.ErrorId);
        }
        using (FileLock.Acquire(path, TimeSpan.FromMilliseconds(200), CancellationToken.None))
        {
        }
    }

    /// <summary>`dotnet tierstorage.dll hook` as Claude Code starts it, in a process of its own.</summary>
    private async Task<(int ExitCode, string Output)> RunHookProcessAsync(string payload)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "tierstorage.dll"), "hook", "--workspace", _temp.Workspace }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(payload);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, $"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
    }
}
