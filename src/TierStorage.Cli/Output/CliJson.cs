using System.Text.Json;
using System.Text.Json.Serialization;

namespace TierStorage.Cli.Output;

/// <summary>The one JSON shape of <c>--json</c>: camelCase properties, enums by name, one document per line.</summary>
public static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options);
}
