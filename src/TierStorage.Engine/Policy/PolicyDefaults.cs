using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Values the loader fills in when a policy leaves them out. Kept in code rather than in the embedded
/// YAML so a user's own policy gets them too.</summary>
internal static class PolicyDefaults
{
    public static readonly string[] DataClasses = ["activity_logs", "snapshots", "handoffs", "analytics", "insights"];

    /// <summary>One rule per data class; null means never (or forever).</summary>
    public static List<LifecycleRule> LifecycleRules() =>
    [
        // Logs are the raw record: a week at hand, the phase on the backup tier, then archived for good.
        new() { DataClass = "activity_logs", CoreDays = 7, MainDays = 90, ArchiveAfterDays = 90 },
        // Snapshots only matter for recovery; old ones are superseded, so they expire after a year.
        new() { DataClass = "snapshots", CoreDays = 2, MainDays = 30, ArchiveAfterDays = 30, DeleteAfterDays = 365 },
        // Handoffs are small and read at the start of later sessions, so they stay close for longer.
        new() { DataClass = "handoffs", CoreDays = 30, MainDays = 365, ArchiveAfterDays = 365 },
        // The analytics database lives on the local tier for good (the seed design).
        new() { DataClass = "analytics" },
        // Insights live on the backup tier for good, after a week locally.
        new() { DataClass = "insights", CoreDays = 7 },
    ];

    /// <summary>Targets on p95 per event type, in milliseconds: a tool or file operation should feel instant, a model
    /// call may think for a while, a subagent may run for minutes.</summary>
    public static Dictionary<string, long> LatencyTargetsMs() => new(StringComparer.Ordinal)
    {
        ["tool_call"] = 5_000,
        ["llm_call"] = 30_000,
        ["agent_invocation"] = 300_000,
        ["file_operation"] = 1_000,
    };

    /// <summary>Published Anthropic list prices, USD per million tokens (checked November 2026); keys are model ids or
    /// prefixes of dated ids.</summary>
    public static Dictionary<string, ModelPrice> ModelPrices()
    {
        ModelPrice Opus45() => Price(5m, 25m);
        ModelPrice Opus4() => Price(15m, 75m);
        ModelPrice Sonnet4() => Price(3m, 15m, longContext: (200_000, 6m, 22.5m));
        return new(StringComparer.OrdinalIgnoreCase)
        {
            ["claude-opus-4-8"] = Opus45(),
            ["claude-opus-4-7"] = Opus45(),
            ["claude-opus-4-6"] = Opus45(),
            ["claude-opus-4-5"] = Opus45(),
            ["claude-opus-4-1"] = Opus4(),
            ["claude-opus-4-0"] = Opus4(),
            ["claude-opus-4-20250514"] = Opus4(),
            ["claude-sonnet-4-6"] = Price(3m, 15m),
            ["claude-sonnet-4-5"] = Sonnet4(),
            ["claude-sonnet-4-0"] = Sonnet4(),
            ["claude-sonnet-4-20250514"] = Sonnet4(),
            ["claude-haiku-4-5"] = Price(1m, 5m),
        };
    }

    /// <summary>Anthropic prices cache writes at 1.25x (5 minutes) and 2x (1 hour) the input rate and cache reads at 0.1x.</summary>
    public static ModelPrice Price(decimal input, decimal output, (long Threshold, decimal Input, decimal Output)? longContext = null) => new()
    {
        Input = input,
        Output = output,
        CacheWrite5m = input * 1.25m,
        CacheWrite1h = input * 2m,
        CacheRead = input * 0.1m,
        LongContextThreshold = longContext?.Threshold,
        LongContextInput = longContext?.Input,
        LongContextOutput = longContext?.Output,
    };
}
