using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using TierStorage.Cli;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Cli;
using Xunit;

namespace TierStorage.Tests.Ingest;

/// <summary>The native hook (tierstorage-hook, NativeAOT) writes what the managed `tierstorage hook` writes, and hands
/// every call it does not serve to it with the same bytes, so nothing is lost and the exit code is never 2.</summary>
public sealed partial class NativeHookTests : IDisposable
{
    private const string Policy = HookWithoutWorkspaceTests.Policy;

    private readonly TempWorkspace _temp = new();
    private readonly WorkspaceLayout _layout;

    public NativeHookTests()
    {
        _layout = new WorkspaceLayout(_temp.Workspace);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>No managed command to hand off to: a call the native hook does not serve itself fails (exit 1) instead of
    /// passing silently through the managed path, so a test that expects the native path proves that it ran.</summary>
    private static Dictionary<string, string?> NativeOnly => new()
    {
        ["TIERSTORAGE_CLI"] = Path.Combine(Path.GetTempPath(), "no-such-dir", "tierstorage.dll"),
        ["TIERSTORAGE_WORKSPACE"] = null, ["TIERSTORAGE_POLICY"] = null,
    };

    private static Dictionary<string, string?> WithManaged => new()
    {
        ["TIERSTORAGE_CLI"] = NativeBinary.ManagedCli, ["TIERSTORAGE_WORKSPACE"] = null, ["TIERSTORAGE_POLICY"] = null,
    };

    private Task<NativeRun> NativeAsync(string payload, Dictionary<string, string?> environment) =>
        NativeBinary.Hook.RunAsync(payload, environment, "--workspace", _temp.Workspace);

    private Task<CliRun> ManagedAsync(string payload) => CliRunner.RunWithInputAsync(payload, "hook", "--workspace", _temp.Workspace);

    private static void AssertExit(int expected, NativeRun run) => Assert.True(run.ExitCode == expected, $"expected exit {expected}, got {run}");

    private string[] LogLines => File.ReadAllLines(_layout.CurrentLogPath);

    /// <summary>An initialized workspace with the test policy, a session started by a hook, and the redaction cache written
    /// (by the managed fast path's first event, as in use).</summary>
    private async Task InitializeAsync()
    {
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        await File.WriteAllTextAsync(_layout.PolicyPath, Policy);
        CliRunner.AssertExit(ExitCodes.Success, await ManagedAsync("""{"session_id":"c0ffee","hook_event_name":"SessionStart","source":"startup"}"""));
        CliRunner.AssertExit(ExitCodes.Success, await ManagedAsync("""{"session_id":"c0ffee","hook_event_name":"Stop"}"""));
        Assert.True(File.Exists(_layout.RedactionCachePath));
    }

    public static TheoryData<string> Payloads => new()
    {
        // Built-in and policy patterns, in the command and in the file path.
        """{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_01","tool_input":{"command":"curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123' --data password=hunter2 ACME-123456"},"tool_response":{"success":true}}""",
        """{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Edit","tool_use_id":"toolu_02","tool_input":{"file_path":"/src/ACME-654321/é 中文.cs"},"tool_response":{"is_error":true}}""",
        """{"session_id":"c0ffee","hook_event_name":"PostToolUseFailure","tool_name":"Read","tool_use_id":"toolu_03","tool_input":{"notebook_path":"n.ipynb"}}""",
        """{"session_id":"c0ffee","hook_event_name":"SubagentStop","agent_id":"a1","agent_type":"Explore"}""",
        """{"session_id":"c0ffee","hook_event_name":"Stop","agent_type":"reviewer"}""",
        """{"session_id":"c0ffee","hook_event_name":"UserPromptSubmit","prompt":"my key is ACME-111111, don't log it"}""",
        // A resumed conversation joins the active session and is recorded as such.
        """{"session_id":"c0ffee","hook_event_name":"SessionStart","source":"resume"}""",
        // Fields Claude Code may add later are ignored alike; an unknown hook records nothing on either path.
        """{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_04","tool_input":{"command":"ls","extra":[1,2]},"new_field":{"x":null}}""",
        """{"session_id":"c0ffee","hook_event_name":"Notification","message":"hi"}""",
    };

    [NativeTheory]
    [MemberData(nameof(Payloads))]
    public async Task The_native_hook_writes_the_line_the_managed_hook_writes_but_for_its_timestamp(string payload)
    {
        await InitializeAsync();

        var before = LogLines.Length;
        CliRunner.AssertExit(ExitCodes.Success, await ManagedAsync(payload));
        var managed = LogLines[before..];
        AssertExit(ExitCodes.Success, await NativeAsync(payload, NativeOnly));
        var native = LogLines[(before + managed.Length)..];

        Assert.Equal(managed.Select(WithoutTimestamp), native.Select(WithoutTimestamp));
        Assert.All(managed.Concat(native), line => Assert.DoesNotContain("ACME-", line, StringComparison.Ordinal));
        Assert.All(managed.Concat(native), line => Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal));
    }

