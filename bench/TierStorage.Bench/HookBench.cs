using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;

/// <summary>`hook`: what a Claude Code hook call costs the agent — in-process (the engine's work) and as the process
/// Claude Code actually starts (`dotnet tierstorage.dll hook`, .NET start-up included), beside the start of a process
/// that does nothing, which is the floor any hook command has.</summary>
internal static class HookBench
{
    private const string Floor = "floor";
    private const int ProcessRounds = 40;

    /// <param name="cliPath">The tierstorage.dll to time; default the one built beside the bench (another build, such as
    /// the commit before a change, can be timed with the same rounds).</param>
    public static async Task RunAsync(string? cliPath)
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

        var cli = cliPath ?? Path.Combine(AppContext.BaseDirectory, "tierstorage.dll");
        if (!File.Exists(cli))
        {
            Console.WriteLine($"(process timing skipped: {cli} not found)");
        }
        else
        {
            // Round robin, so that other work on the machine weighs on every hook type alike; the first two rounds warm
            // the disk cache and build the redaction cache (what the first hook after a policy edit pays).
            string[] hooks = ["PreToolUse", "PostToolUse", "Stop", "SubagentStop", "UserPromptSubmit", "SessionStart"];
            var samples = hooks.Append(Floor).ToDictionary(h => h, _ => new List<double>());
            for (var round = 0; round < ProcessRounds + 2; round++)
            {
                foreach (var hook in hooks.Append(Floor))
                {
                    var elapsed = hook == Floor
                        ? await TimeProcessAsync([Path.Combine(AppContext.BaseDirectory, "TierStorage.Bench.dll"), "noop"], "")
                        : await TimeProcessAsync([cli, "hook", "--workspace", root], Payload(hook, 10_000 + round));
                    if (round >= 2) samples[hook].Add(elapsed);
                }
            }
            Console.WriteLine($"| bare .NET process start (`dotnet TierStorage.Bench.dll noop`: runtime start, Main returns) | {Percentiles(samples[Floor])} | the floor |");
            foreach (var hook in hooks)
                Console.WriteLine($"| {hook} hook as Claude Code runs it (`dotnet tierstorage.dll hook`, process start included) | {Percentiles(samples[hook])} | about the floor |");
        }
        Directory.Delete(root, true);
    }

    private static async Task<double> TimeProcessAsync(string[] arguments, string stdin)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        var started = Stopwatch.GetTimestamp();
        using var p = Process.Start(start)!;
        await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', arguments)} exited {p.ExitCode}: {await stderr}");
        return elapsed;
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
