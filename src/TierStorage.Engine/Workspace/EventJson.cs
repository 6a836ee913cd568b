using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>The activity-log line format (one JSON object per line, snake_case fields).</summary>
public static class EventJson
{
    /// <summary>Parses one line. Throws TierStorageException(ErrorIds.InvalidEvent) naming the field at fault
    /// (not JSON, missing timestamp, unknown type, wrong field type). Session may come from <paramref name="defaultSessionId"/>.</summary>
    public static SessionEvent Parse(string json, string? defaultSessionId) => throw new NotImplementedException();

    public static string Serialize(SessionEvent sessionEvent) => throw new NotImplementedException();

    /// <summary>The free `data` object as JSON text (null stays null) and back into nested
    /// Dictionary&lt;string, object?&gt; / List&lt;object?&gt; / string / long / double / bool values.</summary>
    public static string? SerializeData(IReadOnlyDictionary<string, object?>? data) => throw new NotImplementedException();
    public static IReadOnlyDictionary<string, object?>? ParseData(string? json) => throw new NotImplementedException();

    /// <summary>snake_case name of an event type (tool_call) and back.</summary>
    public static string ToWireName(SessionEventType type) => throw new NotImplementedException();
    public static bool TryParseType(string name, out SessionEventType type) => throw new NotImplementedException();
}
