using System.Diagnostics;
using System.Globalization;
using TierStorage.Bench;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

/// <summary>
/// `catalog-writers`: W writer PROCESSES appending to one catalog at once (issue 14), as many machines' agents do with a
/// shared PostgreSQL catalog, or many agents on one machine with the SQLite file. Each child (`catalog-writer`) opens the
/// catalog through CatalogDatabase.OpenAsync(CatalogLocation), inserts its own session, says it is ready, waits for the
/// start signal (so .NET start-up and the open are not timed), then appends its events through AddEventsAsync in batches
/// of B, timing each call. Each event carries its writer and sequence number in Id ("w007-000123") and data, so a test
/// can check afterwards that nothing was lost, doubled or put into another writer's session
/// (tests/TierStorage.Tests/Catalog/Postgres/PostgresCatalogScaleTests.cs runs this with 50 writers).
/// Prints one markdown row: events/s of all writers (from the first start to the last end), per writer, and the p50/p99
/// latency of one AddEventsAsync call over all writers' calls, with the writers' CPU seconds.
/// </summary>
internal static class CatalogWritersBench
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static string SessionOf(int writer) => CatalogFill.WriterSessionOf(writer);

    private static string IdOf(int writer, int sequence) => CatalogFill.WriterEventIdOf(writer, sequence);

    /// <summary>The parent: starts the writers, releases them at once, gathers their figures.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var catalog = Option(args, "--catalog") ?? throw new ArgumentException("--catalog <connection string | sqlite file> is required");
        var writers = int.Parse(Option(args, "--writers") ?? "10", CultureInfo.InvariantCulture);
        var events = int.Parse(Option(args, "--events") ?? "2000", CultureInfo.InvariantCulture);
        var batch = int.Parse(Option(args, "--batch") ?? "1", CultureInfo.InvariantCulture);
        var label = Option(args, "--label") ?? "catalog";
        var passwordEnv = Option(args, "--password-env");
        var first = int.Parse(Option(args, "--first-writer") ?? "1", CultureInfo.InvariantCulture);
        var dir = Path.Combine(Path.GetTempPath(), "ts-bench-writers-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            var children = new List<Process>();
            for (var w = first; w < first + writers; w++)
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "TierStorage.Bench.dll"), "catalog-writer", "--catalog", catalog,
                             "--writer", w.ToString(CultureInfo.InvariantCulture), "--events", events.ToString(CultureInfo.InvariantCulture),
                             "--batch", batch.ToString(CultureInfo.InvariantCulture), "--dir", dir })
                    start.ArgumentList.Add(arg);
                if (passwordEnv is not null) { start.ArgumentList.Add("--password-env"); start.ArgumentList.Add(passwordEnv); }
                children.Add(Process.Start(start)!);
            }
            var outputs = children.Select(c => (Out: c.StandardOutput.ReadToEndAsync(), Err: c.StandardError.ReadToEndAsync())).ToList();

            // Every writer has opened the catalog and inserted its session before any appends.
            var deadline = Stopwatch.StartNew();
            while (Enumerable.Range(first, writers).Any(w => !File.Exists(Path.Combine(dir, $"ready-{w}"))))
            {
                if (children.Any(c => c.HasExited && c.ExitCode != 0) || deadline.Elapsed > TimeSpan.FromMinutes(5)) break;
                await Task.Delay(20);
            }
            await File.WriteAllTextAsync(Path.Combine(dir, "go"), "");
            var failed = 0;
            for (var i = 0; i < children.Count; i++)
            {
                await children[i].WaitForExitAsync();
                if (children[i].ExitCode != 0)
                {
                    failed++;
                    Console.Error.WriteLine($"writer {first + i} exited with {children[i].ExitCode}: {await outputs[i].Err}{await outputs[i].Out}");
                }
            }
            if (failed > 0) return 1;

            long firstStart = long.MaxValue, lastEnd = 0;
            double cpu = 0;
            var latencies = new List<double>();
            var perWriter = new List<double>();
            for (var w = first; w < first + writers; w++)
            {
                var lines = await File.ReadAllLinesAsync(Path.Combine(dir, $"result-{w}"));
                var head = lines[0].Split(' ');
                long started = long.Parse(head[0], CultureInfo.InvariantCulture), ended = long.Parse(head[1], CultureInfo.InvariantCulture);
                firstStart = Math.Min(firstStart, started);
                lastEnd = Math.Max(lastEnd, ended);
                cpu += double.Parse(head[2], CultureInfo.InvariantCulture);
                perWriter.Add(events / TimeSpan.FromTicks((ended - started) * TimeSpan.TicksPerMicrosecond).TotalSeconds);
                latencies.AddRange(lines.Skip(1).Select(l => double.Parse(l, CultureInfo.InvariantCulture)));
            }
            var wall = (lastEnd - firstStart) / 1e6;
            latencies.Sort();
            perWriter.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {writers} | {batch} | {(double)writers * events / wall:N0} | {perWriter[perWriter.Count / 2]:N0} | {Percentile(latencies, 0.50):0.00} | {Percentile(latencies, 0.99):0.00} | {wall:0.00} | {cpu:0.0} |"));
            return 0;
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    public static string Header =>
        "| catalog | writers | events per call | events/s, all writers | events/s per writer (median) | p50 ms per call | p99 ms per call | wall s | writers' CPU s |\n" +
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |";

    /// <summary>One writer process: open, own session, ready, wait for go, append, report.</summary>
    public static async Task<int> WriterAsync(string[] args)
    {
        var catalog = Option(args, "--catalog")!;
        var writer = int.Parse(Option(args, "--writer")!, CultureInfo.InvariantCulture);
        var events = int.Parse(Option(args, "--events")!, CultureInfo.InvariantCulture);
        var batch = int.Parse(Option(args, "--batch")!, CultureInfo.InvariantCulture);
        var dir = Option(args, "--dir")!;
        var location = CatalogLocation.Parse(catalog, Option(args, "--password-env"));
        var session = SessionOf(writer);
        await using var db = await CatalogDatabase.OpenAsync(location, dir, CancellationToken.None);
        await db.InsertSessionAsync(new SessionRecord { SessionId = session, Phase = 1 + writer % 5, StartedAt = T0, State = SessionState.Active }, CancellationToken.None);
        var all = Enumerable.Range(0, events).Select(i => Event(writer, i)).ToList();
        await File.WriteAllTextAsync(Path.Combine(dir, $"ready-{writer}"), "");
        while (!File.Exists(Path.Combine(dir, "go"))) await Task.Delay(5);

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var latencies = new List<double>(events / batch + 1);
        var started = DateTimeOffset.UtcNow;
        var startTicks = Stopwatch.GetTimestamp();
        for (var i = 0; i < events; i += batch)
        {
            var slice = all.GetRange(i, Math.Min(batch, events - i));
            var callStarted = Stopwatch.GetTimestamp();
            await db.AddEventsAsync(session, slice, i + slice.Count, CancellationToken.None);
            latencies.Add(Stopwatch.GetElapsedTime(callStarted).TotalMilliseconds);
        }
        var elapsed = Stopwatch.GetElapsedTime(startTicks);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        var startMicros = started.ToUnixTimeMilliseconds() * 1000;
        var lines = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{startMicros} {startMicros + (long)(elapsed.TotalMilliseconds * 1000)} {cpu:0.000}") };
        lines.AddRange(latencies.Select(l => l.ToString("0.0000", CultureInfo.InvariantCulture)));
        await File.WriteAllLinesAsync(Path.Combine(dir, $"result-{writer}.tmp"), lines);
        File.Move(Path.Combine(dir, $"result-{writer}.tmp"), Path.Combine(dir, $"result-{writer}"));
        return 0;
    }

    /// <summary>A tool call as the hook records it, with the writer and sequence number in its Id and data.</summary>
    private static SessionEvent Event(int writer, int sequence) => new()
    {
        SessionId = SessionOf(writer),
        Timestamp = T0.AddMilliseconds(sequence),
        Type = SessionEventType.ToolCall,
        Agent = "coder",
        Tool = (sequence % 5) switch { 0 => "Read", 1 => "Edit", 2 => "Bash", 3 => "Grep", _ => "Write" },
        Task = "task-" + (sequence % 40),
        DurationMs = sequence % 997,
        Success = sequence % 17 != 0,
        File = $"src/file{sequence % 300}.cs",
        Id = IdOf(writer, sequence),
        Data = new Dictionary<string, object?> { ["writer"] = (long)writer, ["seq"] = (long)sequence },
    };

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    internal static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
