using TierStorage.Cli;
using Xunit;

namespace TierStorage.Tests.Cli;

public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Everything a failed assertion needs to explain itself.</summary>
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the CLI in-process with captured streams, as a shell would with pipes.</summary>
internal static class CliRunner
{
    public static Task<CliRun> RunAsync(params string[] args) => RunWithInputAsync("", args);

    public static async Task<CliRun> RunWithInputAsync(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, new StringReader(stdin), stdout, stderr, CancellationToken.None);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    public static void AssertExit(int expected, CliRun run) =>
        Assert.True(run.ExitCode == expected, $"expected exit {expected}, got {run}");
}

/// <summary>A workspace directory that disappears with the test.</summary>
internal sealed class TempWorkspace : IDisposable
{
    public TempWorkspace()
    {
        Root = Path.Combine(Path.GetTempPath(), "tierstorage-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Workspace = Path.Combine(Root, ".tierstorage");
    }

    public string Root { get; }
    public string Workspace { get; }
    /// <summary>The workspace's namespace on its tiers (workspace.json), the folder its objects live in.</summary>
    public string Namespace => TierStorage.Engine.Workspace.WorkspaceIdentity.Parse(
        File.ReadAllBytes(TierStorage.Engine.Workspace.WorkspaceIdentity.PathIn(Workspace)), "test").Namespace;

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
