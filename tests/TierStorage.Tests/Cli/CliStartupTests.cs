using System.Diagnostics;
using System.Reflection;
using TierStorage.Cli;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>
/// Start-up (issue 12): <c>--version</c> is answered before the command line is parsed, and a command loads only the
/// assemblies it uses. Assembly loads are seen in a `tierstorage` process of its own (this process has loaded
/// everything the other tests use) through <see cref="global::StartupHook"/>, which lists them when the process exits.
/// </summary>
public sealed class CliStartupTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Version_answered_early_is_what_the_parser_prints_for_the_command()
    {
        var early = new StringWriter();
        var exitCode = CliApp.TryRunWithoutParser(["--version"], early.Write);

        // The parser prints the entry assembly's informational version: tierstorage's in its own process (in this one it
        // would be the test host's). The early answer is the build's constant, which must be that same attribute.
        Assert.Equal(ExitCodes.Success, exitCode);
        var version = typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version + Environment.NewLine, early.ToString());
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--help")]
    [InlineData("--version --json")]
    [InlineData("--json --version")]
    [InlineData("session --version")]
    [InlineData("-v")]
    [InlineData("--VERSION")]
    [InlineData("version")]
    public void Any_other_command_line_goes_to_the_parser(string commandLine)
    {
        var early = new StringWriter();

        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.Null(CliApp.TryRunWithoutParser(args, early.Write));
        Assert.Equal("", early.ToString());
    }

    [Fact]
    public async Task Version_with_other_arguments_is_still_the_parsers_usage_error()
    {
        var run = await CliRunner.RunAsync("--version", "--json");

        CliRunner.AssertExit(ExitCodes.Usage, run);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task The_built_command_prints_its_version_without_loading_the_parser_or_the_engine()
    {
        var run = await RunCliProcessAsync("--version");

        Assert.True(run.ExitCode == 0, run.ToString());
        var version = typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version + Environment.NewLine, run.Stdout);
        Assert.Equal("", run.Stderr);
        Assert.Contains("tierstorage", run.Loaded);
        Assert.DoesNotContain("System.CommandLine", run.Loaded);
        Assert.DoesNotContain("TierStorage.Engine", run.Loaded);
        Assert.DoesNotContain("System.Console", run.Loaded);
    }

    [Fact]
    public async Task Folder_tier_commands_load_no_cloud_sdk()
    {
        // The embedded default policy: folder tiers under TIERSTORAGE_DATA, no cloud account.
        string[][] commands =
        [
            ["init"],
            ["session", "start", "--phase", "0", "--id", "session_startup_1"],
            ["event", "add", "--type", "tool_call", "--tool", "Read"],
            ["session", "complete"],
            ["run"],
            ["session", "list"],
            ["tier", "test"],
            ["tier", "usage"],
            ["--help"],
        ];
        foreach (var command in commands)
        {
            var run = await RunCliProcessAsync([.. command, "--workspace", _temp.Workspace]);

            Assert.True(run.ExitCode == 0, $"{string.Join(' ', command)}: {run}");
            Assert.Contains("tierstorage", run.Loaded);
            Assert.Contains("System.CommandLine", run.Loaded);
            var cloud = run.Loaded.Where(name => name.StartsWith("AWSSDK", StringComparison.Ordinal)
                || name.StartsWith("Google.", StringComparison.Ordinal) || name == "Newtonsoft.Json").ToList();
            Assert.True(cloud.Count == 0, $"{string.Join(' ', command)} loaded {string.Join(", ", cloud)}");
        }
        // The check saw the engine at work: the later commands opened the workspace (YAML policy, SQLite catalog).
        var list = await RunCliProcessAsync("session", "list", "--workspace", _temp.Workspace);
        Assert.Contains("session_startup_1", list.Stdout);
        Assert.Contains("YamlDotNet", list.Loaded);
        Assert.Contains("Microsoft.Data.Sqlite", list.Loaded);
    }

    private sealed record ProcessRun(int ExitCode, string Stdout, string Stderr, IReadOnlyList<string> Loaded)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}\n--- loaded\n{string.Join(", ", Loaded)}";
    }

    /// <summary>The built `tierstorage` command (copied beside the tests by the project reference) in a process of its own.</summary>
    private async Task<ProcessRun> RunCliProcessAsync(params string[] args)
    {
        var assemblyLog = Path.Combine(_temp.Root, "loaded-" + Guid.NewGuid().ToString("N") + ".txt");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tierstorage.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_STARTUP_HOOKS"] = typeof(global::StartupHook).Assembly.Location;
        start.Environment[global::StartupHook.LogVariable] = assemblyLog;
        start.Environment["TIERSTORAGE_DATA"] = Path.Combine(_temp.Root, "data");
        start.Environment.Remove("TIERSTORAGE_WORKSPACE");
        start.Environment.Remove("TIERSTORAGE_POLICY");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        var loaded = File.Exists(assemblyLog) ? File.ReadAllLines(assemblyLog) : [];
        return new ProcessRun(process.ExitCode, await stdout, await stderr, loaded);
    }
}
