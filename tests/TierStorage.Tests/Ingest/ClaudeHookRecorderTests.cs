using TierStorage.Cli;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Tests.Backup;
using TierStorage.Tests.Cli;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Ingest;

public sealed class ClaudeHookRecorderTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string Payload(string hook, string extra = "") =>
        $$"""{"session_id":"c0ffee-1","transcript_path":"/tmp/t.jsonl","cwd":"/src/p","hook_event_name":"{{hook}}"{{extra}}}""";

    [Fact]
    public async Task A_claude_code_session_is_recorded_from_its_hooks_with_measured_tool_durations()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();

        var start = await ClaudeHookRecorder.RecordAsync(ws, Payload("SessionStart", ""","source":"startup" """), None);
        await ClaudeHookRecorder.RecordAsync(ws, Payload("UserPromptSubmit", ""","prompt":"password=hunter2 please fix the build" """), None);
        await ClaudeHookRecorder.RecordAsync(ws, Payload("PreToolUse", ""","tool_name":"Edit","tool_use_id":"toolu_01","tool_input":{"file_path":"src/a.cs"}"""), None);
        bed.Time.Advance(TimeSpan.FromMilliseconds(1234));
        await ClaudeHookRecorder.RecordAsync(ws, Payload("PostToolUse", ""","tool_name":"Edit","tool_use_id":"toolu_01","tool_input":{"file_path":"src/a.cs"},"tool_response":{"success":true}"""), None);
        await ClaudeHookRecorder.RecordAsync(ws, Payload("PreToolUse", ""","tool_name":"Bash","tool_use_id":"toolu_02","tool_input":{"command":"make"}"""), None);
        bed.Time.Advance(TimeSpan.FromMilliseconds(300));
        await ClaudeHookRecorder.RecordAsync(ws, Payload("PostToolUseFailure", ""","tool_name":"Bash","tool_use_id":"toolu_02","tool_input":{"command":"make"}"""), None);
        await ClaudeHookRecorder.RecordAsync(ws, Payload("SubagentStop", ""","agent_id":"a1","agent_type":"reviewer" """), None);
        var end = await ClaudeHookRecorder.RecordAsync(ws, Payload("SessionEnd", ""","reason":"exit" """), None);

        Assert.Equal(start.SessionId, end.SessionId);
        Assert.True(end.SessionCompleted);
        Assert.Equal(SessionState.Completed, (await SessionAsync(ws, start.SessionId!)).State);
        var events = await ToListAsync(ws.GetEventsAsync(new SessionEventQuery { SessionId = start.SessionId, Type = SessionEventType.ToolCall }, None));
        Assert.Equal([("Edit", 1234L, true, "src/a.cs"), ("Bash", 300L, false, (string?)null)],
            events.Select(e => (e.Tool!, e.DurationMs!.Value, e.Success!.Value, e.File)));
        var log = File.ReadAllText((await SessionAsync(ws, start.SessionId!)).LogPath!);
        Assert.DoesNotContain("hunter2", log);
        Assert.Contains($"\"prompt_chars\":{"password=hunter2 please fix the build".Length}", log);
        Assert.Contains("reviewer", log);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(bed.Layout.LogsDirectory, ".hooks")));
    }

    [Fact]
    public async Task A_tool_use_id_that_could_name_a_path_is_never_used_as_one()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();

        await ClaudeHookRecorder.RecordAsync(ws, Payload("PreToolUse", ""","tool_name":"Read","tool_use_id":"../../evil" """), None);

        Assert.False(File.Exists(Path.Combine(bed.Layout.Root, "evil")));
        Assert.False(File.Exists(Path.Combine(bed.Layout.LogsDirectory, "evil")));
    }

    [Fact]
    public async Task The_hook_command_is_silent_on_success_and_never_exits_2_which_would_block_the_tool_call()
    {
        using var temp = new TempWorkspace();
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", temp.Workspace));

        var ok = await CliRunner.RunWithInputAsync(Payload("SessionStart"), "hook", "--workspace", temp.Workspace);
        var bad = await CliRunner.RunWithInputAsync("{not json", "hook", "--workspace", temp.Workspace);
        var noHook = await CliRunner.RunWithInputAsync("{}", "hook", "--workspace", temp.Workspace);

        CliRunner.AssertExit(ExitCodes.Success, ok);
        Assert.Equal("", ok.Stdout);
        // Issue 11 #13: bad payloads are silent (Claude Code would show stderr mid-conversation); the workspace notes why.
        CliRunner.AssertExit(ExitCodes.Failed, bad);
        CliRunner.AssertExit(ExitCodes.Failed, noHook);
        Assert.Equal("", bad.Stderr + bad.Stdout + noHook.Stderr + noHook.Stdout);
        var rejected = File.ReadAllLines(Path.Combine(temp.Workspace, "logs", ClaudeHookRecorder.RejectedLogName));
        Assert.Equal(2, rejected.Length);
        Assert.All(rejected, line => Assert.Contains(ErrorIds.InvalidEvent, line));
        Assert.DoesNotContain("not json", string.Join("\n", rejected));
    }

    [Theory]
    [InlineData("hook", "--bogus")]
    [InlineData("hook", "extra-argument")]
    [InlineData("hook", "--workspace")]
    [InlineData("hook", "--workspace", "")]
    [InlineData("hook", "--policy", " ")]
    [InlineData("--bogus", "hook")]
    public async Task A_mistake_in_the_hook_command_line_exits_1_not_2_which_would_block_every_tool_call(params string[] args)
    {
        // Issue 11 #13: each of these exited 2 ("usage"), which Claude Code reads as "block this tool call".
        using var temp = new TempWorkspace();

        var run = await CliRunner.RunWithInputAsync(Payload("PreToolUse"), args);

        CliRunner.AssertExit(ExitCodes.Failed, run);
        Assert.Contains("Usage", run.Stderr);
    }

    [Fact]
    public async Task Other_commands_still_exit_2_on_a_usage_mistake()
    {
        CliRunner.AssertExit(ExitCodes.Usage, await CliRunner.RunAsync("session", "list", "--bogus"));
        CliRunner.AssertExit(ExitCodes.Usage, await CliRunner.RunAsync("session", "list", "--workspace", ""));
    }
}
