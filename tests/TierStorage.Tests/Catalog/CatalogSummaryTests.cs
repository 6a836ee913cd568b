using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using Xunit;
using static TierStorage.Tests.Catalog.CatalogFixture;

namespace TierStorage.Tests.Catalog;

/// <remarks>Runs on SQLite; <see cref="PostgresCatalogSummaryTests"/> runs every test again on a real PostgreSQL.</remarks>
public class CatalogSummaryTests : IDisposable
{
    private readonly CatalogFixture _fixture;

    public CatalogSummaryTests() : this(null) { }

    protected CatalogSummaryTests(Postgres.PostgresServerFixture? server) => _fixture = new CatalogFixture(server);

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Summary_matches_hand_computed_figures()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.InsertSessionAsync(new SessionRecord { SessionId = "session_other", Phase = 1, StartedAt = T0 }, CancellationToken.None);
        TokenUsage Tokens(long i, long o, long r, long w) => new() { Input = i, Output = o, CacheRead = r, CacheWrite = w };
        await db.AddEventsAsync("session_a",
        [
            new() { Timestamp = T0, Type = SessionEventType.SessionStart },
            new() { Timestamp = T0.AddSeconds(1), Type = SessionEventType.LlmCall, Agent = "planner", Task = "plan", Model = "sonnet", DurationMs = 100, Tokens = Tokens(10, 20, 30, 40), Success = true },
            new() { Timestamp = T0.AddSeconds(2), Type = SessionEventType.LlmCall, Agent = "coder", Task = "build", Model = "sonnet", DurationMs = 300, Tokens = Tokens(1, 2, 3, 4), Success = true },
            new() { Timestamp = T0.AddSeconds(3), Type = SessionEventType.ToolCall, Agent = "coder", Task = "build", Tool = "Bash", DurationMs = 50, Success = false, ErrorType = "exit_code", File = "build.ps1" },
            new() { Timestamp = T0.AddSeconds(4), Type = SessionEventType.ToolCall, Agent = "coder", Task = "build", Tool = "Edit", DurationMs = 5, Success = true, File = "src/a.cs" },
            new() { Timestamp = T0.AddSeconds(5), Type = SessionEventType.Error, Agent = "coder", ErrorType = "exit_code", File = "src/a.cs" },
            new() { Timestamp = T0.AddSeconds(6), Type = SessionEventType.Error, ErrorType = "timeout" },
            new() { Timestamp = T0.AddSeconds(7), Type = SessionEventType.Decision, Task = "use SQLite" },
            new() { Timestamp = T0.AddSeconds(8), Type = SessionEventType.Decision, Data = new Dictionary<string, object?> { ["summary"] = "keep WAL", ["why"] = "readers" } },
            new() { Timestamp = T0.AddSeconds(9), Type = SessionEventType.SessionEnd },
        ], 0, CancellationToken.None);
        await db.AddEventsAsync("session_other", [new() { Timestamp = T0.AddDays(1), Type = SessionEventType.Error, ErrorType = "timeout", Tokens = Tokens(1000, 0, 0, 0) }], 0, CancellationToken.None);

        var summary = await db.SummarizeSessionAsync("session_a", CancellationToken.None);

        Assert.Equal("session_a", summary.SessionId);
        Assert.Equal(10, summary.EventCount);
        Assert.Equal(T0, summary.FirstEventAt);
        Assert.Equal(T0.AddSeconds(9), summary.LastEventAt);
        Assert.Equal(Tokens(11, 22, 33, 44), summary.Tokens);
        // Failures: the failed Bash call and the two error events.
        Assert.Equal(3, summary.FailureCount);
        Assert.Equal([new("build", 3, 355, 1), new("plan", 1, 100, 0), new("use SQLite", 1, 0, 0)], summary.Tasks);
        Assert.Equal([new("coder", 4, 355, 2), new("planner", 1, 100, 0)], summary.Agents);
        Assert.Equal([new("Bash", 1, 50, 1), new("Edit", 1, 5, 0)], summary.Tools);
        Assert.Equal([new NameCount("sonnet", 2, 400, 0)], summary.Models);
        Assert.Equal([new("src/a.cs", 2, 5, 1), new("build.ps1", 1, 50, 1)], summary.Files);
        Assert.Equal(2, summary.Errors.Count);
        Assert.Equal("exit_code", summary.Errors[0].ErrorType);
        Assert.Equal(2, summary.Errors[0].Count);
        Assert.Equal(["build.ps1", "src/a.cs"], summary.Errors[0].Files);
        Assert.Equal("timeout", summary.Errors[1].ErrorType);
        Assert.Equal(1, summary.Errors[1].Count);
        Assert.Empty(summary.Errors[1].Files);
        Assert.Equal(["use SQLite", "keep WAL"], summary.Decisions);
    }

    [Fact]
    public async Task Summary_of_a_session_without_events_is_empty()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var summary = await db.SummarizeSessionAsync("session_a", CancellationToken.None);
        Assert.Equal(0, summary.EventCount);
        Assert.Null(summary.FirstEventAt);
        Assert.Equal(0, summary.Tokens.Total);
        Assert.Empty(summary.Tasks);
        Assert.Empty(summary.Errors);
        Assert.Empty(summary.Decisions);
    }

    [Fact]
    public async Task Decisions_are_capped_at_twenty()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.AddEventsAsync("session_a",
            Enumerable.Range(0, 30).Select(i => new SessionEvent { Timestamp = T0.AddSeconds(i), Type = SessionEventType.Decision, Task = $"d{i}" }).ToList(),
            0, CancellationToken.None);
        var summary = await db.SummarizeSessionAsync("session_a", CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"d{i}"), summary.Decisions);
    }
}

/// <summary>Every test of <see cref="CatalogSummaryTests"/> on the PostgreSQL provider.</summary>
[Collection(Postgres.PostgresCollection.Name)]
public sealed class PostgresCatalogSummaryTests(Postgres.PostgresServerFixture server) : CatalogSummaryTests(server);
