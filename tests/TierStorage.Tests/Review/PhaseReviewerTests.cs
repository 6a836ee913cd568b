using TierStorage.Contracts;
using TierStorage.Engine.Review;
using Xunit;

namespace TierStorage.Tests.Review;

public sealed class PhaseReviewerTests : IDisposable
{
    private readonly ReviewFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private async Task<PhaseReview> ReviewAsync(int phase = 1)
    {
        await using var db = await _fixture.BuildAsync();
        return await PhaseReviewer.ReviewAsync(db, ReviewFixture.Policy(), phase, CancellationToken.None);
    }

    /// <summary>The review of a phase of its own (beside the fixture's) holding one session with <paramref name="events"/>.</summary>
    private static async Task<PhaseReview> ReviewOfOneSessionAsync(Engine.Catalog.CatalogDatabase db, int phase, IReadOnlyList<SessionEvent> events)
    {
        var ct = CancellationToken.None;
        var sessionId = "s" + phase.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await db.EnsurePhaseAsync(phase, null, ReviewFixture.T0, ct);
        await db.InsertSessionAsync(new Engine.Catalog.SessionRecord { SessionId = sessionId, Phase = phase, StartedAt = ReviewFixture.T0, State = SessionState.Completed }, ct);
        await db.AddEventsAsync(sessionId, events, 0, ct);
        return await PhaseReviewer.ReviewAsync(db, ReviewFixture.Policy(), phase, ct);
    }

    /// <summary>Nearest rank, computed by SQL: the value at offset ceil(p·n) - 1 of the ascending durations.</summary>
    private long SqlPercentile(string type, double p)
    {
        var n = Convert.ToInt64(_fixture.Query($"SELECT COUNT(*) FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND type = '{type}' AND duration_ms >= 0")[0][0]);
        var offset = (long)Math.Ceiling(p / 100 * n) - 1;
        return Convert.ToInt64(_fixture.Query($"SELECT duration_ms FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND type = '{type}' AND duration_ms >= 0 ORDER BY duration_ms LIMIT 1 OFFSET {offset}")[0][0]);
    }

    [Fact]
    public async Task Latency_percentiles_are_nearest_rank_and_match_an_independent_sql_computation()
    {
        var review = await ReviewAsync();
        var tool = review.Latency.Single(l => l.Operation == "tool_call");
        // By hand: 100,150,200,300,400,500,1000,8000 (the -50 is skew and left out): p50 = 4th = 300, p95 = p99 = 8th.
        Assert.Equal(8, tool.EventCount);
        Assert.Equal(300, tool.P50Ms);
        Assert.Equal(8000, tool.P95Ms);
        Assert.Equal(10650 / 8.0, tool.AverageMs);
        Assert.Equal(5000, tool.TargetMs);
        Assert.False(tool.Met);
        foreach (var row in review.Latency)
        {
            Assert.Equal(SqlPercentile(row.Operation, 50), row.P50Ms);
            Assert.Equal(SqlPercentile(row.Operation, 95), row.P95Ms);
            Assert.Equal(SqlPercentile(row.Operation, 99), row.P99Ms);
            var avg = Convert.ToDouble(_fixture.Query($"SELECT AVG(duration_ms) FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND type = '{row.Operation}' AND duration_ms >= 0")[0][0]);
            Assert.Equal(avg, row.AverageMs, 6);
        }
        var agent = review.Latency.Single(l => l.Operation == "agent_invocation");
        Assert.True(agent.Met);
        Assert.Equal(40000, review.Latency.Single(l => l.Operation == "llm_call").P95Ms);
    }

    [Fact]
    public void DurationColumn_percentiles_match_sorting_for_one_to_a_hundred()
    {
        var column = new DurationColumn();
        foreach (var v in Enumerable.Range(1, 100).Reverse()) column.Add(v);
        Assert.Equal(50, column.Percentile(50));
        Assert.Equal(95, column.Percentile(95));
        Assert.Equal(99, column.Percentile(99));
        Assert.Equal(100, column.Percentile(100));
        Assert.Equal(50.5, column.Average);
    }

