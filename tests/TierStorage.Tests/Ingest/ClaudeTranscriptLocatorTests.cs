using Xunit;
using TierStorage.Engine.Ingest;

namespace TierStorage.Tests.Ingest;

public sealed class ClaudeTranscriptLocatorTests : IDisposable
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), "ts-claude-config-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_config)) Directory.Delete(_config, recursive: true);
    }

    [Fact]
    public void Project_paths_are_escaped_like_claude_code_does()
    {
        Assert.Equal("-home-me-my-app", ClaudeTranscriptLocator.EscapeProjectPath("/home/me/my_app"));
        Assert.Equal("-home-me-src-tier-storage-v2", ClaudeTranscriptLocator.EscapeProjectPath("/home/me/src/tier.storage v2/"));
    }

    [Fact]
    public void Finds_main_transcripts_and_their_nested_subagent_files()
    {
        var project = Path.Combine(_config, "projects", "-home-me-my-app");
        Directory.CreateDirectory(Path.Combine(project, "bbb", "subagents"));
        File.WriteAllText(Path.Combine(project, "aaa.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "bbb.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "bbb", "subagents", "agent-7c1d.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "notes.txt"), "{}\n");

        var found = ClaudeTranscriptLocator.Find("/home/me/my_app", _config);

        Assert.Equal(
            [("aaa.jsonl", "aaa", false), ("bbb.jsonl", "bbb", false), ("agent-7c1d.jsonl", "bbb", true)],
            found.Select(f => (Path.GetFileName(f.Path), f.ClaudeSessionId, f.IsSubagent)));
        Assert.Empty(ClaudeTranscriptLocator.Find("/home/me/other", _config));
    }

    [Fact]
    public void Every_jsonl_at_any_depth_is_found_even_under_a_session_folder_without_its_main_file()
    {
        // Issue 12: transcripts in <id>/ were skipped unless <id>.jsonl existed, and ccusage reads them all (30% of the tokens).
        var project = Path.Combine(_config, "projects", "-home-me-my-app");
        Directory.CreateDirectory(Path.Combine(project, "ccc", "subagents", "deeper"));
        File.WriteAllText(Path.Combine(project, "aaa.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "ccc", "subagents", "agent-1.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "ccc", "subagents", "deeper", "agent-2.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "ccc", "subagents", "agent-1.meta.json"), "{}\n");
        if (!OperatingSystem.IsWindows())
        {
            // Hidden (dot) names are left out, as ccusage's glob leaves them.
            Directory.CreateDirectory(Path.Combine(project, ".cache"));
            File.WriteAllText(Path.Combine(project, ".cache", "x.jsonl"), "{}\n");
            File.WriteAllText(Path.Combine(project, "ccc", ".hidden.jsonl"), "{}\n");
        }

        var found = ClaudeTranscriptLocator.Find("/home/me/my_app", _config);

        Assert.Equal(
            [("aaa.jsonl", "aaa", false), ("agent-1.jsonl", "ccc", true), ("agent-2.jsonl", "ccc", true)],
            found.Select(f => (Path.GetFileName(f.Path), f.ClaudeSessionId, f.IsSubagent)));
    }

    [Fact]
    public void Symbolic_links_are_not_followed_out_of_the_project_folder()
    {
        if (OperatingSystem.IsWindows()) return; // creating links needs a privilege there
        var project = Path.Combine(_config, "projects", "-home-me-my-app");
        var outside = Path.Combine(_config, "outside");
        Directory.CreateDirectory(Path.Combine(project, "aaa"));
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "aaa.jsonl"), "{}\n");
        File.CreateSymbolicLink(Path.Combine(project, "linked.jsonl"), Path.Combine(outside, "secret.jsonl"));
        Directory.CreateSymbolicLink(Path.Combine(project, "bbb"), outside);
        Directory.CreateSymbolicLink(Path.Combine(project, "aaa", "sub"), outside);

        var found = ClaudeTranscriptLocator.Find("/home/me/my_app", _config);

        Assert.Equal(["aaa.jsonl"], found.Select(f => Path.GetFileName(f.Path)));
    }

    [Fact]
    public void Several_config_directories_and_every_project_are_read()
    {
        var second = _config + "-second";
        try
        {
            Directory.CreateDirectory(Path.Combine(_config, "projects", "-home-me-my-app"));
            Directory.CreateDirectory(Path.Combine(_config, "projects", "-home-me-other"));
            Directory.CreateDirectory(Path.Combine(second, "projects", "-home-me-my-app"));
            File.WriteAllText(Path.Combine(_config, "projects", "-home-me-my-app", "aaa.jsonl"), "{}\n");
            File.WriteAllText(Path.Combine(_config, "projects", "-home-me-other", "bbb.jsonl"), "{}\n");
            File.WriteAllText(Path.Combine(second, "projects", "-home-me-my-app", "ccc.jsonl"), "{}\n");

            Assert.Equal([_config, second], ClaudeTranscriptLocator.ConfigDirectories($"{_config}, {second}"));
            Assert.Equal(["aaa.jsonl", "ccc.jsonl"], ClaudeTranscriptLocator.Find("/home/me/my_app", $"{_config},{second}").Select(f => Path.GetFileName(f.Path)));
            Assert.Equal(["aaa.jsonl", "bbb.jsonl", "ccc.jsonl"], ClaudeTranscriptLocator.FindAll($"{_config},{second}").Select(f => Path.GetFileName(f.Path)));
        }
        finally
        {
            if (Directory.Exists(second)) Directory.Delete(second, recursive: true);
        }
    }

    [Fact]
    public async Task A_pipe_named_like_a_transcript_is_left_out_instead_of_hanging_the_import()
    {
        // Issue 11 #17: a FIFO named *.jsonl made `import claude` wait forever for a writer.
        var project = Path.Combine(_config, "projects", "-home-me-my-app");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "real.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(project, "empty.jsonl"), "");
        var pipe = Path.Combine(project, "pipe.jsonl");
        if (!OperatingSystem.IsWindows()) MakeFifo(pipe);

        var found = await Task.Run(() => ClaudeTranscriptLocator.Find("/home/me/my_app", _config)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["real.jsonl"], found.Select(f => Path.GetFileName(f.Path)));
    }

    internal static void MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public void The_config_directory_comes_from_CLAUDE_CONFIG_DIR_when_not_given()
    {
        var before = Environment.GetEnvironmentVariable(ClaudeTranscriptLocator.ConfigDirVariable);
        try
        {
            Environment.SetEnvironmentVariable(ClaudeTranscriptLocator.ConfigDirVariable, _config);
            Assert.Equal(Path.Combine(_config, "projects", "-home-me-my-app"), ClaudeTranscriptLocator.ProjectDirectory("/home/me/my_app"));
            Assert.Equal("/elsewhere", ClaudeTranscriptLocator.ConfigDirectory("/elsewhere"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ClaudeTranscriptLocator.ConfigDirVariable, before);
        }
    }
}
