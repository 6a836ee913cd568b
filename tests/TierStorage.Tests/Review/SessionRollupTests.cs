using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Review;
using Xunit;

namespace TierStorage.Tests.Review;

/// <summary>
/// Issue 12: a phase review reads each session's rollup instead of its events. These pin that the figures do not depend on
/// which path ran: a review from stored rollups equals one folded from the events, and both equal figures worked out here
/// independently from the raw rows (percentiles by sorting, fix rates by searching every later event), on randomized phases
/// of overlapping sessions; and that a rollup that no longer stands for its session's events is never used.
/// </summary>
public sealed class SessionRollupTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 5, 0, 0, TimeSpan.Zero);
    private readonly ReviewFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static TierPolicy Policy() => ReviewFixture.Policy();

    private static readonly string[] Tools = ["Read", "Edit", "Bash"];
    private static readonly string[] Files = ["a.cs", "b.cs", "c.cs", "d.cs", "e.cs"];
    private static readonly string[] Tasks = ["t0", "t1", "t2", "t3", "t4", "t5"];
    private static readonly string[] Models = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5", "mystery-model"];
    private static readonly string[] Agents = ["coder", "tester"];
    private static readonly string[] ErrorTypes = ["CompileError", "Timeout", "TestFailed"];

    /// <summary>Sessions that overlap in time (each starts within the first's span), events with equal times now and then, every
    /// kind of field present or missing, negative durations, unknown types, 1-hour cache writes, shared tasks and files so that
    /// errors are fixed across sessions.</summary>
    private static List<SessionEvent> RandomSession(Random random, string sessionId, int count, DateTimeOffset start)
    {
        var events = new List<SessionEvent>();
        var at = start;
        T Pick<T>(T[] values) => values[random.Next(values.Length)];
        T? Maybe<T>(T[] values) where T : class => random.Next(5) == 0 ? null : Pick(values);
        for (var i = 0; i < count; i++)
        {
            if (random.Next(4) != 0) at = at.AddMilliseconds(random.Next(1, 5000));
            var kind = random.Next(100);
            var type = kind < 45 ? SessionEventType.ToolCall : kind < 70 ? SessionEventType.LlmCall : kind < 80 ? SessionEventType.FileOperation
                : kind < 88 ? SessionEventType.AgentInvocation : SessionEventType.Error;
            long? duration = random.Next(10) switch { 0 => null, 1 => -random.Next(1, 100), _ => (long)Math.Exp(random.NextDouble() * 11) };
            bool? success = random.Next(6) switch { 0 => null, 1 => false, _ => true };
            var e = new SessionEvent
            {
                Timestamp = at,
                SessionId = sessionId,
                Type = type,
                Tool = type is SessionEventType.ToolCall or SessionEventType.Error ? Maybe(Tools) : null,
                Task = Maybe(Tasks),
                File = type is SessionEventType.LlmCall ? null : Maybe(Files),
                Agent = random.Next(3) == 0 ? null : Pick(Agents),
                DurationMs = duration,
                Success = type == SessionEventType.Error ? null : success,
                ErrorType = type == SessionEventType.Error || success == false ? Maybe(ErrorTypes) : null,
            };
            if (type == SessionEventType.LlmCall)
            {
                var write = random.Next(3) == 0 ? 0 : random.Next(1, 300_000);
                e = e with
                {
                    Model = random.Next(8) == 0 ? null : Pick(Models),
                    Tokens = new TokenUsage { Input = random.Next(0, 250_000), Output = random.Next(0, 8000), CacheRead = random.Next(0, 100_000), CacheWrite = write },
                    Data = write > 0 && random.Next(2) == 0 ? new Dictionary<string, object?> { [Engine.Ingest.ClaudeTranscriptParser.CacheWrite1hKey] = (long)(write / 2) }
                        : random.Next(10) == 0 ? new Dictionary<string, object?> { ["cost_usd"] = 0.125m } : null,
                };
            }
            events.Add(e);
        }
        return events;
    }

    /// <summary>A phase 1 of <paramref name="sessions"/> overlapping sessions (plus phase 2, whose events must stay out), with some
    /// events of unknown types; each completed session gets its rollup as Complete-Session stores it.</summary>
    private async Task<CatalogDatabase> BuildRandomPhaseAsync(int seed, int sessions, bool rollUp = true)
    {
        var random = new Random(seed);
        var db = await CatalogDatabase.OpenAsync(_fixture.DbPath, None);
        await db.EnsurePhaseAsync(1, "Random", T0, None);
        await db.EnsurePhaseAsync(2, "Other", T0, None);
        for (var s = 0; s < sessions + 1; s++)
        {
            var id = "s" + s.ToString(CultureInfo.InvariantCulture);
            var start = T0.AddMinutes(random.Next(0, 60));
            await db.InsertSessionAsync(new SessionRecord { SessionId = id, Phase = s == sessions ? 2 : 1, StartedAt = start, State = SessionState.Completed }, None);
            await db.AddEventsAsync(id, RandomSession(random, id, random.Next(80, 400), start), 0, None);
        }
        using (var raw = _fixture.Raw())
        using (var insert = raw.CreateCommand())
        {
            insert.CommandText = "INSERT INTO events(session_id, ts, type, task) VALUES ('s0', $ts, 'telepathy', 't9'), ('s1', $ts, 'zz-future', NULL), ('s1', $ts, 'aa-future', NULL)";
            insert.Parameters.AddWithValue("$ts", T0.AddMinutes(30).ToUnixTimeMilliseconds());
            insert.ExecuteNonQuery();
        }
        if (rollUp)
            for (var s = 0; s <= sessions; s++)
                await PhaseReviewer.RollUpSessionAsync(db, Policy(), "s" + s.ToString(CultureInfo.InvariantCulture), None);
        return db;
    }

    private static Task<(PhaseReview Review, PhaseReviewer.RollupUse Use)> ReviewAsync(CatalogDatabase db, TierPolicy? policy = null) =>
        PhaseReviewer.ReviewWithUseAsync(db, policy ?? Policy(), 1, None);

    private static string Json(PhaseReview review) => JsonSerializer.Serialize(review);

    private sealed record Ev(long Id, long Ts, string Type, string? Agent, string? Tool, string? Task, long? Duration, long Input, long Output,
        long CacheRead, long CacheWrite, string? Model, bool? Success, string? ErrorType, string? File, string? Data);

    private List<Ev> PhaseEvents()
    {
        using var raw = _fixture.Raw();
        using var command = raw.CreateCommand();
        command.CommandText = """
            SELECT event_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                   model, success, error_type, file, data
            FROM events e JOIN sessions s USING (session_id) WHERE s.phase = 1 ORDER BY ts, event_id
            """;
        using var reader = command.ExecuteReader();
        var list = new List<Ev>();
        string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        long L(int i) => reader.IsDBNull(i) ? 0 : reader.GetInt64(i);
        while (reader.Read())
            list.Add(new Ev(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), S(3), S(4), S(5), reader.IsDBNull(6) ? null : reader.GetInt64(6),
                L(7), L(8), L(9), L(10), S(11), reader.IsDBNull(12) ? null : reader.GetInt64(12) != 0, S(13), S(14), S(15)));
        return list;
    }

    private static long NearestRank(List<long> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count), 1, sorted.Count) - 1];

    /// <summary>The review's figures worked out from the raw rows without the rollup code: sorting, grouping, and for the fix rate a
    /// search of every later event.</summary>
    private void AssertMatchesEvents(PhaseReview review)
    {
        var events = PhaseEvents();
        Assert.Equal(events.Count, review.EventCount);
        Assert.Equal(events.Where(e => e.Task is not null).Select(e => e.Task).Distinct().Count(), review.TaskCount);
        Assert.Equal(events.Count(e => e.Duration < 0), review.SkewedEvents);
        Assert.Equal(events.Count(e => !Engine.Workspace.EventJson.TypeNames.Contains(e.Type)), review.UnknownTypeEvents);
        var known = events.Where(e => e.Success is not null).ToList();
        Assert.Equal((double)known.Count(e => e.Success == true) / known.Count, review.SuccessRate!.Value, 12);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(events.Min(e => e.Ts)), review.FirstEventAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(events.Max(e => e.Ts)), review.LastEventAt);

        var timed = events.Where(e => e.Duration >= 0 && e.Type is not ("session_start" or "session_end")).ToList();
        foreach (var group in timed.GroupBy(e => e.Type))
        {
            var row = review.Latency.Single(l => l.Operation == group.Key);
            var sorted = group.Select(e => e.Duration!.Value).Order().ToList();
            Assert.Equal(sorted.Count, row.EventCount);
            Assert.Equal(sorted.Average(), row.AverageMs, 9);
            Assert.Equal(NearestRank(sorted, 50), row.P50Ms);
            Assert.Equal(NearestRank(sorted, 95), row.P95Ms);
            Assert.Equal(NearestRank(sorted, 99), row.P99Ms);
        }
        Assert.Equal(timed.Select(e => e.Type).Distinct().Count(), review.Latency.Count);
        var all = timed.Select(e => e.Duration!.Value).OrderDescending().ToList();
        var threshold = all[(int)Math.Ceiling(0.2 * all.Count) - 1];
        Assert.Equal(threshold, review.BottleneckThresholdMs);
        Assert.Equal(timed.Count(e => e.Duration >= threshold), review.Bottlenecks.Sum(b => b.EventCount));

        foreach (var group in events.Where(e => e.Type == "tool_call" && e.Tool is not null).GroupBy(e => e.Tool!))
        {
            var row = review.Tools.Single(t => t.Tool == group.Key);
            Assert.Equal(group.Count(), row.Calls);
            Assert.Equal(group.Where(e => e.Duration >= 0).Average(e => (double)e.Duration!.Value), row.AverageDurationMs!.Value, 9);
        }

        var tokenEvents = events.Where(e => e.Type == "llm_call" || e.Input + e.Output + e.CacheRead + e.CacheWrite > 0).ToList();
        foreach (var group in tokenEvents.GroupBy(e => e.Model ?? "(no model)"))
        {
            var row = review.Tokens.Single(t => t.Model == group.Key);
            Assert.Equal(group.Count(), row.Calls);
            Assert.Equal(group.Sum(e => e.Input), row.InputTokens);
            Assert.Equal(group.Sum(e => e.CacheWrite), row.CacheWriteTokens);
        }
        var prices = Policy().Pricing.Models;
        var cost = tokenEvents.Sum(e => e.Model is not null && PhaseReviewer.FindPrice(prices, e.Model) is { } price
            ? PhaseReviewer.Cost(price, e.Input, e.Output, e.CacheRead, e.CacheWrite, PhaseReviewer.CacheWrite1hTokens(e.Data, e.CacheWrite))
            : PhaseReviewer.RecordedCostUsd(e.Data) ?? 0m);
        Assert.Equal(cost, review.Total.CostUsd);
        Assert.Equal(cost, review.Daily.Sum(d => d.CostUsd));

        foreach (var agent in review.Agents)
        {
            var mine = events.Where(e => e.Agent == agent.Agent).ToList();
            Assert.Equal(mine.Sum(e => e.Input + e.Output + e.CacheRead + e.CacheWrite), agent.Tokens);
            Assert.Equal(mine.Count(e => e.Type == "agent_invocation"), agent.Tasks);
        }

        // Fix rate: an error with a file and a task or tool is fixed when any later event (in any session) succeeds on the same
        // file with the same task or the same tool.
        var failures = events.Where(e => e.Type == "error" || e.Success == false).ToList();
        Assert.Equal(failures.Count, review.ErrorCount);
        var byType = failures.GroupBy(e => e.ErrorType ?? (e.Tool is not null ? $"{e.Tool} failed" : "unspecified")).ToDictionary(g => g.Key, g => g.ToList());
        Assert.NotEmpty(review.Errors);
        foreach (var row in review.Errors)
        {
            var list = byType[row.ErrorType];
            Assert.Equal(list.Count, row.Occurrences);
            var withFile = list.Where(e => e.File is not null).ToList();
            var fixedCount = withFile.Count(err => (err.Task is not null || err.Tool is not null) && events.Any(later =>
                (later.Ts > err.Ts || (later.Ts == err.Ts && later.Id > err.Id)) && later.Type != "error" && later.Success == true && later.File == err.File
                && ((err.Task is not null && later.Task == err.Task) || (err.Tool is not null && later.Tool == err.Tool))));
            Assert.Equal(withFile.Count == 0 ? null : (double)fixedCount / withFile.Count, row.FixSuccessRate);
        }
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 6)]
    [InlineData(3, 2)]
    [InlineData(4, 8)]
    public async Task A_review_from_stored_rollups_equals_one_from_the_events_and_both_match_the_raw_rows(int seed, int sessions)
    {
        await using var db = await BuildRandomPhaseAsync(seed, sessions);
        var (fromRollups, use) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(sessions, 0), use);
        AssertMatchesEvents(fromRollups);

        using (var raw = _fixture.Raw())
        using (var clear = raw.CreateCommand())
        {
            clear.CommandText = "DELETE FROM session_rollups";
            clear.ExecuteNonQuery();
        }
        var (fromEvents, folded) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(0, sessions), folded);
        Assert.Equal(Json(fromEvents), Json(fromRollups));
        // Folded again, and stored: the next review reads rollups.
        var (again, stored) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(sessions, 0), stored);
        Assert.Equal(Json(fromEvents), Json(again));
    }

    [Theory]
    [InlineData(5, 4)]
    [InlineData(6, 7)]
    public async Task The_archive_totals_from_stored_rollups_equal_the_session_summaries_and_the_totals_folded_from_the_events(int seed, int sessions)
    {
        // Issue 12: a phase archive's manifest totals come from the rollups (format 2) instead of a pass over every event:
        // the figures SummarizeSessionAsync gives per session, summed, with NULL names, negative durations, unknown types and
        // a phase 2 session that must stay out.
        await using var db = await BuildRandomPhaseAsync(seed, sessions);
        var records = new List<SessionRecord>();
        var summaries = new List<SessionSummary>();
        for (var s = 0; s < sessions; s++)
        {
            var id = "s" + s.ToString(CultureInfo.InvariantCulture);
            records.Add((await db.GetSessionAsync(id, None))!);
            summaries.Add(await db.SummarizeSessionAsync(id, None));
        }
        static List<NameCount> Merge(IEnumerable<NameCount> counts) => counts.GroupBy(c => c.Name)
            .Select(g => new NameCount(g.Key, g.Sum(c => c.Count), g.Sum(c => c.TotalDurationMs), g.Sum(c => c.Failures)))
            .OrderByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();

        var (_, use, merged) = await PhaseReviewer.ReviewWithRollupAsync(db, Policy(), 1, None);
        Assert.Equal(new PhaseReviewer.RollupUse(sessions, 0), use);
        var totals = Engine.Backup.BackupOperations.PhaseTotals(records, merged);
        Assert.Equal((sessions, summaries.Sum(s => s.EventCount), summaries.Sum(s => s.FailureCount)), ((int)totals.Sessions, totals.Events, totals.Failures));
        Assert.True(totals.Failures > 0);
        Assert.Equal(new TokenUsage
        {
            Input = summaries.Sum(s => s.Tokens.Input), Output = summaries.Sum(s => s.Tokens.Output),
            CacheRead = summaries.Sum(s => s.Tokens.CacheRead), CacheWrite = summaries.Sum(s => s.Tokens.CacheWrite),
        }, totals.Tokens);
        Assert.Equal(Merge(summaries.SelectMany(s => s.Agents)), totals.Agents);
        Assert.Equal(Merge(summaries.SelectMany(s => s.Tools)), totals.Tools);
        Assert.Equal(Merge(summaries.SelectMany(s => s.Models)), totals.Models);
        Assert.Equal(Merge(summaries.SelectMany(s => s.Tasks)), totals.Tasks);
        Assert.Contains(totals.Tools, t => t.TotalDurationMs > 0 && t.Failures > 0);

        using (var raw = _fixture.Raw())
        using (var clear = raw.CreateCommand())
        {
            clear.CommandText = "DELETE FROM session_rollups";
            clear.ExecuteNonQuery();
        }
        var (_, folded, fromEvents) = await PhaseReviewer.ReviewWithRollupAsync(db, Policy(), 1, None);
        Assert.Equal(new PhaseReviewer.RollupUse(0, sessions), folded);
        Assert.Equal(JsonSerializer.Serialize(totals), JsonSerializer.Serialize(Engine.Backup.BackupOperations.PhaseTotals(records, fromEvents)));
    }

    [Fact]
    public async Task Events_appended_after_completion_make_the_rollup_stale_and_the_review_counts_them()
    {
        await using var db = await BuildRandomPhaseAsync(7, 3);
        var (before, _) = await ReviewAsync(db);
        await db.AddEventsAsync("s1", [new SessionEvent { Timestamp = T0.AddHours(5), SessionId = "s1", Type = SessionEventType.ToolCall, Tool = "Read", DurationMs = 123_456_789, Success = true, File = "a.cs", Task = "t1" }], 0, None);
        var (after, use) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(2, 1), use);
        Assert.Equal(before.EventCount + 1, after.EventCount);
        AssertMatchesEvents(after);
    }

    [Fact]
    public async Task Replacing_a_sessions_events_by_as_many_others_with_the_same_ids_drops_its_rollup()
    {
        // The count, largest and summed ids alone would not see this (the same ids again, as rowids of a table's tail are):
        // the delete trigger does.
        await using var db = await BuildRandomPhaseAsync(8, 3);
        var (before, _) = await ReviewAsync(db);
        using (var raw = _fixture.Raw())
        using (var swap = raw.CreateCommand())
        {
            swap.CommandText = """
                CREATE TEMP TABLE saved AS SELECT * FROM events WHERE session_id = 's2';
                UPDATE saved SET duration_ms = 999999 WHERE duration_ms IS NOT NULL;
                DELETE FROM events WHERE session_id = 's2';
                INSERT INTO events SELECT * FROM saved;
                """;
            swap.ExecuteNonQuery();
        }
        var (after, use) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(2, 1), use);
        Assert.NotEqual(Json(before), Json(after));
        AssertMatchesEvents(after);

        using (var raw = _fixture.Raw())
        using (var update = raw.CreateCommand())
        {
            update.CommandText = "UPDATE events SET success = 0 WHERE session_id = 's0' AND success = 1";
            update.ExecuteNonQuery();
        }
        var (updated, use2) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(2, 1), use2);
        AssertMatchesEvents(updated);
    }

    [Fact]
    public async Task A_catalog_rebuilt_from_the_same_sessions_reviews_the_same()
    {
        await using var db = await BuildRandomPhaseAsync(9, 4);
        var (original, _) = await ReviewAsync(db);
        // A rebuilt catalog: the same sessions and events, inserted anew in the same order (other ids, no rollups).
        var rebuiltPath = Path.Combine(_fixture.Directory, "rebuilt", "analytics", "agent_metrics.db");
        await using var rebuilt = await CatalogDatabase.OpenAsync(rebuiltPath, None);
        await rebuilt.EnsurePhaseAsync(1, "Random", T0, None);
        await rebuilt.InsertSessionAsync(new SessionRecord { SessionId = "zz", Phase = 1, StartedAt = T0, State = SessionState.Active }, None);
        await rebuilt.AddEventsAsync("zz", [new SessionEvent { Timestamp = T0.AddDays(-1), SessionId = "zz", Type = SessionEventType.ToolCall }], 0, None);
        using (var raw = new SqliteConnection($"Data Source={rebuiltPath};Pooling=False"))
        {
            raw.Open();
            using var copy = raw.CreateCommand();
            copy.CommandText = $"""
                ATTACH DATABASE '{_fixture.DbPath}' AS old;
                INSERT INTO sessions SELECT * FROM old.sessions WHERE phase = 1;
                INSERT INTO events (session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, model, success, error_type, file, data)
                    SELECT session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, model, success, error_type, file, data
                    FROM old.events WHERE session_id IN (SELECT session_id FROM old.sessions WHERE phase = 1) ORDER BY event_id;
                DELETE FROM events WHERE session_id = 'zz';
                DELETE FROM sessions WHERE session_id = 'zz';
                """;
            copy.ExecuteNonQuery();
        }
        var (review, use) = await ReviewAsync(rebuilt);
        Assert.Equal(new PhaseReviewer.RollupUse(0, 4), use);
        Assert.Equal(Json(original), Json(review));
    }

    [Fact]
    public async Task Another_price_table_rebuilds_the_rollups_it_did_not_price()
    {
        await using var db = await BuildRandomPhaseAsync(10, 3);
        var (before, _) = await ReviewAsync(db);
        var models = new Dictionary<string, ModelPrice>(PolicyDefaults.ModelPrices(), StringComparer.Ordinal);
        models["claude-haiku-4-5"] = new ModelPrice { Input = 1m, Output = 1000m, CacheRead = 0.1m, CacheWrite5m = 1.25m, CacheWrite1h = 2m };
        var dearer = new TierPolicy { Pricing = new PricingPolicy { Models = models } };
        var (after, use) = await ReviewAsync(db, dearer);
        Assert.Equal(new PhaseReviewer.RollupUse(0, 3), use);
        Assert.True(after.Total.CostUsd > before.Total.CostUsd);
    }

    [Fact]
    public async Task A_damaged_or_foreign_rollup_body_is_folded_again_not_trusted()
    {
        await using var db = await BuildRandomPhaseAsync(11, 3);
        var (before, _) = await ReviewAsync(db);
        using (var raw = _fixture.Raw())
        using (var damage = raw.CreateCommand())
        {
            damage.CommandText = "UPDATE session_rollups SET body = substr(body, 1, length(body) / 2) WHERE session_id = 's0'; UPDATE session_rollups SET format = 99 WHERE session_id = 's1';";
            damage.ExecuteNonQuery();
        }
        var (after, use) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(1, 2), use);
        Assert.Equal(Json(before), Json(after));
    }

    [Fact]
    public async Task Every_truncation_of_a_body_reads_as_unusable_never_throws()
    {
        var random = new Random(12);
        var builder = new SessionRollup.Builder(PolicyDefaults.ModelPrices());
        long id = 0;
        foreach (var e in RandomSession(random, "s", 200, T0))
            builder.Add(new SessionRollup.Row(++id, e.Timestamp.ToUnixTimeMilliseconds(), Engine.Workspace.EventJson.ToWireName(e.Type), e.Agent, e.Tool, e.Task, e.DurationMs,
                e.Tokens?.Input ?? 0, e.Tokens?.Output ?? 0, e.Tokens?.CacheRead ?? 0, e.Tokens?.CacheWrite ?? 0, e.Model, e.Success, e.ErrorType, e.File, null));
        var body = builder.Finish().Serialize();
        var intern = new Dictionary<string, string>();
        Assert.NotNull(SessionRollup.Deserialize(body, intern));
        for (var n = 0; n < body.Length; n++) Assert.Null(SessionRollup.Deserialize(body.AsSpan(0, n), intern));
    }

    [Fact]
    public async Task Migration_13_adds_rollups_to_a_catalog_of_version_12_and_the_review_folds_its_sessions_once()
    {
        var ct = None;
        await using (var old = await CatalogDatabase.OpenAsync(_fixture.DbPath, 12, ct))
        {
            Assert.Equal(12, old.SchemaVersion);
            await old.EnsurePhaseAsync(1, "Old", T0, ct);
            await old.InsertSessionAsync(new SessionRecord { SessionId = "s0", Phase = 1, StartedAt = T0, State = SessionState.Completed }, ct);
            await old.AddEventsAsync("s0", RandomSession(new Random(13), "s0", 300, T0), 0, ct);
        }
        Assert.Empty(_fixture.Query("SELECT name FROM sqlite_master WHERE name = 'session_rollups'"));
        await using var db = await CatalogDatabase.OpenAsync(_fixture.DbPath, 13, ct);
        Assert.Equal(13, db.SchemaVersion);
        Assert.Single(_fixture.Query("SELECT name FROM sqlite_master WHERE name = 'session_rollups'"));
        var (first, use) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(0, 1), use);
        AssertMatchesEvents(first);
        var (second, use2) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(1, 0), use2);
        Assert.Equal(Json(first), Json(second));
    }

    [Fact]
    public async Task An_active_sessions_rollup_is_never_stored_and_a_dropped_session_takes_its_rollup_along()
    {
        await using var db = await BuildRandomPhaseAsync(14, 3, rollUp: false);
        await db.UpdateSessionAsync((await db.GetSessionAsync("s2", None))! with { State = SessionState.Active }, None);
        var (_, use) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(0, 3), use);
        Assert.Equal(2L, _fixture.Query("SELECT COUNT(*) FROM session_rollups")[0][0]);
        var (_, use2) = await ReviewAsync(db);
        Assert.Equal(new PhaseReviewer.RollupUse(2, 1), use2);

        await db.ForgetTierCopiesAsync("local", [], ["s0"], None);
        Assert.Equal(1L, _fixture.Query("SELECT COUNT(*) FROM session_rollups")[0][0]);
    }
}
