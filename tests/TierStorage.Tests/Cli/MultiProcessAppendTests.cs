using System.Diagnostics;
using System.Text;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>Parallel agents' hooks are separate processes: the write lock has to hold across processes, not only threads.</summary>
public sealed class MultiProcessAppendTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Four_tierstorage_processes_appending_at_once_lose_and_interleave_nothing()
    {
        CliRunner.AssertExit(0, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        CliRunner.AssertExit(0, await CliRunner.RunAsync("session", "start", "--workspace", _temp.Workspace, "--phase", "1"));
        const int processes = 4, perProcess = 2_000;
        // Lines of 2 KB make a batch span many write() calls, which is where unlocked writers would interleave.
        var pad = new string('x', 2_000);

        var runs = Enumerable.Range(0, processes).Select(p => Task.Run(async () =>
        {
            var input = new StringBuilder();
            for (var i = 0; i < perProcess; i++)
                input.Append($$$"""{"timestamp":"2026-11-23T10:00:00.000Z","type":"tool_call","agent":"proc{{{p}}}","duration_ms":{{{i}}},"data":{"pad":"{{{pad}}}"}}""").Append('\n');
            return await RunCliProcessAsync(input.ToString(), "event", "add", "--stdin", "--workspace", _temp.Workspace);
        })).ToList();
        var results = await Task.WhenAll(runs);

        foreach (var (exitCode, output) in results) Assert.True(exitCode == 0, output);
        var lines = File.ReadAllLines(Path.Combine(_temp.Workspace, "logs", "session_current.jsonl"));
        var events = lines.Select(line => EventJson.Parse(line, null)).Where(e => e.Agent?.StartsWith("proc", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(processes * perProcess, events.Count);
        for (var p = 0; p < processes; p++)
            Assert.Equal(Enumerable.Range(0, perProcess).Select(i => (long?)i), events.Where(e => e.Agent == $"proc{p}").Select(e => e.DurationMs));
        Assert.All(events, e => Assert.Equal(pad, e.Data!["pad"]));

        // --json writes one object per line: the catalog indexed every event exactly once.
        var indexed = await CliRunner.RunAsync("event", "list", "--workspace", _temp.Workspace, "--type", "tool_call", "--json");
        CliRunner.AssertExit(0, indexed);
        Assert.Equal(processes * perProcess, indexed.StdoutLines.Length);
    }

    /// <summary>The built `tierstorage` command (copied beside the tests by the project reference) in a process of its own.</summary>
    private static async Task<(int ExitCode, string Output)> RunCliProcessAsync(string stdin, params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "tierstorage.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(cli);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, $"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
    }
}
