using System.Text.Json;
using TierStorage.Cli;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary><c>tierstorage collection</c> end to end against a folder backup tier in the test's temp directory.</summary>
public sealed class CliCollectionTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Source => Path.Combine(_temp.Root, "configs");

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--workspace", _temp.Workspace]);

    private async Task InitAsync()
    {
        Directory.CreateDirectory(Path.Combine(_temp.Root, "nas"));
        Directory.CreateDirectory(Path.Combine(Source, "agents"));
        File.WriteAllText(Path.Combine(Source, "settings.json"), "{\"theme\":\"dark\"}");
        File.WriteAllText(Path.Combine(Source, "agents", "reviewer.md"), "# reviewer");
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
                path: {Path.Combine(_temp.Root, "nas", "backup")}
            collections:
              - name: configs
                path: {Source}
                keep: {"{"} last: 1 {"}"}
            """);
    }

    [Fact]
    public async Task Backup_versions_compare_restore_and_forget_work_from_the_command_line()
    {
        await InitAsync();

        var first = await Run("collection", "backup");
        CliRunner.AssertExit(ExitCodes.Success, first);
        Assert.Contains("configs@", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("No collection is due", (await Run("collection", "backup")).Stdout, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(Source, "settings.json"), "{\"theme\":\"light\"}");
        var compare = await Run("collection", "compare", "configs");
        Assert.Equal(["~ settings.json"], compare.StdoutLines);
        CliRunner.AssertExit(ExitCodes.Success, await Run("collection", "backup", "configs"));

        var versions = await Run("collection", "versions", "configs", "--json");
        var ids = versions.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("versionId").GetString()).ToList();
        Assert.Equal(2, ids.Count);

        var restored = Path.Combine(_temp.Root, "restored");
        var restore = await Run("collection", "restore", "configs", "--version-id", ids[0]!, "--destination", restored);
        CliRunner.AssertExit(ExitCodes.Success, restore);
        Assert.Equal("{\"theme\":\"dark\"}", File.ReadAllText(Path.Combine(restored, "settings.json")));

        var plan = await Run("collection", "forget", "configs", "--what-if");
        Assert.Contains($"Planned Delete configs@{ids[0]}", plan.Stdout, StringComparison.Ordinal);
        var movePlan = await Run("move", "--what-if", "--json");
        Assert.Contains(movePlan.StdoutLines, l => l.Contains($"configs@{ids[0]}", StringComparison.Ordinal) && l.Contains("Planned", StringComparison.Ordinal));
        CliRunner.AssertExit(ExitCodes.Success, await Run("move"));
        Assert.Single((await Run("collection", "versions", "configs", "--json")).StdoutLines);

        var unknown = await Run("collection", "restore", "nope");
        CliRunner.AssertExit(ExitCodes.NotFound, unknown);
        Assert.Contains("CollectionNotFound", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_backs_up_due_collections_and_cleans_up_and_usage_cleanup_and_run_what_if_show_it_first()
    {
        await InitAsync();
        File.AppendAllText(Path.Combine(_temp.Workspace, "tierstorage.yaml"), """

                cleanup:
                  - { include: ['*.md'], older_than_days: 30 }
            """);
        var old = Path.Combine(Source, "agents", "reviewer.md");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddDays(-45));

        var plan = await Run("run", "--what-if");
        CliRunner.AssertExit(ExitCodes.Success, plan);
        Assert.Contains(plan.StdoutLines, l => l.StartsWith("Planned", StringComparison.Ordinal) && l.Contains("Copy", StringComparison.Ordinal) && l.Contains("configs", StringComparison.Ordinal));
        var usage = await Run("collection", "usage", "configs", "--json");
        var held = usage.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("kind").GetString() == "CleanupHeld");
        Assert.Equal(1, held.GetProperty("fileCount").GetInt32());
        Assert.Contains("match no file", (await Run("collection", "cleanup", "configs", "--what-if")).Stdout, StringComparison.Ordinal);

        var run = await Run("run");
        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.Contains("collections: 1 backed up", run.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(old), run.Stdout);
        Assert.True(File.Exists(Path.Combine(Source, "settings.json")));
        Assert.Contains("match no file", (await Run("collection", "cleanup", "configs")).Stdout, StringComparison.Ordinal);
    }
}