    [Fact]
    public async Task Tokens_and_cost_per_model_follow_the_price_table()
    {
        var review = await ReviewAsync();
        // sonnet-4-5 ($3 in, $15 out, $3.75 5m write, $0.30 read; above 200k prompt: $6 / $22.50, cache x2):
        //   1000*3 + 500*15 + 2000*0.3 + 400*3.75 = 12,600 ; 150000*6 + 1000*22.5 + 60000*0.6 = 958,500  → $0.9711
        // haiku-4-5 ($1 in, $5 out, 1h write $2): 10000*1 + 2000*5 + 1000*2 = 22,000 → $0.022
        var sonnet = review.Tokens.Single(m => m.Model == "claude-sonnet-4-5-20250929");
        Assert.Equal(0.9711m, sonnet.CostUsd);
        Assert.Equal(0.022m, review.Tokens.Single(m => m.Model == "claude-haiku-4-5").CostUsd);
        var mystery = review.Tokens.Single(m => m.Model == "mystery-model");
        Assert.False(mystery.Priced);
        Assert.Equal(0m, mystery.CostUsd);
        Assert.Equal(0.9931m, review.Total.CostUsd);
        Assert.False(review.Total.Priced);
        Assert.Contains(review.Warnings, w => w.Contains("mystery-model", StringComparison.Ordinal));
        Assert.Equal(4, review.TaskCount);
        Assert.Equal(Math.Round(0.9931m / 4, 6), review.CostPerTask);

        foreach (var row in _fixture.Query("""
            SELECT model, COUNT(*), TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(cache_write_tokens), TOTAL(cache_read_tokens)
            FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND model IS NOT NULL GROUP BY model
            """))
        {
            var model = review.Tokens.Single(m => m.Model == (string)row[0]!);
            Assert.Equal(Convert.ToInt64(row[1]), model.Calls);
            Assert.Equal(Convert.ToInt64(row[2]), model.InputTokens);
            Assert.Equal(Convert.ToInt64(row[3]), model.OutputTokens);
            Assert.Equal(Convert.ToInt64(row[4]), model.CacheWriteTokens);
            Assert.Equal(Convert.ToInt64(row[5]), model.CacheReadTokens);
        }
        Assert.Equal(161100, review.Total.InputTokens);
        Assert.DoesNotContain(review.Tokens, m => m.Model.StartsWith("claude-opus", StringComparison.Ordinal));
        Assert.Equal([215000L, 13000L], review.Daily.Select(d => d.Tokens));
        Assert.Equal([0.9711m, 0.022m], review.Daily.Select(d => d.CostUsd));
    }

    [Fact]
    public void Prices_match_by_longest_prefix_and_cache_write_1h_is_read_from_data()
    {
        var prices = ReviewFixture.Policy().Pricing.Models;
        Assert.Same(prices["claude-opus-4-1"], PhaseReviewer.FindPrice(prices, "claude-opus-4-1-20250805"));
        Assert.Same(prices["claude-opus-4-5"], PhaseReviewer.FindPrice(prices, "CLAUDE-OPUS-4-5"));
        Assert.Null(PhaseReviewer.FindPrice(prices, "gpt-4"));
        Assert.Equal(400, PhaseReviewer.CacheWrite1hTokens("""{"cache_creation":{"ephemeral_1h_input_tokens":400}}""", 1000));
        Assert.Equal(1000, PhaseReviewer.CacheWrite1hTokens("""{"cache_ttl":"1h"}""", 1000));
        Assert.Equal(0, PhaseReviewer.CacheWrite1hTokens("""{"note":"1h later"}""", 1000));
        Assert.Equal(0, PhaseReviewer.CacheWrite1hTokens("not json 1h", 1000));
        // 600 at 5m ($3.75) + 400 at 1h ($6) on sonnet-4-5: 2250 + 2400 = 4650 per million.
        Assert.Equal(0.00465m, PhaseReviewer.Cost(prices["claude-sonnet-4-5"], 0, 0, 0, 1000, 400));
    }

    [Fact]
    public async Task Agent_and_tool_tables_match_sql()
    {
        var review = await ReviewAsync();
        var coder = review.Agents.Single(a => a.Agent == "coder");
        Assert.Equal(2, coder.Tasks);
        Assert.Equal(15000, coder.AverageDurationMs);
        Assert.Equal(0.5, coder.SuccessRate);
        Assert.Equal(214900, coder.Tokens);
        Assert.Equal(107450, coder.TokensPerTask);
        var tester = review.Agents.Single(a => a.Agent == "tester");
        Assert.Equal(1.0, tester.SuccessRate);
        Assert.Equal(13000, tester.TokensPerTask);

        foreach (var row in _fixture.Query("""
            SELECT tool, COUNT(*), AVG(CASE WHEN duration_ms >= 0 THEN duration_ms END), AVG(success)
            FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND type = 'tool_call' GROUP BY tool
            """))
        {
            var tool = review.Tools.Single(t => t.Tool == (string)row[0]!);
            Assert.Equal(Convert.ToInt64(row[1]), tool.Calls);
            Assert.Equal(Convert.ToDouble(row[2]), tool.AverageDurationMs!.Value, 6);
            Assert.Equal(Convert.ToDouble(row[3]), tool.SuccessRate!.Value, 6);
        }
        Assert.Equal(["Read", "Bash", "Edit"], review.Tools.Select(t => t.Tool));
        Assert.Equal(13.0 / 16, review.SuccessRate);
        Assert.Equal(Convert.ToDouble(_fixture.Query("SELECT AVG(success) FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND success IS NOT NULL")[0][0]), review.SuccessRate!.Value, 9);
    }

