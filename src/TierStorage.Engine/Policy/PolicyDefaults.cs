using System.Text.Json;
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
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        try
        {
            return ParseShippedPrices(bytes);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{ModelPricesResourceName} is not valid ({ex.Message}); the build is broken.", ex);
        }
    }

    /// <summary>
    /// Reads ModelPrices.json with a plain <see cref="Utf8JsonReader"/>: every command that loads a policy reads this file,
    /// and a serializer (even source-generated) JIT-compiles its metadata for decimal and long on each start, a tenth of the
    /// start-up of `tierstorage session list` (issue 12). Strict like the serializer was: an unknown key, a missing price
    /// or a value of the wrong kind is an error, so a typo in the file fails the tests instead of pricing at $0.
    /// </summary>
    internal static IReadOnlyList<(string Model, ShippedPrice Price)> ParseShippedPrices(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var models = new List<(string, ShippedPrice)>();
        Expect(ref reader, JsonTokenType.StartObject);
        while (NextProperty(ref reader) is { } root)
        {
            switch (root)
            {
                case "description":
                    Expect(ref reader, JsonTokenType.String);
                    break;
                case "models":
                    Expect(ref reader, JsonTokenType.StartObject);
                    while (NextProperty(ref reader) is { } model) models.Add((model, ReadPrice(ref reader, model)));
                    break;
                default:
                    throw new JsonException($"unknown key '{root}'");
            }
        }
        return models;
    }

    private static ShippedPrice ReadPrice(ref Utf8JsonReader reader, string model)
    {
        decimal? input = null, output = null, write5m = null, write1h = null, read = null;
        ShippedLongContext? longContext = null;
        Expect(ref reader, JsonTokenType.StartObject);
        while (NextProperty(ref reader) is { } key)
        {
            if (key == "long_context")
            {
                long? threshold = null;
                decimal? longInput = null, longOutput = null;
                Expect(ref reader, JsonTokenType.StartObject);
                while (NextProperty(ref reader) is { } inner)
                {
                    Expect(ref reader, JsonTokenType.Number);
                    switch (inner)
                    {
                        case "threshold": threshold = reader.GetInt64(); break;
                        case "input": longInput = reader.GetDecimal(); break;
                        case "output": longOutput = reader.GetDecimal(); break;
                        default: throw new JsonException($"model '{model}': unknown key 'long_context.{inner}'");
                    }
                }
                longContext = new ShippedLongContext(Required(threshold, model, "long_context.threshold"),
                    Required(longInput, model, "long_context.input"), Required(longOutput, model, "long_context.output"));
                continue;
            }
            Expect(ref reader, JsonTokenType.Number);
            var value = reader.GetDecimal();
            switch (key)
            {
                case "input": input = value; break;
                case "output": output = value; break;
                case "cache_write_5m": write5m = value; break;
                case "cache_write_1h": write1h = value; break;
                case "cache_read": read = value; break;
                default: throw new JsonException($"model '{model}': unknown key '{key}'");
            }
        }
        return new ShippedPrice(Required(input, model, "input"), Required(output, model, "output"), Required(write5m, model, "cache_write_5m"),
            Required(write1h, model, "cache_write_1h"), Required(read, model, "cache_read"), longContext);
    }

    /// <summary>The next property's name, the reader left on it; null at the end of the object.</summary>
    private static string? NextProperty(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new JsonException("the file ends inside an object");
        return reader.TokenType switch
        {
            JsonTokenType.EndObject => null,
            JsonTokenType.PropertyName => reader.GetString(),
            _ => throw new JsonException($"a property name was expected at byte {reader.TokenStartIndex}, not {reader.TokenType}"),
        };
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (!reader.Read() || reader.TokenType != type)
            throw new JsonException($"{type} was expected at byte {reader.TokenStartIndex}, not {reader.TokenType}");
    }

    private static T Required<T>(T? value, string model, string key) where T : struct =>
        value ?? throw new JsonException($"model '{model}' has no '{key}'");

    internal sealed record ShippedPrice(decimal Input, decimal Output, decimal CacheWrite5m, decimal CacheWrite1h, decimal CacheRead, ShippedLongContext? LongContext);

    internal sealed record ShippedLongContext(long Threshold, decimal Input, decimal Output);

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
