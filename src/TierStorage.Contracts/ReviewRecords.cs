using System.Globalization;

namespace TierStorage.Contracts;

/// <summary>Latency of one operation type (event type with a duration). Percentiles are nearest-rank over the exact durations.</summary>
public sealed record LatencyRow
{
    public string Operation { get; set; } = "";
    public long EventCount { get; init; }
    public double AverageMs { get; init; }
    public long P50Ms { get; init; }
    public long P95Ms { get; init; }
    public long P99Ms { get; init; }
    public long? TargetMs { get; init; }
    /// <summary>P95 within the target; null when the operation has no target.</summary>
    public bool? Met { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Operation}: {EventCount} events, p95 {P95Ms} ms") +
        (TargetMs is { } target ? string.Create(CultureInfo.InvariantCulture, $" (target {target} ms, {(Met == true ? "met" : "missed")})") : "");
}

/// <summary>Tokens and their price for one model (Model = "Total" for the sum row).</summary>
public sealed record ModelCostRow
{
    public string Model { get; set; } = "";
    public long Calls { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long CacheWriteTokens { get; init; }
    public long CacheReadTokens { get; init; }
    public decimal CostUsd { get; init; }
    /// <summary>False when no price in the policy matched the model: its tokens are counted, its cost is not.</summary>
    public bool Priced { get; set; } = true;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Model}: {Calls} calls, in {InputTokens} / out {OutputTokens} tokens, ") +
        (Priced ? Readable.Usd(CostUsd) : "unpriced");
}

/// <summary>One agent: its agent_invocation events (count, duration, outcome) and the tokens of every event carrying its
/// name. An agent with no agent_invocation events is measured by its other events: the distinct tasks they name and their outcomes.</summary>
public sealed record AgentRow
{
    public string Agent { get; set; } = "";
    public long Tasks { get; init; }
    public double? AverageDurationMs { get; init; }
    public double? SuccessRate { get; init; }
    public long Tokens { get; init; }
    public double? TokensPerTask { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Agent}: {Tasks} tasks, {Tokens} tokens") +
        (SuccessRate is null ? "" : $", {Readable.Percent(SuccessRate)} success");
}

public sealed record ErrorRow
{
    public string ErrorType { get; set; } = "";
    public long Occurrences { get; init; }
    public IReadOnlyList<string> Files { get; set => field = Readable.List(value); } = ReadableList<string>.None;
    /// <summary>Share of the occurrences with a file after which the same task or tool succeeded on that file; null when none had a file.</summary>
    public double? FixSuccessRate { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ErrorType}: {Occurrences} times") +
        (FixSuccessRate is null ? "" : $", fixed {Readable.Percent(FixSuccessRate)}");
}

public sealed record BottleneckRow
{
    public string Operation { get; set; } = "";
    public string? Tool { get; init; }
    public long EventCount { get; init; }
    public double AverageMs { get; init; }
    public long P95Ms { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Operation}{(Tool is null ? "" : " " + Tool)}: {EventCount} slow events, p95 {P95Ms} ms");
}

public sealed record ToolRow
{
    public string Tool { get; set; } = "";
    public long Calls { get; init; }
    public double? AverageDurationMs { get; init; }
    public double? SuccessRate { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Tool}: {Calls} calls") +
        (SuccessRate is null ? "" : $", {Readable.Percent(SuccessRate)} success");
}

public sealed record DailyUsageRow
{
    public DateOnly Day { get; init; }
    public long Tokens { get; init; }
    public decimal CostUsd { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Day:yyyy-MM-dd}: {Tokens} tokens, {Readable.Usd(CostUsd)}");
}

/// <summary>Spend against one budget of the policy.</summary>
public sealed record BudgetRow
{
    /// <summary>"phase", "task" (average cost per task), or "day yyyy-MM-dd" (with " (highest)" for the most expensive
    /// day when no day is over the daily budget).</summary>
    public string Budget { get; set; } = "";
    public decimal LimitUsd { get; init; }
    /// <summary>Null when the figure cannot be worked out: no tasks, or no day with spending.</summary>
    public decimal? ActualUsd { get; init; }
    /// <summary>Actual at or below the limit; null when there is no actual.</summary>
    public bool? Within { get; init; }

