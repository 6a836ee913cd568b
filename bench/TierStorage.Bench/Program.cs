using System.Diagnostics;
using System.Globalization;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Workspace;

// Prints the foundation's speed figures as markdown rows for bench/RESULTS.md.
// Usage: dotnet run -c Release --project bench/TierStorage.Bench -- [append|bulk|snapshot|query|all|package|archive|usage|hook|encryption|noop] [--events N] [--log-mb N --runs N --level N] [--sessions N --log-kb N] [--objects N] [--cli PATH]
// `noop`: a process that starts and returns, the floor of the hook figures.
// `catalog-writers --catalog <connection | file> [--password-env VAR] --writers W --events E --batch B [--label L]`: W writer processes
// at once (CatalogWritersBench); `catalog-queries --catalog <connection> [--password-env VAR] --events N`: Get-SessionEvent's
// queries on a large PostgreSQL catalog (CatalogQueriesBench). bench/whole/catalog-writers.sh runs both.
if (args is ["noop"]) return 0;
if (args is ["catalog-writer", ..]) return await CatalogWritersBench.WriterAsync(args);
if (args is ["catalog-writers", ..])
{
    if (!args.Contains("--no-header")) Console.WriteLine(CatalogWritersBench.Header);
    return await CatalogWritersBench.RunAsync(args);
}
if (args is ["catalog-queries", ..]) return await CatalogQueriesBench.RunAsync(args);
var what = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var queryEvents = args.SkipWhile(a => a != "--events").Skip(1).Select(int.Parse).FirstOrDefault(1_000_000);
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
Console.WriteLine($"| figure | result | target |");
Console.WriteLine($"| --- | --- | --- |");
if (what is "append" or "all") await Bench.AppendOneAsync();
if (what is "bulk" or "all") await Bench.BulkAsync();
if (what is "snapshot" or "all") await Bench.SnapshotAsync();
if (what is "query" or "all") await Bench.QueryAsync(queryEvents);
if (what is "ingest") await IngestBench.RunAsync(args); // [--lines N]: Import-ClaudeSession on a transcript of N lines (default 100,000)
if (what is "package") await PackageBench.RunAsync(args);
if (what is "archive") await ArchiveBench.RunArchiveAsync(args);
if (what is "usage") await ArchiveBench.RunUsageAsync(args);
if (what is "encryption") await EncryptionBench.RunAsync(args); // [--log-mb N] [--runs N]: backup and restore, encrypted beside unencrypted
if (what is "hook") await HookBench.RunAsync(args.SkipWhile(a => a != "--cli").Skip(1).FirstOrDefault());
return 0;

