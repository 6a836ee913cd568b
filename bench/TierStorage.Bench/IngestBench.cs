using System.Diagnostics;
using System.Text;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;

/// <summary>`ingest`: Import-ClaudeSession on a long transcript — the first import, then a re-import after Claude Code appended
/// a few lines (which must cost those lines, not the session).</summary>
internal static class IngestBench
{
    public static async Task RunAsync(string[] args)
    {
        var lines = args.SkipWhile(a => a != "--lines").Skip(1).Select(int.Parse).FirstOrDefault(100_000);
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-ingest-" + Guid.NewGuid().ToString("N"));
        await TierWorkspace.InitializeAsync(root, null, false, CancellationToken.None);
        var transcript = Path.Combine(root, "5e551011-0000-4000-8000-000000000000.jsonl");
        await File.WriteAllTextAsync(transcript, Lines(0, lines));
        var waiting = new CompletionOptions { IdleTime = TimeSpan.FromDays(3650) };
        await using (var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = root }, CancellationToken.None))
        {
            var started = Stopwatch.GetTimestamp();
            var first = await ImportAsync(ws, transcript, waiting);
            var firstMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Console.WriteLine($"| first import of a {lines:N0}-line transcript | {firstMs:0} ms ({first.EventsImported:N0} events, {first.BytesRead / 1048576.0:0.0} MB) | |");

            var samples = new List<double>();
            for (var run = 0; run < 20; run++)
            {
                await File.AppendAllTextAsync(transcript, Lines(lines + run * 10, 10));
                started = Stopwatch.GetTimestamp();
                var again = await ImportAsync(ws, transcript, waiting);
                samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (again.LinesRead != 10) throw new InvalidOperationException($"re-import read {again.LinesRead} lines, not 10");
            }
            samples.Sort();
            Console.WriteLine($"| re-import after 10 lines were appended (each read 10 lines) | p50 {samples[samples.Count / 2]:0.0} ms, max {samples[^1]:0.0} ms (n={samples.Count}) | ~10 lines of work |");

            // What every re-import did before migration 8 to rebuild its set of imported ids: read the whole session back.
            started = Stopwatch.GetTimestamp();
            long readBack = 0;
            await foreach (var _ in ws.GetEventsAsync(new TierStorage.Contracts.SessionEventQuery { SessionId = first.SessionId }, CancellationToken.None)) readBack++;
            Console.WriteLine($"| for scale: reading the session's {readBack:N0} events back (the former per-re-import dedupe pass) | {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms | |");

            started = Stopwatch.GetTimestamp();
            var completed = await ImportAsync(ws, transcript, new CompletionOptions { Force = true });
            Console.WriteLine($"| -Complete of that session (session_end, handoff over {lines + 200:N0} lines' events) | {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms (completed: {completed.SessionCompleted}) | |");
        }
        Directory.Delete(root, true);
    }

    private static async Task<TierStorage.Contracts.ClaudeImportResult> ImportAsync(TierWorkspace ws, string transcript, CompletionOptions completion)
    {
        TierStorage.Contracts.ClaudeImportResult? last = null;
        await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, transcript, null, null, 1, completion, CancellationToken.None)) last = r;
        return last!;
    }

    /// <summary>Pairs of lines as Claude Code writes them: an assistant reply with usage and a tool use, then the tool's result.</summary>
    private static string Lines(int from, int count)
    {
        var text = new StringBuilder();
        var start = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        for (var i = from; i < from + count; i++)
        {
            var at = start.AddMilliseconds(i * 700L).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
            var tool = "toolu_" + (i / 2);
            text.Append(i % 2 == 0
                ? $$$"""{"parentUuid":"u-{{{i - 1}}}","isSidechain":false,"sessionId":"5e551011-0000-4000-8000-000000000000","message":{"id":"msg_{{{i}}}","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"{{{tool}}}","name":"Read","input":{"file_path":"/src/f{{{i % 300}}}.cs"}}],"usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":20000,"output_tokens":40}},"requestId":"req_{{{i}}}","type":"assistant","uuid":"u-{{{i}}}","timestamp":"{{{at}}}"}"""
                : $$$"""{"parentUuid":"u-{{{i - 1}}}","isSidechain":false,"sessionId":"5e551011-0000-4000-8000-000000000000","type":"user","message":{"role":"user","content":[{"tool_use_id":"{{{tool}}}","type":"tool_result","content":"ok"}]},"uuid":"u-{{{i}}}","timestamp":"{{{at}}}"}""");
            text.Append('\n');
        }
        return text.ToString();
    }
}
