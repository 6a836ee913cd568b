using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TierStorage.Bench;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

/// <summary>
/// `catalog-queries`: the queries Get-SessionEvent makes (CatalogDatabase.QueryEventsAsync) on a large PostgreSQL catalog,
/// each timed through the engine (command, round trip, rows read), after a server-side fill to --events events
/// (<see cref="CatalogFill"/>; skipped when the catalog already holds that many). Issue 14's goal: under 5 ms each on
/// 10,000,000 events. Prints one markdown row per query: p50 / p99 over --runs runs (after 10 untimed; at most 20 s of runs for a slow one), and the rows it returned.
/// </summary>
internal static class CatalogQueriesBench
{
    private const int EventsPerSession = 2_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var catalog = CatalogWritersBench.Option(args, "--catalog") ?? throw new ArgumentException("--catalog <connection string> is required");
        var passwordEnv = CatalogWritersBench.Option(args, "--password-env");
        var events = long.Parse(CatalogWritersBench.Option(args, "--events") ?? "10000000", CultureInfo.InvariantCulture);
        var runs = int.Parse(CatalogWritersBench.Option(args, "--runs") ?? "200", CultureInfo.InvariantCulture);
        var location = CatalogLocation.Postgres(catalog, passwordEnv);
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-queries");
        await using var db = await CatalogDatabase.OpenAsync(location, root, CancellationToken.None);

        var builder = new NpgsqlConnectionStringBuilder(catalog);
        if (passwordEnv is not null) builder.Password = Environment.GetEnvironmentVariable(passwordEnv);
        await using (var raw = new NpgsqlConnection(builder.ConnectionString))
        {
            await raw.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM events", raw) { CommandTimeout = 0 };
            var have = (long)(await count.ExecuteScalarAsync())!;
            if (have < events)
            {
                var started = Stopwatch.StartNew();
                await CatalogFill.FillAsync(raw, events, EventsPerSession, CancellationToken.None);
                Console.Error.WriteLine($"filled {events:N0} events in {started.Elapsed.TotalSeconds:0.0} s (insert, index builds, ANALYZE)");
            }
        }

        var sessions = CatalogFill.SessionCount(events, EventsPerSession);
        var lateSession = CatalogFill.SessionOf(sessions * 9 / 10);
        var middle = DateTimeOffset.FromUnixTimeMilliseconds(CatalogFill.BaseTs + sessions / 2 * 3_600_000);
        var queries = new (string Name, SessionEventQuery Query)[]
        {
            ("by session, all its events (2,000)", new() { SessionId = lateSession }),
            ("by session, -First 100", new() { SessionId = lateSession, Limit = 100 }),
            ("by session + type, -Last 20", new() { SessionId = lateSession, Type = SessionEventType.LlmCall, Descending = true, Limit = 20 }),
            ("by tool, -Last 100", new() { Tool = "Bash", Descending = true, Limit = 100 }),
            ("by agent, -First 100", new() { Agent = "agent-7", Limit = 100 }),
            ("by type, -Last 100", new() { Type = SessionEventType.Error, Descending = true, Limit = 100 }),
            ("by time range (one hour), -First 100", new() { Since = middle, Until = middle.AddHours(1), Limit = 100 }),
            ("by phase (a late one), -First 100", new() { Phase = CatalogFill.Phases - 1, Limit = 100 }),
            ("by phase + type, -Last 20", new() { Phase = CatalogFill.Phases / 2, Type = SessionEventType.Decision, Descending = true, Limit = 20 }),
        };
        Console.WriteLine($"| query ({events:N0} events, {sessions:N0} sessions, {CatalogFill.Phases} phases) | p50 ms | p99 ms | rows | runs | goal |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var (name, query) in queries)
        {
            var samples = new List<double>();
            var rows = 0;
            // A query that reads much of the table (the phase query walks an index today) gets 20 s, not --runs runs.
            var budget = Stopwatch.StartNew();
            for (var i = 0; i < runs + 10 && (i < 13 || budget.Elapsed < TimeSpan.FromSeconds(20)); i++)
            {
                var started = Stopwatch.GetTimestamp();
                rows = 0;
                await foreach (var _ in db.QueryEventsAsync(query, CancellationToken.None)) rows++;
                if (i >= 10) samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            samples.Sort();
            double P(double p) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(p * samples.Count) - 1)];
            var met = P(0.50) < 5 ? "met" : "NOT met";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {P(0.50):0.00} | {P(0.99):0.00} | {rows:N0} | {samples.Count} | < 5 ms: {met} (p50) |"));
        }
        return 0;
    }
}