    [NativeFact]
    public async Task A_payload_with_a_byte_order_mark_is_read_as_the_managed_hook_reads_it()
    {
        await InitializeAsync();
        var payload = """{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_bom","tool_input":{"command":"ACME-222222"}}""";
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(payload)];

        AssertExit(ExitCodes.Success, await NativeBinary.Hook.RunAsync(bytes, NativeOnly, "--workspace", _temp.Workspace));
        CliRunner.AssertExit(ExitCodes.Success, await ManagedAsync(payload));

        var lines = LogLines[^2..];
        Assert.Equal(WithoutTimestamp(lines[1]), WithoutTimestamp(lines[0]));
        Assert.Contains("[REDACTED:acme_key]", lines[0]);
    }

    [NativeFact]
    public async Task A_tool_call_after_its_PreToolUse_has_its_duration_and_its_start_marker_is_removed()
    {
        await InitializeAsync();
        AssertExit(ExitCodes.Success, await NativeAsync("""{"session_id":"c0ffee","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"toolu_t"}""", NativeOnly));
        Assert.True(File.Exists(Path.Combine(_layout.HookMarkersDirectory, "toolu_t")));
        await Task.Delay(50);

        AssertExit(ExitCodes.Success, await NativeAsync("""{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_t"}""", NativeOnly));

        var call = EventJson.Parse(LogLines[^1], null);
        Assert.True(call.DurationMs >= 50, LogLines[^1]);
        Assert.False(File.Exists(Path.Combine(_layout.HookMarkersDirectory, "toolu_t")));
    }

    [NativeFact]
    public async Task With_no_active_session_the_call_is_handed_to_the_managed_hook_which_starts_one_and_records_the_event()
    {
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        var payload = """{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_01","tool_input":{"command":"make"}}""";

        // Without the managed command the call cannot be served, and says so (exit 1, never 2), having written nothing.
        var alone = await NativeAsync(payload, NativeOnly);
        AssertExit(ExitCodes.Failed, alone);
        Assert.Contains("TIERSTORAGE_CLI", alone.Stderr);
        Assert.False(File.Exists(_layout.CurrentLogPath));

        var run = await NativeAsync(payload, WithManaged);
        AssertExit(ExitCodes.Success, run);
        Assert.Equal("", run.Stdout);
        var events = LogLines.Select(l => EventJson.Parse(l, null)).ToList();
        Assert.Equal([SessionEventType.SessionStart, SessionEventType.ToolCall], events.Select(e => e.Type));
        Assert.Equal("make", events[1].Data!["command"]);
    }

    [NativeFact]
    public async Task SessionEnd_is_handed_to_the_managed_hook_which_completes_the_session_with_every_native_event_indexed()
    {
        await InitializeAsync();
        AssertExit(ExitCodes.Success, await NativeAsync("""{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_n","tool_input":{"command":"make"}}""", NativeOnly));

        AssertExit(ExitCodes.Failed, await NativeAsync("""{"session_id":"c0ffee","hook_event_name":"SessionEnd","reason":"exit"}""", NativeOnly));
        AssertExit(ExitCodes.Success, await NativeAsync("""{"session_id":"c0ffee","hook_event_name":"SessionEnd","reason":"exit"}""", WithManaged));

        await using var catalog = await CatalogDatabase.OpenAsync(_layout.CatalogPath, CancellationToken.None);
        var sessions = new List<SessionRecord>();
        await foreach (var s in catalog.ListSessionsAsync(null, null, CancellationToken.None)) sessions.Add(s);
        var session = Assert.Single(sessions);
        Assert.Equal(SessionState.Completed, session.State);
        Assert.True(File.Exists(_layout.HandoffPath(session.SessionId)));
        await using var workspace = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = _temp.Workspace }, CancellationToken.None);
        var calls = new List<SessionEvent>();
        await foreach (var e in workspace.GetEventsAsync(new SessionEventQuery { SessionId = session.SessionId, Type = SessionEventType.ToolCall }, CancellationToken.None))
            calls.Add(e);
        Assert.Equal("toolu_n", Assert.Single(calls).Data!["tool_use_id"]);
    }

    [NativeFact]
    public async Task A_payload_that_is_not_a_hook_event_exits_1_in_silence_and_is_noted_in_hook_rejected_log()
    {
        await InitializeAsync();
        var before = File.ReadAllText(_layout.CurrentLogPath);

        // "not json" is a JSON literal gone wrong, which the parser's own message would quote: the log must not.
        foreach (var payload in new[] { "not json", """{"no_hook_event_name":true}""" })
        {
            var run = await NativeAsync(payload, WithManaged);
            AssertExit(ExitCodes.Failed, run);
            Assert.Equal("", run.Stdout);
            Assert.Equal("", run.Stderr);
        }

        var rejected = File.ReadAllLines(Path.Combine(_layout.LogsDirectory, ClaudeHookRecorder.RejectedLogName));
        Assert.Equal(2, rejected.Length);
        Assert.All(rejected, line => Assert.Contains(ErrorIds.InvalidEvent, line));
        Assert.DoesNotContain("not json", string.Join("\n", rejected));
        Assert.Equal(before, File.ReadAllText(_layout.CurrentLogPath));
    }

    [NativeFact]
    public async Task After_a_policy_edit_the_call_is_handed_off_and_redacts_by_the_new_policy_which_the_next_native_call_uses_too()
    {
        await InitializeAsync();
        await File.WriteAllTextAsync(_layout.PolicyPath, Policy.Replace("ACME-[0-9]{6}", "ZORG-[0-9]{4}", StringComparison.Ordinal));
        var payload = """{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_p","tool_input":{"command":"ZORG-1234"}}""";

        AssertExit(ExitCodes.Failed, await NativeAsync(payload, NativeOnly));
        AssertExit(ExitCodes.Success, await NativeAsync(payload, WithManaged));
        AssertExit(ExitCodes.Success, await NativeAsync(payload, NativeOnly));

        var lines = LogLines[^2..];
        Assert.All(lines, line => Assert.Contains("[REDACTED:acme_key]", line));
        Assert.Equal(WithoutTimestamp(lines[0]), WithoutTimestamp(lines[1]));
    }

    [NativeFact]
    public async Task Arguments_the_native_hook_does_not_know_go_to_the_managed_command_and_exit_1_never_2()
    {
        await InitializeAsync();
        var run = await NativeBinary.Hook.RunAsync("""{"hook_event_name":"Stop"}""", WithManaged, "--workspace", _temp.Workspace, "--no-such-option");
        AssertExit(ExitCodes.Failed, run);
        Assert.Contains("--no-such-option", run.Stderr);
    }

    [NativeFact]
    public async Task Parallel_native_hooks_append_every_event_once_in_whole_lines_and_the_catalog_indexes_them()
    {
        await InitializeAsync();
        const int processes = 4, perProcess = 5;
        var pad = new string('x', 3_000);

        var runs = Enumerable.Range(0, processes).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < perProcess; i++)
            {
                var payload = $$$"""{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_{{{p}}}_{{{i}}}","tool_input":{"command":"{{{pad}}} ACME-{{{p}}}0000{{{i}}}"}}""";
                AssertExit(ExitCodes.Success, await NativeAsync(payload, NativeOnly));
            }
        }));
        await Task.WhenAll(runs);

        var calls = LogLines.Select(line => EventJson.Parse(line, null)).Where(e => e.Type == SessionEventType.ToolCall).ToList();
        Assert.Equal(processes * perProcess, calls.Count);
        Assert.All(calls, e => Assert.Equal($"{pad} [REDACTED:acme_key]", e.Data!["command"]));
        Assert.Equal(processes * perProcess, calls.Select(e => e.Data!["tool_use_id"]).Distinct().Count());
        var listed = await CliRunner.RunAsync("event", "list", "--workspace", _temp.Workspace, "--type", "tool_call", "--json");
        CliRunner.AssertExit(ExitCodes.Success, listed);
        Assert.Equal(processes * perProcess, listed.StdoutLines.Length);
    }

    [NativeFact]
    public async Task A_native_hook_killed_while_it_waits_for_the_write_lock_leaves_the_log_whole_and_the_next_one_appends()
    {
        await InitializeAsync();
        var before = File.ReadAllText(_layout.CurrentLogPath);
        var start = new ProcessStartInfo(NativeBinary.Hook.Executable) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--workspace");
        start.ArgumentList.Add(_temp.Workspace);
        foreach (var (name, value) in NativeOnly)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;

        using (await FileLock.AcquireAsync(_layout.WriteLockPath, TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            using var waiting = Process.Start(start)!;
            await waiting.StandardInput.WriteAsync("""{"session_id":"c0ffee","hook_event_name":"Stop"}""");
            waiting.StandardInput.Close();
            await Task.Delay(300);
            Assert.False(waiting.HasExited, "the hook should be waiting for the write lock");
            waiting.Kill();
            await waiting.WaitForExitAsync();
        }

        Assert.Equal(before, File.ReadAllText(_layout.CurrentLogPath));
        AssertExit(ExitCodes.Success, await NativeAsync("""{"session_id":"c0ffee","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_k"}""", NativeOnly));
        var after = File.ReadAllText(_layout.CurrentLogPath);
        Assert.StartsWith(before, after);
        Assert.Contains("toolu_k", EventJson.Parse(after[before.Length..].TrimEnd('\n'), null).Data!["tool_use_id"]!.ToString());
    }

    private static string WithoutTimestamp(string line) => TimestampField().Replace(line, "\"timestamp\":\"*\"");

    [GeneratedRegex("\"timestamp\":\"[^\"]*\"")]
    private static partial Regex TimestampField();
}
