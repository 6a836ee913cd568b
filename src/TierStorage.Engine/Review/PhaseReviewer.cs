using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Policy;

namespace TierStorage.Engine.Review;

/// <summary>
/// Computes a <see cref="PhaseReview"/> from the catalog in one streaming pass over the phase's events (oldest first).
/// Memory: one <see cref="DurationColumn"/> (4 bytes per timed operation) per operation type and tool, so percentiles
/// are exact (nearest rank); everything else is per-model, per-agent, per-tool, per-day or per-error-type counters,
/// plus the errors still waiting for a fix, which a later success on the same file removes.
/// </summary>
public static class PhaseReviewer
{
    private static readonly HashSet<string> KnownTypes = new(Workspace.EventJson.TypeNames, StringComparer.Ordinal);

    private static readonly long[] HistogramBoundsMs = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, long.MaxValue];

    private const int TopErrors = 10;
    private const int MaxFilesPerError = 10;
    private const double BottleneckShare = 0.20;

    public static async Task<PhaseReview> ReviewAsync(CatalogDatabase catalog, TierPolicy policy, int phase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(policy);
        SqliteNative.EnsureInitialized();
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = catalog.Path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        string? phaseName = null;
        int sessions;
        long rejectedLines, rejectingSessions;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT (SELECT name FROM phases WHERE number = $p), COUNT(*), COALESCE(SUM(rejected_lines), 0), COUNT(*) FILTER (WHERE rejected_lines > 0)
                FROM sessions WHERE phase = $p
                """;
            command.Parameters.AddWithValue("$p", phase);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            phaseName = reader.IsDBNull(0) ? null : reader.GetString(0);
            sessions = reader.GetInt32(1);
            rejectedLines = reader.GetInt64(2);
            rejectingSessions = reader.GetInt64(3);
        }

        var prices = policy.Pricing.Models.Count > 0 ? policy.Pricing.Models : PolicyDefaults.ModelPrices();
        var targets = policy.Review.LatencyTargetsMs.Count > 0 ? policy.Review.LatencyTargetsMs : PolicyDefaults.LatencyTargetsMs();
        var state = new Accumulator(prices, targets, policy.Review.Budget);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT e.ts, e.type, e.agent, e.tool, e.task, e.duration_ms, e.input_tokens, e.output_tokens,
                       e.cache_read_tokens, e.cache_write_tokens, e.model, e.success, e.error_type, e.file, e.data
                FROM events e JOIN sessions s ON s.session_id = e.session_id
                WHERE s.phase = $p ORDER BY e.ts, e.event_id
                """;
            command.Parameters.AddWithValue("$p", phase);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                state.Add(new Row(
                    reader.GetInt64(0), reader.GetString(1), Text(reader, 2), Text(reader, 3), Text(reader, 4),
                    reader.IsDBNull(5) ? null : reader.GetInt64(5),
                    Long(reader, 6), Long(reader, 7), Long(reader, 8), Long(reader, 9), Text(reader, 10),
                    reader.IsDBNull(11) ? null : reader.GetInt64(11) != 0, Text(reader, 12), Text(reader, 13), Text(reader, 14)));
            }
        }
        return state.Build(phase, phaseName, sessions, rejectedLines, rejectingSessions);
    }

    private static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
    private static long Long(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? 0 : reader.GetInt64(i);

    internal readonly record struct Row(
        long Ts, string Type, string? Agent, string? Tool, string? Task, long? DurationMs,
        long Input, long Output, long CacheRead, long CacheWrite, string? Model, bool? Success, string? ErrorType, string? File, string? Data);

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

    private sealed class ModelTotals
    {
        public long Calls, Input, Output, CacheRead, CacheWrite;
        public decimal Cost;
        public bool Priced = true;
    }

    private sealed class OutcomeTotals
    {
        public long Count, Known, Succeeded, Tokens;
        public readonly DurationColumn Durations = new();
        /// <summary>For an agent recorded without agent_invocation events: the tasks and outcomes of its other events.</summary>
        public HashSet<string>? TaskIds;
        public long EventsKnown, EventsSucceeded;
    }

    private sealed class ErrorTotals
    {
        public long Count, WithFile, Fixed;
        public readonly SortedSet<string> Files = new(StringComparer.Ordinal);
    }

    private sealed record PendingError(ErrorTotals Totals, string? Task, string? Tool);

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

    private sealed class Accumulator(IReadOnlyDictionary<string, ModelPrice> prices, IReadOnlyDictionary<string, long> targets, BudgetPolicy budget)
    {
        private readonly Dictionary<string, ModelTotals> _models = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ModelPrice?> _prices = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Type, string? Tool), DurationColumn> _durations = [];
        private readonly Dictionary<string, OutcomeTotals> _agents = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OutcomeTotals> _tools = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ErrorTotals> _errors = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<PendingError>> _pendingByFile = new(StringComparer.Ordinal);
        private readonly SortedDictionary<DateOnly, (long Tokens, decimal Cost)> _daily = [];
        private readonly HashSet<string> _tasks = new(StringComparer.Ordinal);
        private readonly SortedSet<string> _unknownTypes = new(StringComparer.Ordinal);
        private long _events, _known, _succeeded, _skewed, _unknown, _errorCount;
        private long? _first, _last;

        public void Add(Row e)
        {
            _events++;
            _first ??= e.Ts;
            _last = e.Ts;
            if (!KnownTypes.Contains(e.Type))
            {
                _unknown++;
                if (_unknownTypes.Count < 10) _unknownTypes.Add(e.Type);
            }
            if (e.Task is not null) _tasks.Add(e.Task);
            if (e.Success is { } ok)
            {
                _known++;
                if (ok) _succeeded++;
            }

            var validDuration = e.DurationMs is >= 0 ? e.DurationMs : null;
            if (e.DurationMs is < 0) _skewed++;
            if (validDuration is { } duration && e.Type != "session_start" && e.Type != "session_end")
            {
                var key = (e.Type, e.Tool);
                if (!_durations.TryGetValue(key, out var column)) _durations[key] = column = new DurationColumn();
                column.Add(duration);
            }

            var tokens = e.Input + e.Output + e.CacheRead + e.CacheWrite;
            if (tokens > 0 || e.Type == "llm_call") AddTokens(e, tokens);

            if (e.Agent is not null)
            {
                var agent = Get(_agents, e.Agent);
                agent.Tokens += tokens;
                if (e.Type == "agent_invocation") Count(agent, e.Success, validDuration);
                else
                {
                    if (e.Task is not null) (agent.TaskIds ??= new HashSet<string>(StringComparer.Ordinal)).Add(e.Task);
                    if (e.Success is { } succeeded)
                    {
                        agent.EventsKnown++;
                        if (succeeded) agent.EventsSucceeded++;
                    }
                }
            }
            if (e.Type == "tool_call" && e.Tool is not null) Count(Get(_tools, e.Tool), e.Success, validDuration);

            if (e.Type == "error" || e.Success == false) AddError(e);
            else if (e.Success == true && e.File is not null) ResolvePending(e);
        }

        private void AddTokens(Row e, long tokens)
        {
            var name = e.Model ?? "(no model)";
            if (!_models.TryGetValue(name, out var totals)) _models[name] = totals = new ModelTotals();
            totals.Calls++;
            totals.Input += e.Input;
            totals.Output += e.Output;
            totals.CacheRead += e.CacheRead;
            totals.CacheWrite += e.CacheWrite;
            decimal cost = 0;
            if (e.Model is not null && PriceOf(e.Model) is { } price)
            {
                cost = Cost(price, e.Input, e.Output, e.CacheRead, e.CacheWrite, CacheWrite1hTokens(e.Data, e.CacheWrite));
                totals.Cost += cost;
            }
            else if (RecordedCostUsd(e.Data) is { } recorded)
            {
                // No price in the policy, but the recorder knew one (Claude Code's costUSD): better than leaving it out.
                cost = recorded;
                totals.Cost += cost;
            }
            else if (tokens > 0)
            {
                totals.Priced = false;
            }
            var day = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(e.Ts).UtcDateTime);
            _daily.TryGetValue(day, out var sum);
            _daily[day] = (sum.Tokens + tokens, sum.Cost + cost);
        }

        /// <summary><see cref="FindPrice"/> once per model id, not once per call.</summary>
        private ModelPrice? PriceOf(string model)
        {
            if (!_prices.TryGetValue(model, out var price)) _prices[model] = price = FindPrice(prices, model);
            return price;
        }

        private static OutcomeTotals Get(Dictionary<string, OutcomeTotals> map, string key)
        {
            if (!map.TryGetValue(key, out var totals)) map[key] = totals = new OutcomeTotals();
            return totals;
        }

        private static void Count(OutcomeTotals totals, bool? success, long? duration)
        {
            totals.Count++;
            if (success is { } ok)
            {
                totals.Known++;
                if (ok) totals.Succeeded++;
            }
            if (duration is { } d) totals.Durations.Add(d);
        }

        private void AddError(Row e)
        {
            _errorCount++;
            var type = e.ErrorType ?? (e.Tool is not null ? $"{e.Tool} failed" : "unspecified");
            if (!_errors.TryGetValue(type, out var totals)) _errors[type] = totals = new ErrorTotals();
            totals.Count++;
            if (e.File is null) return;
            totals.WithFile++;
            if (totals.Files.Count < MaxFilesPerError) totals.Files.Add(e.File);
            if (e.Task is null && e.Tool is null) return;
            if (!_pendingByFile.TryGetValue(e.File, out var pending)) _pendingByFile[e.File] = pending = [];
            pending.Add(new PendingError(totals, e.Task, e.Tool));
        }

        private void ResolvePending(Row e)
        {
            if (!_pendingByFile.TryGetValue(e.File!, out var pending)) return;
            // A plain loop: a lambda here would capture e and allocate on every successful event with a file.
            var kept = 0;
            for (var i = 0; i < pending.Count; i++)
            {
                var p = pending[i];
                if ((p.Task is not null && p.Task == e.Task) || (p.Tool is not null && p.Tool == e.Tool)) p.Totals.Fixed++;
                else pending[kept++] = p;
            }
            pending.RemoveRange(kept, pending.Count - kept);
            if (pending.Count == 0) _pendingByFile.Remove(e.File!);
        }

        public PhaseReview Build(int phase, string? phaseName, int sessions, long rejectedLines, long rejectingSessions)
        {
            var warnings = new List<string>();
            if (sessions == 0) warnings.Add($"Phase {phase} has no sessions in the catalog: there is nothing to review.");
            else if (_events == 0) warnings.Add($"Phase {phase} has {sessions} session(s) but no events: every figure below is empty, not zero.");
            if (rejectedLines > 0)
                warnings.Add($"{rejectedLines:N0} line(s) in the logs or transcripts of {rejectingSessions} session(s) were not valid events (not JSON, or an event without its type or time) and are left out of every figure; the warnings given when they were read name each one.");
            if (_skewed > 0)
                warnings.Add($"Clock skew: {_skewed} event(s) have a negative duration (end before start); they are left out of latency, bottlenecks and averages.");
            if (_unknown > 0)
                warnings.Add($"{_unknown} event(s) have an unknown type ({string.Join(", ", _unknownTypes)}); they are counted in totals only.");
            var unpriced = _models.Where(m => !m.Value.Priced).Select(m => m.Key).ToList();
            if (unpriced.Count > 0)
                warnings.Add($"No price in the policy for {string.Join(", ", unpriced)}: their tokens are counted but their cost is not.");

            var latency = BuildLatency();
            var all = new DurationColumn();
            foreach (var column in _durations.Values) all.AddRange(column);
            var histogram = BuildHistogram(all);
            var (bottlenecks, threshold) = BuildBottlenecks(all);

            var tokenRows = _models.OrderByDescending(m => m.Value.Cost).ThenBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => ToCostRow(m.Key, m.Value)).ToList();
            var total = new ModelCostRow
            {
                Model = "Total",
                Calls = tokenRows.Sum(r => r.Calls),
                InputTokens = tokenRows.Sum(r => r.InputTokens),
                OutputTokens = tokenRows.Sum(r => r.OutputTokens),
                CacheWriteTokens = tokenRows.Sum(r => r.CacheWriteTokens),
                CacheReadTokens = tokenRows.Sum(r => r.CacheReadTokens),
                CostUsd = tokenRows.Sum(r => r.CostUsd),
                Priced = unpriced.Count == 0,
            };

            var agents = _agents.Select(a => AgentRowOf(a.Key, a.Value)).OrderByDescending(a => a.Tasks).ThenBy(a => a.Agent, StringComparer.Ordinal).ToList();
            var tools = _tools.OrderByDescending(t => t.Value.Count).ThenBy(t => t.Key, StringComparer.Ordinal).Select(t => new ToolRow
            {
                Tool = t.Key,
                Calls = t.Value.Count,
                AverageDurationMs = t.Value.Durations.Count == 0 ? null : t.Value.Durations.Average,
                SuccessRate = t.Value.Known == 0 ? null : (double)t.Value.Succeeded / t.Value.Known,
            }).ToList();
            var errors = _errors.OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal).Take(TopErrors).Select(e => new ErrorRow
            {
                ErrorType = e.Key,
                Occurrences = e.Value.Count,
                Files = e.Value.Files.ToList(),
                FixSuccessRate = e.Value.WithFile == 0 ? null : (double)e.Value.Fixed / e.Value.WithFile,
            }).ToList();

            var costPerTask = _tasks.Count == 0 ? null : (decimal?)Math.Round(total.CostUsd / _tasks.Count, 6);
            var daily = _daily.Select(d => new DailyUsageRow { Day = d.Key, Tokens = d.Value.Tokens, CostUsd = d.Value.Cost }).ToList();
            var review = new PhaseReview
            {
                Phase = phase,
                PhaseName = phaseName,
                Sessions = sessions,
                EventCount = _events,
                FirstEventAt = _first is { } f ? DateTimeOffset.FromUnixTimeMilliseconds(f) : null,
                LastEventAt = _last is { } l ? DateTimeOffset.FromUnixTimeMilliseconds(l) : null,
                Latency = latency,
                LatencyHistogram = histogram,
                Tokens = tokenRows,
                Total = total,
                TaskCount = _tasks.Count,
                CostPerTask = costPerTask,
                Daily = daily,
                Agents = agents,
                Errors = errors,
                ErrorCount = _errorCount,
                Bottlenecks = bottlenecks,
                BottleneckThresholdMs = threshold,
                Tools = tools,
                SuccessRate = _known == 0 ? null : (double)_succeeded / _known,
                SkewedEvents = _skewed,
                UnknownTypeEvents = _unknown,
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
        private static AgentRow AgentRowOf(string name, OutcomeTotals a)
        {
            var invoked = a.Count > 0;
            var tasks = invoked ? a.Count : a.TaskIds?.Count ?? 0;
            var (known, succeeded) = invoked ? (a.Known, a.Succeeded) : (a.EventsKnown, a.EventsSucceeded);
            return new AgentRow
            {
                Agent = name,
                Tasks = tasks,
                AverageDurationMs = a.Durations.Count == 0 ? null : a.Durations.Average,
                SuccessRate = known == 0 ? null : (double)succeeded / known,
                Tokens = a.Tokens,
                TokensPerTask = tasks == 0 ? null : (double)a.Tokens / tasks,
            };
        }

        private ModelCostRow ToCostRow(string model, ModelTotals t) => new()
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

        private List<LatencyRow> BuildLatency()
        {
            var rows = new List<LatencyRow>();
            foreach (var type in _durations.Keys.Select(k => k.Type).Distinct().OrderBy(t => t, StringComparer.Ordinal))
            {
                var column = new DurationColumn();
                foreach (var pair in _durations.Where(p => p.Key.Type == type)) column.AddRange(pair.Value);
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
        private (List<BottleneckRow> Rows, long? Threshold) BuildBottlenecks(DurationColumn all)
        {
            if (all.Count == 0) return ([], null);
            all.Sort();
            var k = (int)Math.Ceiling(BottleneckShare * all.Count);
            long threshold = all.Values[all.Count - k];
            var rows = new List<BottleneckRow>();
            foreach (var pair in _durations)
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
    }

    internal static string Format(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
