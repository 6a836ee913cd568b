using System.Text.Json;

namespace TierStorage.Engine.Ingest;

/// <summary>Optional fields of Claude Code's JSON (transcripts and hook payloads): a missing field or one of another
/// kind reads as null, since the format adds and drops fields between versions.</summary>
internal static class JsonFields
{
    public static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static long? Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    public static bool? Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
