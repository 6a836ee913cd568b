using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Policy;

namespace TierStorage.Tests.Review;

/// <summary>
/// A catalog with phase 1 (two sessions, the figures the tests check), phase 2 (one session whose events must not leak
/// into phase 1), phase 3 (a session with no events); phase 9 does not exist. Expected answers are worked out by hand in
/// the tests, or read back with plain SQL through <see cref="Raw"/>.
/// </summary>
public sealed class ReviewFixture : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 5, 0, 0, TimeSpan.Zero);

    public ReviewFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "ts-review-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        DbPath = Path.Combine(Directory, "analytics", "agent_metrics.db");
    }

    public string Directory { get; }
    public string DbPath { get; }

    public static TierPolicy Policy() => new() { Pricing = new PricingPolicy { Models = PolicyDefaults.ModelPrices() } };

    public async Task<CatalogDatabase> BuildAsync()
    {
        var ct = CancellationToken.None;
        var db = await CatalogDatabase.OpenAsync(DbPath, ct);
        await db.EnsurePhaseAsync(1, "Build", T0, ct);
        await db.EnsurePhaseAsync(3, "Empty", T0, ct);
        foreach (var (id, phase) in new[] { ("s1", 1), ("s2", 1), ("s3", 2), ("s4", 3) })
            await db.InsertSessionAsync(new SessionRecord { SessionId = id, Phase = phase, StartedAt = T0, State = SessionState.Completed }, ct);

        var t = 0;
        SessionEvent Ev(SessionEventType type, string? tool = null, long? ms = null, bool? ok = null, string? file = null, string? task = null,
            string? error = null, string? agent = null, string? model = null, TokenUsage? tokens = null, int dayOffset = 0,
            IReadOnlyDictionary<string, object?>? data = null) => new()
        {
            Timestamp = T0.AddDays(dayOffset).AddSeconds(++t),
            Type = type, Tool = tool, DurationMs = ms, Success = ok, File = file, Task = task, ErrorType = error,
            Agent = agent, Model = model, Tokens = tokens, Data = data,
        };

        var s1 = new List<SessionEvent>
        {
            Ev(SessionEventType.SessionStart),
            Ev(SessionEventType.ToolCall, "Read", 100, true, "a.cs", "read-code"),
            Ev(SessionEventType.ToolCall, "Read", 200, true, "a.cs", "read-code"),
            Ev(SessionEventType.ToolCall, "Bash", 8000, false, "b.cs", "build", "CompileError"),
            Ev(SessionEventType.ToolCall, "Edit", 500, false, "c.cs", null, "CompileError"),
            Ev(SessionEventType.ToolCall, "Read", 150, true, "c.cs", "other"),
            Ev(SessionEventType.ToolCall, "Bash", 1000, true, "b.cs", "build"),
            Ev(SessionEventType.ToolCall, "Read", -50, true, "a.cs", "read-code"),
            Ev(SessionEventType.Error, error: "Timeout"),
            Ev(SessionEventType.AgentInvocation, ms: 10000, ok: true, agent: "coder", task: "build"),
            Ev(SessionEventType.AgentInvocation, ms: 20000, ok: false, agent: "coder", task: "build", error: "AgentFailed"),
            Ev(SessionEventType.LlmCall, ms: 3000, ok: true, agent: "coder", model: "claude-sonnet-4-5-20250929",
                tokens: new TokenUsage { Input = 1000, Output = 500, CacheRead = 2000, CacheWrite = 400 }),
            Ev(SessionEventType.LlmCall, ms: 40000, ok: true, agent: "coder", model: "claude-sonnet-4-5-20250929",
                tokens: new TokenUsage { Input = 150000, Output = 1000, CacheRead = 60000 }),
            Ev(SessionEventType.LlmCall, ms: 100, ok: true, model: "mystery-model", tokens: new TokenUsage { Input = 100 }),
        };
        var s2 = new List<SessionEvent>
        {
            Ev(SessionEventType.ToolCall, "Read", 300, true, "d.cs", "read-code"),
            Ev(SessionEventType.ToolCall, "Read", 400, true, "d.cs", "read-code"),
            Ev(SessionEventType.AgentInvocation, ms: 5000, ok: true, agent: "tester", task: "test"),
            Ev(SessionEventType.LlmCall, ms: 2000, ok: true, agent: "tester", model: "claude-haiku-4-5", dayOffset: 1,
                tokens: new TokenUsage { Input = 10000, Output = 2000, CacheWrite = 1000 }, data: new Dictionary<string, object?> { ["cache_ttl"] = "1h" }),
        };
        var s3 = new List<SessionEvent>
        {
            Ev(SessionEventType.LlmCall, ms: 999999, ok: false, model: "claude-opus-4-1", tokens: new TokenUsage { Input = 5_000_000 }),
        };
        await db.AddEventsAsync("s1", s1, 0, ct);
        await db.AddEventsAsync("s2", s2, 0, ct);
        await db.AddEventsAsync("s3", s3, 0, ct);

        // A type this version does not know, as a newer recorder might leave it.
        using var raw = Raw();
        using var insert = raw.CreateCommand();
        insert.CommandText = "INSERT INTO events(session_id, ts, type) VALUES ('s2', $ts, 'telepathy')";
        insert.Parameters.AddWithValue("$ts", T0.AddSeconds(500).ToUnixTimeMilliseconds());
        insert.ExecuteNonQuery();
        return db;
    }

    public SqliteConnection Raw()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public List<object?[]> Query(string sql)
    {
        using var connection = Raw();
        return TierStorage.Tests.Catalog.CatalogFixture.Rows(connection, sql);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