    [Fact]
    public async Task Errors_are_ranked_with_files_and_a_fix_rate()
    {
        var review = await ReviewAsync();
        Assert.Equal(["CompileError", "AgentFailed", "Timeout"], review.Errors.Select(e => e.ErrorType));
        var compile = review.Errors[0];
        Assert.Equal(2, compile.Occurrences);
        Assert.Equal(["b.cs", "c.cs"], compile.Files);
        // b.cs: Bash fails, then Bash (same tool, same task) succeeds on b.cs → fixed. c.cs: Edit fails, only a Read with
        // another task succeeds later → not fixed. 1 of 2.
        Assert.Equal(0.5, compile.FixSuccessRate);
        Assert.Null(review.Errors.Single(e => e.ErrorType == "Timeout").FixSuccessRate);
        Assert.Equal(Convert.ToInt64(_fixture.Query("SELECT COUNT(*) FROM events e JOIN sessions s USING(session_id) WHERE s.phase = 1 AND (success = 0 OR type = 'error')")[0][0]), review.ErrorCount);
    }

    [Fact]
    public async Task Bottlenecks_are_the_slowest_fifth_grouped_by_type_and_tool()
    {
        var review = await ReviewAsync();
        // 15 timed operations → the slowest ceil(3) = 40000, 20000, 10000; threshold 10000.
        Assert.Equal(10000, review.BottleneckThresholdMs);
        var sql = _fixture.Query("""
            WITH ops AS (SELECT type, tool, duration_ms FROM events e JOIN sessions s USING(session_id)
                         WHERE s.phase = 1 AND duration_ms >= 0 AND type NOT IN ('session_start', 'session_end'))
            SELECT type, tool, COUNT(*), AVG(duration_ms) FROM ops
            WHERE duration_ms >= (SELECT duration_ms FROM ops ORDER BY duration_ms DESC LIMIT 1 OFFSET 2)
            GROUP BY type, tool ORDER BY COUNT(*) * AVG(duration_ms) DESC
            """);
        Assert.Equal(sql.Count, review.Bottlenecks.Count);
        for (var i = 0; i < sql.Count; i++)
        {
            Assert.Equal((string)sql[i][0]!, review.Bottlenecks[i].Operation);
            Assert.Equal((string?)sql[i][1], review.Bottlenecks[i].Tool);
            Assert.Equal(Convert.ToInt64(sql[i][2]), review.Bottlenecks[i].EventCount);
            Assert.Equal(Convert.ToDouble(sql[i][3]), review.Bottlenecks[i].AverageMs, 6);
        }
        Assert.Equal(20000, review.Bottlenecks.Single(b => b.Operation == "agent_invocation").P95Ms);
    }

