using System.Text.Json;
using System.Text.Json.Nodes;
using TierStorage.Cli;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>Whole flows through <see cref="CliApp.RunAsync"/> against a real workspace in a temp directory.</summary>
public sealed class CliFlowTests : IDisposable
{
    private const string SessionId = "session_20260101_100000";
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--workspace", _temp.Workspace]);

    private Task<CliRun> RunWithInput(string stdin, params string[] args) => CliRunner.RunWithInputAsync(stdin, [.. args, "--workspace", _temp.Workspace]);

    private static List<T> ParseJsonLines<T>(CliRun run) =>
        run.StdoutLines.Select(line => CliJson.Deserialize<T>(line) ?? throw new InvalidOperationException($"null document: {line}")).ToList();

    [Fact]
    public async Task Init_creates_the_workspace_and_refuses_to_overwrite_its_policy_without_force()
    {
        var first = await Run("init");
        CliRunner.AssertExit(ExitCodes.Success, first);
        var policyPath = Path.Combine(_temp.Workspace, "tierstorage.yaml");
        Assert.True(File.Exists(policyPath), first.ToString());
        File.AppendAllText(policyPath, "# edited by hand\n");
        var edited = File.ReadAllBytes(policyPath);

        var again = await Run("init");

        Assert.NotEqual(ExitCodes.Success, again.ExitCode);
        Assert.StartsWith($"tierstorage: {ErrorIds.PolicyExists}: ", again.Stderr);
        Assert.Equal(edited, File.ReadAllBytes(policyPath));

        var forced = await Run("init", "--force", "--json");
        CliRunner.AssertExit(ExitCodes.Success, forced);
        var info = CliJson.Deserialize<WorkspaceInfo>(forced.Stdout.Trim());
        Assert.True(info!.PolicyWritten);
        Assert.NotEqual(edited, File.ReadAllBytes(policyPath));
    }

    [Fact]
    public async Task Init_with_path_initializes_that_directory()
    {
        var target = Path.Combine(_temp.Root, "elsewhere");

        var run = await CliRunner.RunAsync("init", "--path", target);

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.True(File.Exists(Path.Combine(target, "tierstorage.yaml")), run.ToString());
        Assert.Contains(target, run.Stdout);
    }