internal static class Bench
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<(TierWorkspace Workspace, string Root)> NewWorkspaceAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-" + Guid.NewGuid().ToString("N"));
        await TierWorkspace.InitializeAsync(root, null, false, None);
        var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = root }, None);
        await ws.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None);
        return (ws, root);
    }

    private static SessionEvent ToolCall(int i) => new()
    {
        Type = SessionEventType.ToolCall,
        Agent = "coder",
        Tool = (i % 5) switch { 0 => "Read", 1 => "Edit", 2 => "Bash", 3 => "Grep", _ => "Write" },
        Task = "task-" + (i % 40),
        DurationMs = i % 997,
        Success = i % 17 != 0,
        File = $"src/file{i % 300}.cs",
    };

    private static string Percentiles(List<double> samples)
    {
        samples.Sort();
        double P(double p) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(p * samples.Count) - 1)];
        return $"p50 {P(0.50):0.000} ms, p99 {P(0.99):0.000} ms, max {samples[^1]:0.000} ms (n={samples.Count})";
    }

    public static async Task AppendOneAsync()
    {
        var (ws, root) = await NewWorkspaceAsync();
        await using (ws)
        {
            var samples = new List<double>();
            for (var i = 0; i < 12_000; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await using (var appender = ws.OpenEventAppender(null))
                {
                    await appender.AppendAsync(ToolCall(i), None);
                    await appender.FlushAsync(None);
                }
                if (i >= 2_000) samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            Console.WriteLine($"| append one event (lock + log line + catalog transaction) | {Percentiles(samples)} | p99 < 1 ms |");
        }
        Directory.Delete(root, true);
    }

    public static async Task BulkAsync()
    {
        const int count = 300_000;
        var (ws, root) = await NewWorkspaceAsync();
        await using (ws)
        {
            var events = Enumerable.Range(0, count).Select(ToolCall).ToList();
            var started = Stopwatch.GetTimestamp();
            await using (var appender = ws.OpenEventAppender(null))
                foreach (var e in events) await appender.AppendAsync(e, None);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine($"| bulk append, typed events through one appender | {count / seconds:N0} events/s ({count:N0} in {seconds:0.00} s) | >= 100,000 events/s |");

            var sessionId = (await ws.StartSessionAsync(new StartSessionRequest { CompleteActive = true, SessionId = "session_bulk_json" }, None)).SessionId;
            var lines = events.Select(e => EventJson.Serialize(e with { SessionId = sessionId, Timestamp = DateTimeOffset.UtcNow })).ToList();
            started = Stopwatch.GetTimestamp();
            await using (var appender = ws.OpenEventAppender(null))
                foreach (var line in lines) await appender.AppendAsync(EventJson.Parse(line, sessionId), None);
            seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine($"| bulk append, JSON lines parsed then appended (CLI --stdin path) | {count / seconds:N0} events/s | >= 100,000 events/s |");
        }
        Directory.Delete(root, true);
    }

    public static async Task SnapshotAsync()
    {
        var (ws, root) = await NewWorkspaceAsync();
        await using (ws)
        {
            var json = new StringBuilder("{\"tasks\":[");
            for (var i = 0; json.Length < 5 * 1024 * 1024; i++)
                json.Append(i == 0 ? "" : ",").Append($"{{\"id\":{i},\"title\":\"task {i} refactor module {i % 97}\",\"state\":\"{(i % 3 == 0 ? "done" : "open")}\",\"files\":[\"src/a{i % 50}.cs\",\"src/b{i % 70}.cs\"],\"notes\":\"{Guid.NewGuid()} {new string('n', i % 40)}\"}}");
            var document = json.Append("]}").ToString();
            var saves = new List<double>();
            for (var i = 0; i < 105; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await ws.SaveSnapshotAsync(null, document, None);
                if (i >= 5) saves.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            Console.WriteLine($"| snapshot of {document.Length / 1024.0 / 1024.0:0.0} MB JSON, gzip + fsync + rename | {Percentiles(saves)} | < 50 ms |");

            var reads = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var latest = await ws.ReadSnapshotAsync(null, null, null, None);
                reads.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (latest.Json!.Length != document.Length) throw new InvalidOperationException("snapshot round trip differs");
            }
            Console.WriteLine($"| recovery: Get-SessionSnapshot -Latest of that snapshot (read, verify SHA-256, gunzip, parse) | {Percentiles(reads)} | < 1 s |");
        }
        Directory.Delete(root, true);
    }

    public static async Task QueryAsync(int total)
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-q-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await using (var catalog = await CatalogDatabase.OpenAsync(Path.Combine(root, "agent_metrics.db"), None))
        {
            const int sessions = 20;
            var perSession = total / sessions;
            var build = Stopwatch.GetTimestamp();
            for (var s = 0; s < sessions; s++)
            {
                var id = $"session_2026010{s / 10}_{s:00}0000";
                await catalog.EnsurePhaseAsync(1, null, start, None);
                await catalog.InsertSessionAsync(new SessionRecord { SessionId = id, Phase = 1, StartedAt = start.AddHours(s), State = SessionState.Completed }, None);
                for (var offset = 0; offset < perSession; offset += 10_000)
                {
                    var batch = Enumerable.Range(offset, Math.Min(10_000, perSession - offset))
                        .Select(i => ToolCall(i) with { SessionId = id, Timestamp = start.AddHours(s).AddMilliseconds(i * 10), Type = i % 4 == 0 ? SessionEventType.LlmCall : SessionEventType.ToolCall })
                        .ToList();
                    await catalog.AddEventsAsync(id, batch, 0, None);
                }
            }
            Console.WriteLine($"| build a {total:N0}-event catalog (AddEventsAsync, 10,000 per transaction) | {Stopwatch.GetElapsedTime(build).TotalSeconds:0.0} s | (setup) |");

            var queries = new (string Name, SessionEventQuery Query)[]
            {
                ("session + type, newest 50", new SessionEventQuery { SessionId = "session_20260100_070000", Type = SessionEventType.ToolCall, Descending = true, Limit = 50 }),
                ("tool + time window, first 100", new SessionEventQuery { Tool = "Bash", Since = start.AddHours(11), Until = start.AddHours(11).AddMinutes(5), Limit = 100 }),
                ("agent + type since, first 20", new SessionEventQuery { Agent = "coder", Type = SessionEventType.LlmCall, Since = start.AddHours(15), Limit = 20 }),
            };
            foreach (var (name, query) in queries)
            {
                var samples = new List<double>();
                var rows = 0;
                for (var i = 0; i < 1_100; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    rows = 0;
                    await foreach (var _ in catalog.QueryEventsAsync(query, None)) rows++;
                    if (i >= 100) samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                Console.WriteLine($"| indexed query on {total:N0} events: {name} ({rows} rows, streamed) | {Percentiles(samples)} | < 1 ms |");
            }
        }
        Directory.Delete(root, true);
    }
}