    [Fact]
    public async Task Recommendations_cite_the_figures_that_triggered_them()
    {
        var review = await ReviewAsync();
        Assert.Contains(review.Recommendations, r => r.Contains("tool_call p95 is 8,000 ms", StringComparison.Ordinal) && r.Contains("5,000 ms target", StringComparison.Ordinal));
        Assert.Contains(review.Recommendations, r => r.Contains("llm_call p95 is 40,000 ms", StringComparison.Ordinal));
        // Cache reads 62,000 of 161,100 + 62,000 prompt tokens = 27.8%.
        Assert.Contains(review.Recommendations, r => r.Contains("27.8%", StringComparison.Ordinal));
        Assert.Contains(review.Recommendations, r => r.Contains("llm_call: 1 of the slowest 20%", StringComparison.Ordinal) && r.Contains("40,000 ms", StringComparison.Ordinal));
        Assert.Contains(review.Recommendations, r => r.Contains("1 event(s) have negative durations", StringComparison.Ordinal));
        Assert.Contains("19 events", review.ExecutiveSummary, StringComparison.Ordinal);
        Assert.Contains("81.3%", review.ExecutiveSummary, StringComparison.Ordinal);
        Assert.Contains("$0.9931", review.ExecutiveSummary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_recorded_without_invocations_is_measured_by_the_tasks_and_outcomes_of_its_events()
    {
        await using var db = await _fixture.BuildAsync();
        var t = ReviewFixture.T0;
        var main = Assert.Single((await ReviewOfOneSessionAsync(db, 5,
        [
            new SessionEvent { Timestamp = t.AddSeconds(1), Type = SessionEventType.ToolCall, Tool = "Edit", Agent = "main", Task = "t1", Success = true, DurationMs = 10 },
            new SessionEvent { Timestamp = t.AddSeconds(2), Type = SessionEventType.ToolCall, Tool = "Bash", Agent = "main", Task = "t2", Success = false, DurationMs = 10 },
            new SessionEvent { Timestamp = t.AddSeconds(3), Type = SessionEventType.ToolCall, Tool = "Bash", Agent = "main", Task = "t2", Success = true, DurationMs = 10 },
            new SessionEvent { Timestamp = t.AddSeconds(4), Type = SessionEventType.LlmCall, Agent = "main", Model = "claude-sonnet-4-5", Tokens = new TokenUsage { Input = 300, Output = 100 } },
        ])).Agents);

        // By hand: tasks t1, t2; outcomes 2 of 3; 400 tokens over 2 tasks; no invocation, so no duration.
        Assert.Equal(("main", 2L, 2.0 / 3, 400L, 200.0), (main.Agent, main.Tasks, main.SuccessRate!.Value, main.Tokens, main.TokensPerTask!.Value));
        Assert.Null(main.AverageDurationMs);
    }

    [Fact]
    public async Task A_model_without_a_price_in_the_policy_is_costed_from_the_cost_its_recorder_gave_and_otherwise_flagged_unpriced()
    {
        await using var db = await _fixture.BuildAsync();
        var t = ReviewFixture.T0;
        var review = await ReviewOfOneSessionAsync(db, 6,
        [
            new SessionEvent { Timestamp = t.AddSeconds(1), Type = SessionEventType.LlmCall, Model = "future-model", Tokens = new TokenUsage { Input = 10 }, Data = new Dictionary<string, object?> { ["cost_usd"] = 0.25 } },
            new SessionEvent { Timestamp = t.AddSeconds(2), Type = SessionEventType.LlmCall, Model = "future-model", Tokens = new TokenUsage { Input = 10 }, Data = new Dictionary<string, object?> { ["cost_usd"] = 0.5 } },
            new SessionEvent { Timestamp = t.AddSeconds(3), Type = SessionEventType.LlmCall, Model = "other-model", Tokens = new TokenUsage { Input = 10 } },
        ]);

        var future = review.Tokens.Single(m => m.Model == "future-model");
        Assert.Equal((0.75m, true), (future.CostUsd, future.Priced));
        Assert.False(review.Tokens.Single(m => m.Model == "other-model").Priced);
        Assert.Contains(review.Warnings, w => w.Contains("other-model", StringComparison.Ordinal) && !w.Contains("future-model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Clock_skew_and_unknown_types_are_reported_not_fatal()
    {
        var review = await ReviewAsync();
        Assert.Equal(1, review.SkewedEvents);
        Assert.Equal(1, review.UnknownTypeEvents);
        Assert.Equal(19, review.EventCount);
        Assert.Contains(review.Warnings, w => w.StartsWith("Clock skew: 1 event(s)", StringComparison.Ordinal));
        Assert.Contains(review.Warnings, w => w.Contains("telepathy", StringComparison.Ordinal));
        Assert.DoesNotContain(review.Latency, l => l.P50Ms < 0);
    }

    [Fact]
    public async Task A_phase_with_no_sessions_or_no_events_gives_a_clear_message()
    {
        await using var db = await _fixture.BuildAsync();
        var missing = await PhaseReviewer.ReviewAsync(db, ReviewFixture.Policy(), 9, CancellationToken.None);
        Assert.Equal(0, missing.Sessions);
        Assert.Contains(missing.Warnings, w => w.Contains("no sessions", StringComparison.Ordinal));
        Assert.Contains("no sessions", missing.ExecutiveSummary, StringComparison.Ordinal);
        Assert.Empty(missing.Latency);
        Assert.Null(missing.SuccessRate);
        Assert.Null(missing.CostPerTask);

        var empty = await PhaseReviewer.ReviewAsync(db, ReviewFixture.Policy(), 3, CancellationToken.None);
        Assert.Equal("Empty", empty.PhaseName);
        Assert.Equal(1, empty.Sessions);
        Assert.Contains(empty.Warnings, w => w.Contains("no events", StringComparison.Ordinal));
        Assert.Single(empty.Recommendations);
        var markdown = PhaseReportWriter.RenderMarkdown(empty);
        Assert.Contains("no events", markdown, StringComparison.Ordinal);
        Assert.Contains("no data", System.Xml.Linq.XDocument.Parse(SvgChart.Histogram("Latency", [])).Root!.Value, StringComparison.Ordinal);
    }
}