    public override string ToString() =>
        $"{Budget}: {(ActualUsd is { } actual ? Readable.Usd(actual) : "n/a")} of {Readable.Usd(LimitUsd)}" +
        (Within is { } within ? (within ? " (within)" : " (over)") : "");
}

/// <summary>The end-of-phase review: every table of phase_insights.md, and where the reports were written.</summary>
public sealed record PhaseReview
{
    public int Phase { get; init; }
    public string? PhaseName { get; init; }
    public int Sessions { get; init; }
    public long EventCount { get; init; }
    public DateTimeOffset? FirstEventAt { get; init; }
    public DateTimeOffset? LastEventAt { get; init; }
    public IReadOnlyList<LatencyRow> Latency { get; set => field = Readable.List(value); } = ReadableList<LatencyRow>.None;
    /// <summary>Latency histogram of every operation: bucket upper bounds in ms and counts (for the chart).</summary>
    public IReadOnlyList<LatencyBucket> LatencyHistogram { get; set => field = Readable.List(value); } = ReadableList<LatencyBucket>.None;
    public IReadOnlyList<ModelCostRow> Tokens { get; set => field = Readable.List(value); } = ReadableList<ModelCostRow>.None;
    public ModelCostRow Total { get; set; } = new() { Model = "Total" };
    public long TaskCount { get; init; }
    public decimal? CostPerTask { get; init; }
    public IReadOnlyList<DailyUsageRow> Daily { get; set => field = Readable.List(value); } = ReadableList<DailyUsageRow>.None;
    public IReadOnlyList<AgentRow> Agents { get; set => field = Readable.List(value); } = ReadableList<AgentRow>.None;
    public IReadOnlyList<ErrorRow> Errors { get; set => field = Readable.List(value); } = ReadableList<ErrorRow>.None;
    public long ErrorCount { get; init; }
    public IReadOnlyList<BottleneckRow> Bottlenecks { get; set => field = Readable.List(value); } = ReadableList<BottleneckRow>.None;
    /// <summary>Duration from which an operation counts among the slowest 20%.</summary>
    public long? BottleneckThresholdMs { get; init; }
    public IReadOnlyList<ToolRow> Tools { get; set => field = Readable.List(value); } = ReadableList<ToolRow>.None;
    /// <summary>Successes over events whose outcome is known; null when none is.</summary>
    public double? SuccessRate { get; init; }
    public long SkewedEvents { get; init; }
    public long UnknownTypeEvents { get; init; }
    /// <summary>Lines of the phase's logs and transcripts that were not valid events, left out of every figure.</summary>
    public long RejectedLines { get; init; }
    /// <summary>Data problems found while reading (no sessions, clock skew, unknown types, unpriced models).</summary>
    public IReadOnlyList<string> Warnings { get; set => field = Readable.List(value); } = ReadableList<string>.None;
    public string ExecutiveSummary { get; set; } = "";
    public IReadOnlyList<string> Recommendations { get; set => field = Readable.List(value); } = ReadableList<string>.None;
    public IReadOnlyList<string> ReportPaths { get; set => field = Readable.List(value); } = ReadableList<string>.None;
    /// <summary>One row per budget the policy sets (review.budget); empty when it sets none.</summary>
    public IReadOnlyList<BudgetRow> Budget { get; set => field = Readable.List(value); } = ReadableList<BudgetRow>.None;
}

/// <summary>One bar of the latency histogram: events at or below UpperMs (and above the previous bucket's bound).</summary>
public sealed record LatencyBucket(long UpperMs, long EventCount)
{
    public override string ToString() => UpperMs == long.MaxValue
        ? string.Create(CultureInfo.InvariantCulture, $"slower: {EventCount}")
        : string.Create(CultureInfo.InvariantCulture, $"<= {UpperMs} ms: {EventCount}");
}
