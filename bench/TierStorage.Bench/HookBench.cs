using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;

/// <summary>`hook`: what a Claude Code hook call costs the agent — in-process (the engine's work) and as the process
/// Claude Code actually starts (`dotnet tierstorage.dll hook`, .NET start-up included).</summary>
internal static class HookBench
{
    public static async Task RunAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-hook-" + Guid.NewGuid().ToString("N"));
        await TierWorkspace.InitializeAsync(root, null, false, CancellationToken.None);
        await using (var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = root }, CancellationToken.None))
        {
            await ClaudeHookRecorder.RecordAsync(ws, Payload("SessionStart", 0), CancellationToken.None);
            var samples = new List<double>();
            for (var i = 0; i < 2_200; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await ClaudeHookRecorder.RecordAsync(ws, Payload(i % 2 == 0 ? "PreToolUse" : "PostToolUse", i / 2), CancellationToken.None);
                if (i >= 200) samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            Console.WriteLine($"| hook call in process (PreToolUse / PostToolUse alternating, workspace open) | {Percentiles(samples)} | no noticeable delay |");
        }

        var cli = Path.Combine(AppContext.BaseDirectory, "tierstorage.dll");
        if (!File.Exists(cli))
        {
            Console.WriteLine($"(process timing skipped: {cli} not found)");
        }
        else
        {
            var pre = new List<double>();
            var post = new List<double>();
            for (var i = 0; i < 42; i++)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { cli, "hook", "--workspace", root }) start.ArgumentList.Add(a);
                var started = Stopwatch.GetTimestamp();
                using var p = Process.Start(start)!;
                await p.StandardInput.WriteAsync(Payload(i % 2 == 0 ? "PreToolUse" : "PostToolUse", 10_000 + i / 2));
                p.StandardInput.Close();
                await p.WaitForExitAsync();
                if (i >= 2) (i % 2 == 0 ? pre : post).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            Console.WriteLine($"| PreToolUse hook as Claude Code runs it (`dotnet tierstorage.dll hook`, process start included; notes the time only) | {Percentiles(pre)} | no noticeable delay |");
            Console.WriteLine($"| PostToolUse hook as Claude Code runs it (process start, policy, catalog, one event appended) | {Percentiles(post)} | no noticeable delay |");
        }
        Directory.Delete(root, true);
    }

    private static string Payload(string hook, int n) =>
        $$$"""{"session_id":"bench","transcript_path":"/tmp/t.jsonl","cwd":"/src","hook_event_name":"{{{hook}}}","tool_name":"Edit","tool_use_id":"toolu_{{{n}}}","tool_input":{"file_path":"src/f{{{n % 50}}}.cs"},"tool_response":{"success":true}}""";

    private static string Percentiles(List<double> samples)
    {
        samples.Sort();
        double P(double p) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(p * samples.Count) - 1)];
        return $"p50 {P(0.50):0.000} ms, p99 {P(0.99):0.000} ms, max {samples[^1]:0.000} ms (n={samples.Count})";
    }
}
