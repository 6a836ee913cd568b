using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Values the loader fills in when a policy leaves them out. Kept in code rather than in the embedded
/// YAML so a user's own policy gets them too.</summary>
internal static partial class PolicyDefaults
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

    public const string ModelPricesResourceName = "TierStorage.Engine.Policy.ModelPrices.json";

    /// <summary>Published Anthropic list prices, USD per million tokens, of every Claude model Claude Code has used: the
    /// embedded Policy/ModelPrices.json (each call a new copy, which the policy's pricing.models then overrides key by key);
    /// keys are model ids or prefixes of dated ids.</summary>
    public static Dictionary<string, ModelPrice> ModelPrices()
    {
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, p) in ShippedPrices.Value)
        {
            prices[model] = new ModelPrice
            {
                Input = p.Input, Output = p.Output, CacheWrite5m = p.CacheWrite5m, CacheWrite1h = p.CacheWrite1h, CacheRead = p.CacheRead,
                LongContextThreshold = p.LongContext?.Threshold, LongContextInput = p.LongContext?.Input, LongContextOutput = p.LongContext?.Output,
            };
        }
        return prices;
    }

    private static readonly Lazy<IReadOnlyList<(string Model, ShippedPrice Price)>> ShippedPrices = new(ReadShippedPrices);

    private static IReadOnlyList<(string Model, ShippedPrice Price)> ReadShippedPrices()
    {
        using var stream = typeof(PolicyDefaults).Assembly.GetManifestResourceStream(ModelPricesResourceName)
            ?? throw new InvalidOperationException($"The engine assembly lacks its embedded resource {ModelPricesResourceName}; the build is broken.");
        // Source-generated (ShippedPriceJson): every command that loads a policy reads this file, and the reflection
        // serializer's set-up was a third of the JIT work of `tierstorage session list` (issue 12).
        var file = JsonSerializer.Deserialize(stream, ShippedPriceJson.Default.ShippedPriceFile)
            ?? throw new InvalidOperationException($"{ModelPricesResourceName} is empty; the build is broken.");
        return [.. file.Models.Select(m => (m.Key, m.Value))];
    }

    [JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
    [JsonSerializable(typeof(ShippedPriceFile))]
    private sealed partial class ShippedPriceJson : JsonSerializerContext;

    private sealed record ShippedPriceFile(
        [property: JsonPropertyName("description")] string? Description,
        [property: JsonPropertyName("models")] Dictionary<string, ShippedPrice> Models);

    private sealed record ShippedPrice(
        [property: JsonPropertyName("input")] decimal Input,
        [property: JsonPropertyName("output")] decimal Output,
        [property: JsonPropertyName("cache_write_5m")] decimal CacheWrite5m,
        [property: JsonPropertyName("cache_write_1h")] decimal CacheWrite1h,
        [property: JsonPropertyName("cache_read")] decimal CacheRead,
        [property: JsonPropertyName("long_context")] ShippedLongContext? LongContext);

    private sealed record ShippedLongContext(
        [property: JsonPropertyName("threshold")] long Threshold,
        [property: JsonPropertyName("input")] decimal Input,
        [property: JsonPropertyName("output")] decimal Output);

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
