using TierStorage.Cli;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Tests.Cli;
using TierStorage.Tests.Ingest.Fixtures;
using Xunit;

namespace TierStorage.Tests.Ingest;

/// <summary>`tierstorage import claude` over a project's transcripts in a Claude Code data directory.</summary>
public sealed class ImportClaudeCliTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_projects_transcripts_are_imported_once_with_the_subagent_in_its_parents_session()
    {
        var project = Path.Combine(_temp.Root, "src", "my-app");
        var config = Path.Combine(_temp.Root, "claude");
        var projectDir = Path.Combine(config, "projects", project.Replace('/', '-').Replace('.', '-').Replace('_', '-'));
        Directory.CreateDirectory(Path.Combine(projectDir, ClaudeFixtures.SessionId, "subagents"));
        File.WriteAllText(Path.Combine(projectDir, ClaudeFixtures.SessionId + ".jsonl"), ClaudeFixtures.Text(ClaudeFixtures.Main));
        File.WriteAllText(Path.Combine(projectDir, ClaudeFixtures.SessionId, "subagents", "agent-1.jsonl"), ClaudeFixtures.Text(ClaudeFixtures.Subagent));
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));

        var first = await CliRunner.RunAsync("import", "claude", "--project", project, "--config-dir", config, "--json", "--workspace", _temp.Workspace);
        var again = await CliRunner.RunAsync("import", "claude", "--project", project, "--config-dir", config, "--json", "--workspace", _temp.Workspace);

        CliRunner.AssertExit(ExitCodes.Success, first);
        var results = first.StdoutLines.Select(l => CliJson.Deserialize<ClaudeImportResult>(l)!).ToList();
        Assert.Equal([false, true], results.Select(r => r.IsSubagent));
        Assert.Single(results.Select(r => r.SessionId).Distinct());
        Assert.All(results, r => Assert.True(r.EventsImported > 0, r.TranscriptPath));
        Assert.Equal(ClaudeFixtures.MalformedLines.Length, results[0].MalformedLines.Count);
        // Issue 12: one warning per file with the count and the first line numbers, not one per bad line.
        Assert.Contains("3 line(s) could not be read and were left out (lines 8, 14, 15)", first.Stderr);
        Assert.Single(first.Stderr.Split('\n'), l => l.Contains("could not be read", StringComparison.Ordinal));
        CliRunner.AssertExit(ExitCodes.Success, again);
        Assert.All(again.StdoutLines.Select(l => CliJson.Deserialize<ClaudeImportResult>(l)!), r => Assert.Equal(0, r.EventsImported));

        // Once the session is backed up, a rerun that finds nothing new still succeeds.
        File.WriteAllText(Path.Combine(_temp.Workspace, "tierstorage.yaml"), $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(_temp.Root, "backup")}
            """);
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("backup", "run", results[0].SessionId, "--workspace", _temp.Workspace));
        var afterBackup = await CliRunner.RunAsync("import", "claude", "--project", project, "--config-dir", config, "--json", "--workspace", _temp.Workspace);
        CliRunner.AssertExit(ExitCodes.Success, afterBackup);
    }

    [Fact]
    public async Task Complete_finishes_a_session_that_is_not_idle_yet_with_its_session_end_and_handoff()
    {
        var transcript = Path.Combine(_temp.Root, ClaudeFixtures.SessionId + ".jsonl");
        // Written as if Claude Code had just stopped: the default idle time (30 minutes) has not passed.
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(transcript, ClaudeFixtures.Text(ClaudeFixtures.Main[..3].Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"timestamp\":\"[^\"]+\"", $"\"timestamp\":\"{now}\""))));
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));

        var waiting = await CliRunner.RunAsync("import", "claude", "--path", transcript, "--json", "--workspace", _temp.Workspace);
        var completed = await CliRunner.RunAsync("import", "claude", "--path", transcript, "--complete", "--json", "--workspace", _temp.Workspace);
        var badIdle = await CliRunner.RunAsync("import", "claude", "--path", transcript, "--idle-minutes", "0", "--workspace", _temp.Workspace);

        CliRunner.AssertExit(ExitCodes.Success, waiting);
        Assert.False(CliJson.Deserialize<ClaudeImportResult>(Assert.Single(waiting.StdoutLines))!.SessionCompleted);
        CliRunner.AssertExit(ExitCodes.Success, completed);
        var result = CliJson.Deserialize<ClaudeImportResult>(Assert.Single(completed.StdoutLines))!;
        Assert.True(result.SessionCompleted);
        Assert.True(File.Exists(Path.Combine(_temp.Workspace, "handoffs", result.SessionId + "_handoff.md")));
        Assert.NotEqual(ExitCodes.Success, badIdle.ExitCode);
        Assert.Contains("--idle-minutes", badIdle.Stderr);
    }

    [Fact]
    public async Task A_project_claude_code_never_ran_in_is_a_clear_not_found()
    {
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));

        var run = await CliRunner.RunAsync("import", "claude", "--project", _temp.Root, "--config-dir", Path.Combine(_temp.Root, "nothing"), "--workspace", _temp.Workspace);

        CliRunner.AssertExit(ExitCodes.NotFound, run);
        Assert.Contains("no transcripts", run.Stderr);
    }

    [Fact]
    public async Task All_projects_of_several_comma_separated_config_directories_are_imported()
    {
        // Issue 12: ccusage reads every project of every directory CLAUDE_CONFIG_DIR lists.
        var first = Path.Combine(_temp.Root, "claude-one");
        var second = Path.Combine(_temp.Root, "claude-two");
        string Line(string session) => $$$"""{"type":"assistant","sessionId":"{{{session}}}","timestamp":"2026-01-01T09:00:00.000Z","requestId":"r-{{{session}}}","message":{"id":"m-{{{session}}}","model":"claude-3-5-haiku-20241022","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}""" + "\n";
        foreach (var (dir, file, session) in new[] { (first, "-home-me-a/aa01.jsonl", "aa01"), (first, "-home-me-b/bb01/subagents/agent-1.jsonl", "bb01"), (second, "-home-me-a/cc01.jsonl", "cc01") })
        {
            var path = Path.Combine(dir, "projects", file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Line(session));
        }
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));

        var run = await CliRunner.RunAsync("import", "claude", "--all-projects", "--config-dir", $"{first},{second}", "--json", "--workspace", _temp.Workspace);
        var conflict = await CliRunner.RunAsync("import", "claude", "--all-projects", "--project", _temp.Root, "--workspace", _temp.Workspace);

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.Equal(["claude_aa01", "claude_bb01", "claude_cc01"],
            run.StdoutLines.Select(l => CliJson.Deserialize<ClaudeImportResult>(l)!.SessionId).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("No price", run.Stderr, StringComparison.Ordinal);
        CliRunner.AssertExit(ExitCodes.Usage, conflict);
        Assert.Contains("--all-projects", conflict.Stderr, StringComparison.Ordinal);
    }
}
