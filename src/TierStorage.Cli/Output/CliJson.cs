using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Output;

/// <summary>The one JSON shape of <c>--json</c>: camelCase properties, enums by name, one document per line. Written through
/// the source-generated <see cref="CliJsonContext"/>, whose metadata every output names (the CLI is published NativeAOT,
/// where reflection-based serialization is not there): a command cannot write a type the context does not list.</summary>
public static class CliJson
{
    public static CliJsonContext Context => CliJsonContext.Default;

    public static JsonSerializerOptions Options => CliJsonContext.Default.Options;

    public static string Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    /// <summary>A document back into its record (for scripts and tests): any type the context lists.</summary>
    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize(json, (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T)));
}

/// <summary>Every record a command writes with <c>--json</c>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, Converters = [typeof(EventDataJsonConverter)])]
[JsonSerializable(typeof(AlertChannelTest))]
[JsonSerializable(typeof(BackupCheck))]
[JsonSerializable(typeof(BackupResult))]
[JsonSerializable(typeof(CatalogRebuildResult))]
[JsonSerializable(typeof(CatalogTableComparison))]
[JsonSerializable(typeof(ClaudeImportResult))]
[JsonSerializable(typeof(CollectionBackupResult))]
[JsonSerializable(typeof(CollectionFileChange))]
[JsonSerializable(typeof(CollectionRestoreItem))]
[JsonSerializable(typeof(CollectionUsageItem))]
[JsonSerializable(typeof(CollectionVersionInfo))]
[JsonSerializable(typeof(DriveAuthorizationInfo))]
[JsonSerializable(typeof(EncryptionKeyInfo))]
[JsonSerializable(typeof(KeyRotationResult))]
[JsonSerializable(typeof(PhaseInfo))]
[JsonSerializable(typeof(PhaseReview))]
[JsonSerializable(typeof(PolicyFinding))]
[JsonSerializable(typeof(PolicyRunResult))]
[JsonSerializable(typeof(RestoreResult))]
[JsonSerializable(typeof(SessionEvent))]
[JsonSerializable(typeof(SessionInfo))]
[JsonSerializable(typeof(SnapshotInfo))]
[JsonSerializable(typeof(TierAlert))]
[JsonSerializable(typeof(TierAlertDelivery))]
[JsonSerializable(typeof(TierConnectionStep))]
[JsonSerializable(typeof(TierMove))]
[JsonSerializable(typeof(TierPolicy))]
[JsonSerializable(typeof(TierUsage))]
[JsonSerializable(typeof(WorkspaceIdentityChange))]
[JsonSerializable(typeof(WorkspaceInfo))]
public sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>An event's free-form <c>data</c>: written as the event log writes it (strings, numbers, booleans, objects and
/// arrays of them, whatever their .NET types), read back as the event log reads it.</summary>
public sealed class EventDataJsonConverter : JsonConverter<IReadOnlyDictionary<string, object?>>
{
    public override IReadOnlyDictionary<string, object?>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return EventJson.ParseData(document.RootElement.GetRawText());
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, object?> value, JsonSerializerOptions options) =>
        EventJson.WriteData(writer, value);
}
