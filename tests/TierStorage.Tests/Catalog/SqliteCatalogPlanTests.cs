using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using Xunit;
using static TierStorage.Tests.Catalog.CatalogFixture;

namespace TierStorage.Tests.Catalog;

/// <summary>What only the SQLite provider has: its query plans (EXPLAIN QUERY PLAN) and its commit hook. The PostgreSQL
/// catalog's plans are held by the PostgreSQL scale test (PostgresCatalogScaleTests).</summary>
public sealed class SqliteCatalogPlanTests : IDisposable
{
    private readonly CatalogFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static SessionEvent Event(int second, SessionEventType type = SessionEventType.ToolCall) => new()
    {
        Timestamp = T0.AddSeconds(second),
        SessionId = "session_a",
        Type = type,
    };

    [Theory]
    [InlineData("session+type", "ix_events_session_ts")]
    [InlineData("session", "ix_events_session_ts")]
    [InlineData("tool", "ix_events_tool_ts")]
    [InlineData("agent", "ix_events_agent_ts")]
    [InlineData("type", "ix_events_type_ts")]
    [InlineData("since", "ix_events_ts")]
    public async Task Filtered_queries_search_an_index_without_a_scan_or_a_sort(string filter, string index)
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var query = filter switch
        {
            "session+type" => new SessionEventQuery { SessionId = "session_a", Type = SessionEventType.Error, Limit = 50 },
            "session" => new SessionEventQuery { SessionId = "session_a", Descending = true, Limit = 20 },
            "tool" => new SessionEventQuery { Tool = "Bash", Limit = 100 },
            "agent" => new SessionEventQuery { Agent = "planner" },
            "type" => new SessionEventQuery { Type = SessionEventType.Decision },
            _ => new SessionEventQuery { Since = T0, Until = T0.AddHours(1) },
        };

        var plan = string.Join(" | ", await db.ExplainEventQueryAsync(query, CancellationToken.None));

        Assert.Contains($"USING INDEX {index}", plan);
        Assert.DoesNotContain("SCAN", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }

    [Fact]
    public async Task A_phase_query_searches_the_phase_sessions_by_index()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var plan = string.Join(" | ", await db.ExplainEventQueryAsync(new SessionEventQuery { Phase = 1, Limit = 20 }, CancellationToken.None));
        Assert.Contains("ix_sessions_phase", plan);
        Assert.DoesNotContain("SCAN e", plan);
    }

    [Fact]
    public async Task A_batch_of_10000_events_is_committed_once()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var commits = 0;
        SQLitePCL.raw.sqlite3_commit_hook(db.Connection.Handle, _ => { commits++; return 0; }, null);

        await db.AddEventsAsync("session_a", Enumerable.Range(0, 10_000).Select(i => Event(i)).ToList(), 1, CancellationToken.None);

        SQLitePCL.raw.sqlite3_commit_hook(db.Connection.Handle, null, null);
        Assert.Equal(1, commits);
        Assert.Equal(10_000, (await db.GetSessionAsync("session_a", CancellationToken.None))!.EventCount);
    }
}