    [Fact]
    public async Task A_session_goes_from_start_through_events_and_snapshots_to_completed()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));

        var started = await Run("session", "start", "--phase", "1", "--id", SessionId, "--json");
        CliRunner.AssertExit(ExitCodes.Success, started);
        var session = Assert.Single(ParseJsonLines<SessionInfo>(started));
        Assert.Equal((SessionId, 1, SessionState.Active), (session.SessionId, session.Phase, session.State));

        var fromOptions = await Run(
            "event", "add", "--type", "tool_call", "--tool", "Read", "--agent", "coder", "--task", "T1", "--duration-ms", "12",
            "--input-tokens", "100", "--output-tokens", "20", "--cache-read-tokens", "5", "--cache-write-tokens", "1",
            "--model", "claude-sonnet-4", "--success", "true", "--file", "src/a.cs", "--data", """{"lines":42}""",
            "--timestamp", "2026-01-01T10:00:01Z");
        CliRunner.AssertExit(ExitCodes.Success, fromOptions);
        Assert.Contains("Added 1 event", fromOptions.Stdout);

        var lines = string.Join('\n',
            """{"timestamp":"2026-01-01T10:00:02Z","type":"tool_call","tool":"Edit","agent":"coder","success":true}""",
            """{"type":"tool_call","tool":"Bash"}""",
            """{"timestamp":"2026-01-01T10:00:03Z","type":"tool_call","tool":"Grep","agent":"reviewer","success":false,"error_type":"timeout"}""");
        var fromStdin = await RunWithInput(lines, "event", "add", "--stdin", "--session", SessionId);

        CliRunner.AssertExit(ExitCodes.Failed, fromStdin);
        Assert.Contains("Added 2 events", fromStdin.Stdout);
        var lineError = Assert.Single(fromStdin.Stderr.Split('\n'), l => l.Contains("line 2"));
        Assert.StartsWith($"tierstorage: {ErrorIds.InvalidEvent}: line 2: ", lineError);
        Assert.Contains("timestamp", lineError);
        Assert.DoesNotContain("line 1", fromStdin.Stderr);
        Assert.DoesNotContain("line 3", fromStdin.Stderr);

        var listed = await Run("event", "list", "--session", SessionId, "--type", "tool_call", "--json");
        CliRunner.AssertExit(ExitCodes.Success, listed);
        var events = ParseJsonLines<SessionEvent>(listed);
        Assert.Equal(["Read", "Edit", "Grep"], events.Select(e => e.Tool));
        var read = events[0];
        Assert.Equal((SessionId, SessionEventType.ToolCall, "coder", "T1", 12L, "claude-sonnet-4", true, "src/a.cs"),
            (read.SessionId, read.Type, read.Agent, read.Task, read.DurationMs, read.Model, read.Success, read.File));
        Assert.Equal(new TokenUsage { Input = 100, Output = 20, CacheRead = 5, CacheWrite = 1 }, read.Tokens);
        Assert.Equal(42L, read.Data!["lines"]); // read back as the event log reads it: whole numbers are long
        Assert.Contains("\"type\":\"ToolCall\"", listed.StdoutLines[0]);

        var failures = await Run("event", "list", "--session", SessionId, "--success", "false", "--json");
        Assert.Equal(["Grep"], ParseJsonLines<SessionEvent>(failures).Select(e => e.Tool));

        var last = await Run("event", "list", "--session", SessionId, "--type", "tool_call", "--last", "2", "--json");
        Assert.Equal(["Edit", "Grep"], ParseJsonLines<SessionEvent>(last).Select(e => e.Tool));

        var table = await Run("event", "list", "--session", SessionId, "--type", "tool_call");
        CliRunner.AssertExit(ExitCodes.Success, table);
        Assert.StartsWith("TIME", table.Stdout);
        Assert.Contains("tool_call", table.Stdout);
        Assert.Equal(5, table.StdoutLines.Length);

        var document = """{"plan":["a","b"],"step":2,"notes":{"open":true}}""";
        var saved = await RunWithInput(document, "snapshot", "save", "--session", SessionId, "--json");
        CliRunner.AssertExit(ExitCodes.Success, saved);
        Assert.Equal(1, CliJson.Deserialize<SnapshotInfo>(saved.Stdout.Trim())!.Sequence);

        var documentFile = Path.Combine(_temp.Root, "snap.json");
        File.WriteAllText(documentFile, """{"step":3}""");
        CliRunner.AssertExit(ExitCodes.Success, await Run("snapshot", "save", "--session", SessionId, "--file", documentFile));

        var latest = await Run("snapshot", "get", "--session", SessionId, "--latest");
        CliRunner.AssertExit(ExitCodes.Success, latest);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"step":3}"""), JsonNode.Parse(latest.Stdout)), latest.ToString());

        var first = await Run("snapshot", "get", "--session", SessionId, "--sequence", "1");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(document), JsonNode.Parse(first.Stdout)), first.ToString());

        var snapshots = await Run("snapshot", "get", "--session", SessionId, "--list", "--json");
        Assert.Equal([1, 2], ParseJsonLines<SnapshotInfo>(snapshots).Select(s => s.Sequence));

        var completed = await Run("session", "complete", "--no-backup", SessionId);
        CliRunner.AssertExit(ExitCodes.Success, completed);
        Assert.Contains($"Completed {SessionId}", completed.Stdout);

        var sessionsJson = await Run("session", "list", "--json");
        var listedSession = Assert.Single(ParseJsonLines<SessionInfo>(sessionsJson));
        Assert.Equal(SessionState.Completed, listedSession.State);
        Assert.NotNull(listedSession.HandoffPath);
        Assert.True(File.Exists(Path.Combine(_temp.Workspace, "handoffs", $"{SessionId}_handoff.md")), sessionsJson.ToString());

        var sessionsTable = await Run("session", "list", "--state", "completed");
        CliRunner.AssertExit(ExitCodes.Success, sessionsTable);
        Assert.StartsWith("SESSION", sessionsTable.Stdout);
        Assert.Contains(SessionId, sessionsTable.Stdout);
        Assert.Contains("Completed", sessionsTable.Stdout);
    }

    [Fact]
    public async Task Json_output_is_only_json_even_when_a_stdin_line_fails()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", SessionId));

        var run = await RunWithInput("""
            {"timestamp":"2026-01-01T10:00:02Z","type":"decision","agent":"planner"}
            not json at all
            """, "event", "add", "--stdin", "--json");

        CliRunner.AssertExit(ExitCodes.Failed, run);
        var stored = Assert.Single(ParseJsonLines<SessionEvent>(run));
        Assert.Equal((SessionEventType.Decision, SessionId), (stored.Type, stored.SessionId));
        Assert.Contains("line 2", run.Stderr);
    }

    [Fact]
    public async Task Ten_thousand_stdin_lines_all_arrive_through_one_appender()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", SessionId));
        var input = string.Join('\n', Enumerable.Range(0, 10_000).Select(i =>
            $$"""{"timestamp":"2026-01-01T10:00:00Z","type":"tool_call","tool":"Read","duration_ms":{{i}}}"""));

        var added = await RunWithInput(input, "event", "add", "--stdin");

        CliRunner.AssertExit(ExitCodes.Success, added);
        Assert.Equal($"Added 10000 events to {SessionId}.", added.Stdout.Trim());
        var listed = await Run("event", "list", "--type", "tool_call", "--json");
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => (long?)i), ParseJsonLines<SessionEvent>(listed).Select(e => e.DurationMs));
    }

    [Fact]
    public async Task Events_from_stdin_without_an_active_session_are_refused_once_not_per_line()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));

        var run = await RunWithInput("""{"timestamp":"2026-01-01T10:00:00Z","type":"decision"}""", "event", "add", "--stdin");

        Assert.NotEqual(ExitCodes.Success, run.ExitCode);
        Assert.Equal($"tierstorage: {ErrorIds.NoActiveSession}: ", run.Stderr[..$"tierstorage: {ErrorIds.NoActiveSession}: ".Length]);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_empty_listing_says_so_in_human_output_and_prints_nothing_in_json()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));

        Assert.Equal("No sessions.", (await Run("session", "list")).Stdout.Trim());
        Assert.Equal("No events.", (await Run("event", "list")).Stdout.Trim());
        Assert.Equal("", (await Run("event", "list", "--json")).Stdout);
    }

    [Fact]
    public async Task Starting_while_a_session_is_active_is_refused_unless_told_to_complete_it()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", SessionId));

        var refused = await Run("session", "start", "--id", "session_20260101_110000");
        Assert.NotEqual(ExitCodes.Success, refused.ExitCode);
        Assert.StartsWith($"tierstorage: {ErrorIds.SessionStillActive}: ", refused.Stderr);

        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", "session_20260101_110000", "--complete-active"));
        var sessions = ParseJsonLines<SessionInfo>(await Run("session", "list", "--json"));
        Assert.Equal(SessionState.Completed, sessions.Single(s => s.SessionId == SessionId).State);
    }

    [Fact]
    public async Task A_session_or_phase_that_does_not_exist_exits_not_found_and_a_wildcard_that_matches_nothing_succeeds()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", SessionId, "--phase", "0"));

        var session = await Run("session", "list", "--id", "nope");
        var review = await Run("review", "99");
        var wildcard = await Run("session", "list", "--id", "zzz*");

        CliRunner.AssertExit(ExitCodes.NotFound, session);
        Assert.Contains("SessionNotFound", session.Stderr);
        CliRunner.AssertExit(ExitCodes.NotFound, review);
        Assert.Contains("PhaseNotFound", review.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_temp.Workspace, "reviews")));
        CliRunner.AssertExit(ExitCodes.Success, wildcard);
    }

    [Fact]
    public async Task Session_list_finished_includes_completed_and_excludes_active()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", SessionId, "--phase", "0"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", "session_20260101_110000", "--complete-active"));

        var run = await Run("session", "list", "--finished", "--json");

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.Equal([SessionId], ParseJsonLines<SessionInfo>(run).Select(s => s.SessionId));
    }

    [Fact]
    public async Task Tier_usage_exits_unavailable_when_a_folder_tier_is_not_connected()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        var notAFolder = Path.Combine(_temp.Root, "unmounted");
        await File.WriteAllTextAsync(notAFolder, "a file where the mount point should be");
        await File.WriteAllTextAsync(Path.Combine(_temp.Workspace, "tierstorage.yaml"), $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(notAFolder, "tier")}

            """);

        var run = await Run("tier", "usage", "--json");

        CliRunner.AssertExit(ExitCodes.Unavailable, run);
        Assert.Equal(TierHealth.Unavailable, ParseJsonLines<TierUsage>(run).Single(u => u.Tier == "backup").Status);
    }

    [Fact]
    public async Task A_workspace_that_was_never_initialized_is_not_found()
    {
        var run = await Run("session", "list");

        CliRunner.AssertExit(ExitCodes.NotFound, run);
        Assert.StartsWith($"tierstorage: {ErrorIds.WorkspaceNotFound}: ", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task A_snapshot_that_is_not_json_is_refused_as_invalid_data()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--id", SessionId));

        var run = await RunWithInput("{ not json", "snapshot", "save");

        Assert.NotEqual(ExitCodes.Success, run.ExitCode);
        Assert.StartsWith("tierstorage: ", run.Stderr);
        var list = await Run("snapshot", "get", "--list", "--json");
        Assert.Equal("", list.Stdout);
    }

    [Fact]
    public async Task Policy_test_on_a_broken_file_exits_1_and_prints_file_line_and_column()
    {
        var policy = Path.Combine(_temp.Root, "broken.yaml");
        File.WriteAllText(policy, "version: 1\nretention:\n  local_sessions: 2\n  no_such_key: true\n");

        var run = await CliRunner.RunAsync("policy", "test", policy);

        CliRunner.AssertExit(ExitCodes.Failed, run);
        var finding = Assert.Single(run.StdoutLines, l => l.StartsWith($"{policy}:4:", StringComparison.Ordinal));
        Assert.Matches(@":4:\d+: error \w+ ", finding);
        Assert.Contains("no_such_key", finding);
    }

    [Fact]
    public async Task Policy_test_findings_come_as_json_lines_with_json()
    {
        var policy = Path.Combine(_temp.Root, "broken.yaml");
        File.WriteAllText(policy, "version: 1\ntiers: [\n");

        var run = await CliRunner.RunAsync("policy", "test", policy, "--json");

        CliRunner.AssertExit(ExitCodes.Failed, run);
        var findings = ParseJsonLines<PolicyFinding>(run);
        Assert.Contains(findings, f => f.Severity == FindingSeverity.Error && f.File == policy && f.Line is not null);
    }

    [Fact]
    public async Task A_broken_policy_stops_commands_with_its_findings_on_stderr()
    {
        var policy = Path.Combine(_temp.Root, "broken.yaml");
        File.WriteAllText(policy, "version: 1\nretention:\n  local_sessions: -3\n");

        var run = await CliRunner.RunAsync("policy", "show", "--policy", policy, "--workspace", _temp.Workspace);

        CliRunner.AssertExit(ExitCodes.InvalidData, run);
        Assert.StartsWith($"tierstorage: {ErrorIds.PolicyInvalid}: ", run.Stderr);
        Assert.Contains($"{policy}:3:", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Policy_show_works_before_init_on_the_embedded_default()
    {
        var human = await Run("policy", "show");
        CliRunner.AssertExit(ExitCodes.Success, human);
        Assert.Contains("TIER", human.Stdout);
        Assert.Contains("Retention:", human.Stdout);

        var json = await Run("policy", "show", "--json");
        CliRunner.AssertExit(ExitCodes.Success, json);
        var policy = CliJson.Deserialize<TierPolicy>(json.Stdout.Trim())!;
        Assert.Equal(3, policy.Tiers.Count);
        Assert.Equal(2, policy.Retention.LocalSessions);
        Assert.Contains("\"kind\":\"Folder\"", json.Stdout);
    }

    [Fact]
    public async Task Policy_test_on_the_default_policy_is_clean()
    {
        var run = await Run("policy", "test");

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.EndsWith("policy is valid.", run.Stdout.Trim());
    }

    [Fact]
    public async Task A_cancelled_run_exits_130()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var stderr = new StringWriter();

        var exitCode = await CliApp.RunAsync(["session", "list", "--workspace", _temp.Workspace], new StringReader(""), new StringWriter(), stderr, cancelled.Token);

        Assert.True(exitCode == ExitCodes.Cancelled, $"exit {exitCode}: {stderr}");
    }

    [Fact]
    public async Task A_partial_line_left_by_a_crashed_writer_is_quarantined_with_a_warning_on_stderr()
    {
        CliRunner.AssertExit(ExitCodes.Success, await Run("init"));
        CliRunner.AssertExit(ExitCodes.Success, await Run("session", "start", "--phase", "1"));
        var log = Path.Combine(_temp.Workspace, "logs", "session_current.jsonl");
        File.AppendAllText(log, "{\"timestamp\":\"2026-01-01T10:00:00Z\",\"type\":\"tool_");

        var run = await Run("event", "add", "--type", "tool_call", "--tool", "Read");

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.Contains("tierstorage: warning: ", run.Stderr);
        Assert.Contains("quarantine", run.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.All(File.ReadLines(log), line => Assert.EndsWith("}", line));
    }
}
