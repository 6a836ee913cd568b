using System.Diagnostics;
using System.Text;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>Issue 11 #6: `event add --stdin` killed mid-way left whole batches stored, and the rerun of the same input
/// stored them again (49,152 duplicates seen).</summary>
public sealed class KilledImportTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Event_add_stdin_killed_mid_way_then_run_again_on_the_same_input_stores_every_event_exactly_once()
    {
        CliRunner.AssertExit(0, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        CliRunner.AssertExit(0, await CliRunner.RunAsync("session", "start", "--workspace", _temp.Workspace, "--phase", "1"));
        const int count = 12 * EventAppender.BatchSize;
        var input = new StringBuilder();
        for (var i = 0; i < count; i++)
            input.Append($$"""{"timestamp":"{{new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero).AddMilliseconds(i / 2):yyyy-MM-ddTHH:mm:ss.fffZ}}","type":"tool_call","tool":"Read","duration_ms":{{i % 3}}}""").Append('\n');
        var log = Path.Combine(_temp.Workspace, "logs", "session_current.jsonl");

        // The first run gets the whole input (stdin left open) and is killed -9 as soon as its first batch reached the log,
        // while it is still writing.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "tierstorage.dll"), "event", "add", "--stdin", "--workspace", _temp.Workspace })
            start.ArgumentList.Add(arg);
        using (var process = Process.Start(start)!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var feeding = process.StandardInput.WriteAsync(input.ToString());
            var deadline = Stopwatch.StartNew();
            while (LineCount(log) <= EventAppender.BatchSize && !process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(5);
            process.Kill();
            await process.WaitForExitAsync();
            try { await feeding; } catch (IOException) { } // the pipe closed under the writer
        }
        var afterKill = LineCount(log) - 1;
        Assert.InRange(afterKill, EventAppender.BatchSize, count - 1);

        var rerun = await CliRunner.RunWithInputAsync(input.ToString(), "event", "add", "--stdin", "--workspace", _temp.Workspace);

        CliRunner.AssertExit(0, rerun);
        var summary = System.Text.RegularExpressions.Regex.Match(rerun.Stdout, @"Added (\d+) events to \S+; skipped (\d+) already stored");
        Assert.True(summary.Success, rerun.ToString());
        Assert.Equal(count, long.Parse(summary.Groups[1].Value) + long.Parse(summary.Groups[2].Value));
        Assert.True(long.Parse(summary.Groups[2].Value) >= afterKill, rerun.ToString());
        var logged = File.ReadAllLines(log).Select(l => EventJson.Parse(l, null)).Where(e => e.Tool == "Read").ToList();
        Assert.Equal(count, logged.Count);
        Assert.Equal(count, logged.Select(e => e.Id).Distinct().Count());
        var indexed = await CliRunner.RunAsync("event", "list", "--workspace", _temp.Workspace, "--type", "tool_call", "--json");
        CliRunner.AssertExit(0, indexed);
        Assert.Equal(count, indexed.StdoutLines.Length);

        // A third run of the same input stores nothing.
        var third = await CliRunner.RunWithInputAsync(input.ToString(), "event", "add", "--stdin", "--workspace", _temp.Workspace);
        Assert.Contains($"Added 0 events", third.Stdout);
        Assert.Contains($"skipped {count} already stored", third.Stdout);
    }

    private static int LineCount(string path)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var lines = 0;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0) lines += buffer.AsSpan(0, read).Count((byte)'\n');
        return lines;
    }
}
