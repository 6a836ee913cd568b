using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Policy;

namespace TierStorage.Engine.Review;

/// <summary>
/// Computes a <see cref="PhaseReview"/> from the catalog: the merged <see cref="SessionRollup"/> of each of the phase's
/// sessions, the one stored when it completed when it still stands for the session's events (same count, largest and
/// summed event_id, same price table), else folded again from the events (and stored, for a session no longer active).
/// The figures are those of one pass over every event of the phase in time order: percentiles exact (nearest rank, from
/// every duration), fix rates resolved across sessions. Memory: 4 bytes per timed operation plus per-name counters.
/// </summary>
public static class PhaseReviewer
{
    private static readonly HashSet<string> KnownTypes = new(Workspace.EventJson.TypeNames, StringComparer.Ordinal);

    private static readonly long[] HistogramBoundsMs = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, long.MaxValue];

    private const int TopErrors = 10;
    private const double BottleneckShare = 0.20;

    internal static bool IsKnownType(string type) => KnownTypes.Contains(type);

    /// <summary>What a review read: sessions whose stored rollup stood, and sessions folded again from their events.</summary>
    internal sealed record RollupUse(int Stored, int Rebuilt);

    public static async Task<PhaseReview> ReviewAsync(CatalogDatabase catalog, TierPolicy policy, int phase, CancellationToken cancellationToken) =>
        (await ReviewWithUseAsync(catalog, policy, phase, cancellationToken).ConfigureAwait(false)).Review;

    /// <summary><see cref="ReviewAsync"/>, saying which sessions' stored rollups it used (tests check which path ran).</summary>
    internal static async Task<(PhaseReview Review, RollupUse Use)> ReviewWithUseAsync(CatalogDatabase catalog, TierPolicy policy, int phase, CancellationToken cancellationToken)
    {
        var (review, use, _) = await ReviewWithRollupAsync(catalog, policy, phase, cancellationToken).ConfigureAwait(false);
        return (review, use);
    }

    /// <summary><see cref="ReviewWithUseAsync"/> and the phase's merged rollup, whose per-name totals a phase archive's manifest
    /// carries (<see cref="SessionRollup.Names"/>).</summary>
    internal static Task<(PhaseReview Review, RollupUse Use, SessionRollup Merged)> ReviewWithRollupAsync(CatalogDatabase catalog, TierPolicy policy, int phase,
        CancellationToken cancellationToken) => ReviewWithRollupAsync(catalog, policy, phase, null, null, cancellationToken);

    /// <summary>The review of one machine's or one user's share of the phase (a shared catalog; names compared without case),
    /// from the same stored rollups: the slice is chosen among the sessions before anything is read.</summary>
    public static async Task<PhaseReview> ReviewSliceAsync(CatalogDatabase catalog, TierPolicy policy, int phase, string? machine, string? user, CancellationToken cancellationToken) =>
        (await ReviewWithRollupAsync(catalog, policy, phase, machine, user, cancellationToken).ConfigureAwait(false)).Review;

    private static async Task<(PhaseReview Review, RollupUse Use, SessionRollup Merged)> ReviewWithRollupAsync(CatalogDatabase catalog, TierPolicy policy, int phase,
        string? machine, string? user, CancellationToken cancellationToken)
    {
        var slice = machine is null && user is null ? ""
            : " AND " + CatalogDatabase.OriginFilter(machine, user);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(policy);
        var prices = Prices(policy);
        var fingerprint = SessionRollup.PriceFingerprint(prices);
        var connection = await catalog.OpenReaderAsync(cancellationToken).ConfigureAwait(false);

        string? phaseName = null;
        int sessions;
        long rejectedLines, rejectingSessions;
        var merged = new SessionRollup();
        var toSave = new List<(string SessionId, CatalogDatabase.RollupKey Key, byte[] Body)>();
        int stored = 0, rebuilt = 0;
        // One read transaction: the rollups, the keys they are checked against and any events folded again are one state.
        await using (connection)
        {
            var members = new List<(string Id, bool Active)>();
            await using (var command = connection.Command($"""
                    SELECT (SELECT name FROM phases WHERE number = $p), COUNT(*), CAST(COALESCE(SUM(rejected_lines), 0) AS BIGINT), COUNT(*) FILTER (WHERE rejected_lines > 0)
                    FROM sessions WHERE phase = $p{slice}
                    """, ("$p", phase), ("$machine", CatalogDatabase.OriginValue(machine)), ("$user", CatalogDatabase.OriginValue(user))))
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                phaseName = reader.IsDBNull(0) ? null : reader.GetString(0);
                sessions = checked((int)reader.GetInt64(1));
                rejectedLines = reader.GetInt64(2);
                rejectingSessions = reader.GetInt64(3);
            }
            await using (var command = connection.Command($"SELECT session_id, state FROM sessions WHERE phase = $p{slice} ORDER BY started_at, session_id",
                ("$p", phase), ("$machine", CatalogDatabase.OriginValue(machine)), ("$user", CatalogDatabase.OriginValue(user))))
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    members.Add((reader.GetString(0), reader.GetString(1) == nameof(SessionState.Active)));
            }
            var intern = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (id, active) in members)
            {
                var key = await CatalogDatabase.ReadRollupKeyAsync(connection, id, cancellationToken).ConfigureAwait(false);
                var saved = await CatalogDatabase.ReadRollupAsync(connection, id, cancellationToken).ConfigureAwait(false);
                var rollup = saved is not null && saved.Format == SessionRollup.Format && saved.Key == key && saved.Prices == fingerprint
                    ? SessionRollup.Deserialize(saved.Body, intern) : null;
                if (rollup is not null) stored++;
                else
                {
                    rebuilt++;
                    rollup = await FoldSessionAsync(connection, id, prices, cancellationToken).ConfigureAwait(false);
                    // An active session's rollup would be stale at its next event: it is folded at each review until it completes.
                    if (!active) toSave.Add((id, key, rollup.Serialize()));
                }
                merged.MergeFrom(rollup);
            }
        }
        try
        {
            foreach (var (id, key, body) in toSave)
                await catalog.SaveRollupAsync(id, SessionRollup.Format, key, fingerprint, body, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SqliteException { SqliteErrorCode: 5 or 6 or 8 } or Npgsql.PostgresException { SqlState: "25006" or "40001" or "40P01" or "55P03" })
        {
            // Busy, locked or read-only: the rollups are a cache, and this review has its figures; the next one folds again.
        }

        merged.ResolveAcrossSessions();
        var targets = policy.Review.LatencyTargetsMs.Count > 0 ? policy.Review.LatencyTargetsMs : PolicyDefaults.LatencyTargetsMs();
        return (Build(merged, targets, policy.Review.Budget, phase, phaseName, sessions, rejectedLines, rejectingSessions), new RollupUse(stored, rebuilt), merged);
    }

    /// <summary>
    /// Folds one session's events into its rollup and stores it (Complete-Session calls this, so that a review reads the
    /// rollup instead of the events). Events and key are read in one transaction, so the stored rollup stands for exactly
    /// the events it was folded from; an event appended later makes it stale, and the review folds the session again.
    /// </summary>
    public static async Task RollUpSessionAsync(CatalogDatabase catalog, TierPolicy policy, string sessionId, CancellationToken cancellationToken) =>
        await SaveRollupAsync(catalog, await FoldRollupAsync(catalog, policy, sessionId, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>A session's rollup as <see cref="FoldRollupAsync"/> folded it, not stored yet.</summary>
    internal sealed record FoldedRollup(string SessionId, CatalogDatabase.RollupKey Key, string Prices, byte[] Body, DateTimeOffset BuiltAt);

    /// <summary>The first half of <see cref="RollUpSessionAsync"/>: folds the session's events on a read-only connection of its own, in
    /// one read transaction with the key, so it may run on another thread while the catalog's own connection writes (an import
    /// folds a completed session while it stores the next one). <see cref="SaveRollupAsync"/> stores it.</summary>
    internal static async Task<FoldedRollup> FoldRollupAsync(CatalogDatabase catalog, TierPolicy policy, string sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(policy);
        var prices = Prices(policy);
        CatalogDatabase.RollupKey key;
        byte[] body;
        await using (var connection = await catalog.OpenReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            key = await CatalogDatabase.ReadRollupKeyAsync(connection, sessionId, cancellationToken).ConfigureAwait(false);
            body = (await FoldSessionAsync(connection, sessionId, prices, cancellationToken).ConfigureAwait(false)).Serialize();
        }
        return new FoldedRollup(sessionId, key, SessionRollup.PriceFingerprint(prices), body, DateTimeOffset.UtcNow);
    }

    /// <summary>Stores a rollup <see cref="FoldRollupAsync"/> folded, on the catalog's own connection.</summary>
    internal static Task SaveRollupAsync(CatalogDatabase catalog, FoldedRollup rollup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(rollup);
        return catalog.SaveRollupAsync(rollup.SessionId, SessionRollup.Format, rollup.Key, rollup.Prices, rollup.Body, rollup.BuiltAt, cancellationToken);
    }

    private static IReadOnlyDictionary<string, ModelPrice> Prices(TierPolicy policy) =>
        policy.Pricing.Models.Count > 0 ? policy.Pricing.Models : PolicyDefaults.ModelPrices();

    /// <summary>One session's events, oldest first, straight from ix_events_session_ts (no sort). The data column is only
    /// read where the cost can depend on it (a 1-hour cache write, or a recorded cost_usd).</summary>
    private static async Task<SessionRollup> FoldSessionAsync(CatalogReader connection, string sessionId, IReadOnlyDictionary<string, ModelPrice> prices,
        CancellationToken cancellationToken)
    {
        var builder = new SessionRollup.Builder(prices);
        await using var command = connection.Command("""
            SELECT event_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens,
                   cache_read_tokens, cache_write_tokens, model, success, error_type, file,
                   CASE WHEN (cache_write_tokens > 0 AND instr(data, '1h') > 0) OR instr(data, 'cost_usd') > 0 THEN data END
            FROM events INDEXED BY ix_events_session_ts WHERE session_id = $s ORDER BY ts, event_id
            """, ("$s", sessionId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var intern = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            builder.Add(new SessionRollup.Row(
                reader.GetInt64(0), reader.GetInt64(1), Interned(reader, 2, intern)!, Interned(reader, 3, intern), Interned(reader, 4, intern), Interned(reader, 5, intern),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                Long(reader, 7), Long(reader, 8), Long(reader, 9), Long(reader, 10), Interned(reader, 11, intern),
                reader.IsDBNull(12) ? null : reader.GetInt64(12) != 0, Interned(reader, 13, intern), Interned(reader, 14, intern),
                reader.IsDBNull(15) ? null : reader.GetString(15)));
        }
        return builder.Finish();
    }

    /// <summary>The text of a column, one instance per distinct value (names repeat on most rows: the rollup keeps them).</summary>
    private static string? Interned(System.Data.Common.DbDataReader reader, int i, Dictionary<string, string> intern)
    {
        if (reader.IsDBNull(i)) return null;
        var s = reader.GetString(i);
        if (intern.TryGetValue(s, out var shared)) return shared;
        intern[s] = s;
        return s;
    }

    private static long Long(System.Data.Common.DbDataReader reader, int i) => reader.IsDBNull(i) ? 0 : reader.GetInt64(i);

    /// <summary>Finds the price of a model id: exact key first, then the longest key the id starts with
    /// (claude-sonnet-4-5-20250929 → claude-sonnet-4-5).</summary>
    public static ModelPrice? FindPrice(IReadOnlyDictionary<string, ModelPrice> prices, string model)
    {
        ArgumentNullException.ThrowIfNull(prices);
        foreach (var pair in prices) if (string.Equals(pair.Key, model, StringComparison.OrdinalIgnoreCase)) return pair.Value;
        ModelPrice? best = null;
        var bestLength = 0;
        foreach (var pair in prices)
        {
            if (pair.Key.Length > bestLength && model.StartsWith(pair.Key, StringComparison.OrdinalIgnoreCase))
            {
                best = pair.Value;
                bestLength = pair.Key.Length;
            }
        }
        return best;
    }

    /// <summary>
    /// USD of one call. Rates are per million tokens. A request whose prompt (input + cache read + cache write) exceeds the
    /// model's long-context threshold is billed at the long-context input/output rates, and its cache rates scale by the
    /// same factor as the input rate. Cache writes are 5-minute writes except the <paramref name="cacheWrite1h"/> part.
    /// </summary>
    public static decimal Cost(ModelPrice price, long input, long output, long cacheRead, long cacheWrite, long cacheWrite1h)
    {
        ArgumentNullException.ThrowIfNull(price);
        decimal inputRate = price.Input, outputRate = price.Output, readRate = price.CacheRead, write5 = price.CacheWrite5m, write1 = price.CacheWrite1h;
        if (price.LongContextThreshold is { } threshold && input + cacheRead + cacheWrite > threshold && price.LongContextInput is { } longInput)
        {
            var factor = price.Input == 0 ? 1 : longInput / price.Input;
            inputRate = longInput;
            outputRate = price.LongContextOutput ?? price.Output;
            readRate *= factor;
            write5 *= factor;
            write1 *= factor;
        }
        cacheWrite1h = Math.Clamp(cacheWrite1h, 0, cacheWrite);
        return (input * inputRate + output * outputRate + cacheRead * readRate + (cacheWrite - cacheWrite1h) * write5 + cacheWrite1h * write1) / 1_000_000m;
    }

    /// <summary>Tokens of the cache write billed at the 1-hour rate, read from the event data: what Import-ClaudeSession kept
    /// (cache_write_1h_tokens), Claude Code's cache_creation.ephemeral_1h_input_tokens (nested or flat), or cache_ttl = "1h"
    /// for the whole write.</summary>
    internal static long CacheWrite1hTokens(string? data, long cacheWrite)
    {
        if (cacheWrite <= 0 || data is null || !data.Contains("1h", StringComparison.Ordinal)) return 0;
        try
        {
            using var document = JsonDocument.Parse(data);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return 0;
            if (root.TryGetProperty("cache_ttl", out var ttl) && ttl.ValueKind == JsonValueKind.String && ttl.GetString() == "1h") return cacheWrite;
            if (root.TryGetProperty(Ingest.ClaudeTranscriptParser.CacheWrite1hKey, out var imported) && imported.TryGetInt64(out var importedValue)) return importedValue;
            if (root.TryGetProperty("ephemeral_1h_input_tokens", out var flat) && flat.TryGetInt64(out var flatValue)) return flatValue;
            if (root.TryGetProperty("cache_creation", out var nested) && nested.ValueKind == JsonValueKind.Object &&
                nested.TryGetProperty("ephemeral_1h_input_tokens", out var inner) && inner.TryGetInt64(out var innerValue)) return innerValue;
        }
        catch (JsonException)
        {
        }
        return 0;
    }

    /// <summary>The cost the recorder computed for the call (data.cost_usd, from Claude Code's costUSD), or null.</summary>
    internal static decimal? RecordedCostUsd(string? data)
    {
        if (data is null || !data.Contains("cost_usd", StringComparison.Ordinal)) return null;
        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("cost_usd", out var cost)
                && cost.TryGetDecimal(out var value) && value >= 0 ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One row per budget the policy sets. The daily budget gives a row per day above it, or, when no day is,
    /// one row for the most expensive day. A figure that cannot be worked out (no tasks, no spending days) has a row with
    /// no actual and no verdict rather than a silent zero.</summary>
    internal static List<BudgetRow> CheckBudget(BudgetPolicy budget, decimal phaseCost, decimal? costPerTask, IReadOnlyList<DailyUsageRow> daily)
    {
        var rows = new List<BudgetRow>();
        if (budget.PhaseUsd is { } phaseLimit) rows.Add(Row("phase", phaseLimit, phaseCost));
        if (budget.TaskUsd is { } taskLimit) rows.Add(Row("task", taskLimit, costPerTask));
        if (budget.DailyUsd is { } dayLimit)
        {
            var over = daily.Where(d => d.CostUsd > dayLimit).ToList();
            if (over.Count > 0) rows.AddRange(over.Select(d => Row("day " + Day(d.Day), dayLimit, d.CostUsd)));
            else if (daily.MaxBy(d => d.CostUsd) is { } highest) rows.Add(Row($"day {Day(highest.Day)} (highest)", dayLimit, highest.CostUsd));
            else rows.Add(Row("day", dayLimit, null));
        }
        return rows;

        static BudgetRow Row(string name, decimal limit, decimal? actual) =>
            new() { Budget = name, LimitUsd = limit, ActualUsd = actual, Within = actual is { } a ? a <= limit : null };
        static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    private static PhaseReview Build(SessionRollup r, IReadOnlyDictionary<string, long> targets, BudgetPolicy budget,
        int phase, string? phaseName, int sessions, long rejectedLines, long rejectingSessions)
    {
        var warnings = new List<string>();
        if (sessions == 0) warnings.Add($"Phase {phase} has no sessions in the catalog: there is nothing to review.");
        else if (r.Events == 0) warnings.Add($"Phase {phase} has {sessions} session(s) but no events: every figure below is empty, not zero.");
        if (rejectedLines > 0)
            warnings.Add($"{rejectedLines:N0} line(s) in the logs or transcripts of {rejectingSessions} session(s) were not valid events (not JSON, or an event without its type or time) and are left out of every figure; the warnings given when they were read name each one.");
        if (r.Skewed > 0)
            warnings.Add($"Clock skew: {r.Skewed} event(s) have a negative duration (end before start); they are left out of latency, bottlenecks and averages.");
        if (r.Unknown > 0)
            warnings.Add($"{r.Unknown} event(s) have an unknown type ({string.Join(", ", r.UnknownTypes)}); they are counted in totals only.");
        var unpriced = r.Models.Where(m => !m.Value.Priced).Select(m => m.Key).ToList();
        if (unpriced.Count > 0)
            warnings.Add($"No price in the policy for {string.Join(", ", unpriced)}: their tokens are counted but their cost is not.");

        var latency = BuildLatency(r, targets);
        var all = new DurationColumn();
        foreach (var column in r.Durations.Values) all.AddRange(column);
        var histogram = BuildHistogram(all);
        var (bottlenecks, threshold) = BuildBottlenecks(r, all);

        var tokenRows = r.Models.OrderByDescending(m => m.Value.Cost).ThenBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => ToCostRow(m.Key, m.Value)).ToList();
        var total = new ModelCostRow
        {
            Model = "Total",
            Calls = tokenRows.Sum(t => t.Calls),
            InputTokens = tokenRows.Sum(t => t.InputTokens),
            OutputTokens = tokenRows.Sum(t => t.OutputTokens),
            CacheWriteTokens = tokenRows.Sum(t => t.CacheWriteTokens),
            CacheReadTokens = tokenRows.Sum(t => t.CacheReadTokens),
            CostUsd = tokenRows.Sum(t => t.CostUsd),
            Priced = unpriced.Count == 0,
        };

        var agents = r.Agents.Select(a => AgentRowOf(a.Key, a.Value)).OrderByDescending(a => a.Tasks).ThenBy(a => a.Agent, StringComparer.Ordinal).ToList();
        var tools = r.Tools.OrderByDescending(t => t.Value.Count).ThenBy(t => t.Key, StringComparer.Ordinal).Select(t => new ToolRow
        {
            Tool = t.Key,
            Calls = t.Value.Count,
            AverageDurationMs = t.Value.DurationCount == 0 ? null : (double)t.Value.DurationSum / t.Value.DurationCount,
            SuccessRate = t.Value.Known == 0 ? null : (double)t.Value.Succeeded / t.Value.Known,
        }).ToList();
        var errors = r.Errors.OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal).Take(TopErrors).Select(e => new ErrorRow
        {
            ErrorType = e.Key,
            Occurrences = e.Value.Count,
            // The files with the most of these errors (ties by name), listed by name.
            Files = e.Value.Files.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal).Take(SessionRollup.MaxFilesPerError)
                .Select(f => f.Key).Order(StringComparer.Ordinal).ToList(),
            FixSuccessRate = e.Value.WithFile == 0 ? null : (double)e.Value.Fixed / e.Value.WithFile,
        }).ToList();

        var costPerTask = r.Tasks.Count == 0 ? null : (decimal?)Math.Round(total.CostUsd / r.Tasks.Count, 6);
        var daily = r.Daily.Select(d => new DailyUsageRow { Day = d.Key, Tokens = d.Value.Tokens, CostUsd = d.Value.Cost }).ToList();
        var review = new PhaseReview
        {
            Phase = phase,
            PhaseName = phaseName,
            Sessions = sessions,
            EventCount = r.Events,
            FirstEventAt = r.First is { } f ? DateTimeOffset.FromUnixTimeMilliseconds(f) : null,
            LastEventAt = r.Last is { } l ? DateTimeOffset.FromUnixTimeMilliseconds(l) : null,
            Latency = latency,
            LatencyHistogram = histogram,
            Tokens = tokenRows,
            Total = total,
            TaskCount = r.Tasks.Count,
            CostPerTask = costPerTask,
            Daily = daily,
            Agents = agents,
            Errors = errors,
            ErrorCount = r.ErrorCount,
            Bottlenecks = bottlenecks,
            BottleneckThresholdMs = threshold,
            Tools = tools,
            SuccessRate = r.Known == 0 ? null : (double)r.Succeeded / r.Known,
            SkewedEvents = r.Skewed,
            UnknownTypeEvents = r.Unknown,
            RejectedLines = rejectedLines,
            Warnings = warnings,
            Budget = CheckBudget(budget, total.CostUsd, costPerTask, daily),
        };
        return review with
        {
            Recommendations = ReviewNarrative.Recommend(review),
            ExecutiveSummary = ReviewNarrative.Summarize(review),
        };
    }

    /// <summary>An agent's tasks are its agent_invocation events. An agent recorded only through its other events (tool and
    /// model calls carrying its name, as hooks and transcripts record the main agent) is measured by those instead: the
    /// distinct tasks they name and their outcomes; its duration stays unknown.</summary>
    private static AgentRow AgentRowOf(string name, SessionRollup.AgentTotals a)
    {
        var invoked = a.Count > 0;
        var tasks = invoked ? a.Count : a.TaskIds.Count;
        var (known, succeeded) = invoked ? (a.Known, a.Succeeded) : (a.EventsKnown, a.EventsSucceeded);
        return new AgentRow
        {
            Agent = name,
            Tasks = tasks,
            AverageDurationMs = a.DurationCount == 0 ? null : (double)a.DurationSum / a.DurationCount,
            SuccessRate = known == 0 ? null : (double)succeeded / known,
            Tokens = a.Tokens,
            TokensPerTask = tasks == 0 ? null : (double)a.Tokens / tasks,
        };
    }

    private static ModelCostRow ToCostRow(string model, SessionRollup.ModelTotals t) => new()
    {
        Model = model,
        Calls = t.Calls,
        InputTokens = t.Input,
        OutputTokens = t.Output,
        CacheWriteTokens = t.CacheWrite,
        CacheReadTokens = t.CacheRead,
        CostUsd = t.Cost,
        Priced = t.Priced,
    };

    private static List<LatencyRow> BuildLatency(SessionRollup r, IReadOnlyDictionary<string, long> targets)
    {
        var rows = new List<LatencyRow>();
        foreach (var type in r.Durations.Keys.Select(k => k.Type).Distinct().OrderBy(t => t, StringComparer.Ordinal))
        {
            var column = new DurationColumn();
            foreach (var pair in r.Durations.Where(p => p.Key.Type == type)) column.AddRange(pair.Value);
            long? target = targets.TryGetValue(type, out var t) ? t : null;
            var p95 = column.Percentile(95);
            rows.Add(new LatencyRow
            {
                Operation = type,
                EventCount = column.Count,
                AverageMs = column.Average,
                P50Ms = column.Percentile(50),
                P95Ms = p95,
                P99Ms = column.Percentile(99),
                TargetMs = target,
                Met = target is null ? null : p95 <= target,
            });
        }
        return rows;
    }

    private static List<LatencyBucket> BuildHistogram(DurationColumn all)
    {
        var counts = new long[HistogramBoundsMs.Length];
        foreach (var value in all.Values)
        {
            var i = 0;
            while (value > HistogramBoundsMs[i]) i++;
            counts[i]++;
        }
        return HistogramBoundsMs.Select((bound, i) => new LatencyBucket(bound, counts[i])).ToList();
    }

    /// <summary>The slowest 20%: k = ceil(0.2·n) operations; the threshold is the k-th largest duration, and every
    /// operation at or above it counts (ties at the threshold may add a few).</summary>
    private static (List<BottleneckRow> Rows, long? Threshold) BuildBottlenecks(SessionRollup r, DurationColumn all)
    {
        if (all.Count == 0) return ([], null);
        all.Sort();
        var k = (int)Math.Ceiling(BottleneckShare * all.Count);
        long threshold = all.Values[all.Count - k];
        var rows = new List<BottleneckRow>();
        foreach (var pair in r.Durations)
        {
            var slow = new DurationColumn();
            foreach (var value in pair.Value.Values) if (value >= threshold) slow.Add(value);
            if (slow.Count == 0) continue;
            rows.Add(new BottleneckRow { Operation = pair.Key.Type, Tool = pair.Key.Tool, EventCount = slow.Count, AverageMs = slow.Average, P95Ms = slow.Percentile(95) });
        }
        rows.Sort((a, b) => b.EventCount * b.AverageMs != a.EventCount * a.AverageMs
            ? (b.EventCount * b.AverageMs).CompareTo(a.EventCount * a.AverageMs)
            : string.CompareOrdinal(a.Operation + a.Tool, b.Operation + b.Tool));
        return (rows, threshold);
    }

    internal static string Format(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
