using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// The dedupe key of an imported event, stored in events.ingest_key (migration 14) when the event is inserted:
/// "tool_call:&lt;tool_use_id&gt;", "agent_invocation:&lt;tool_use_id or agent_id&gt;", "llm_call:&lt;message_id&gt;|&lt;request_id&gt;"
/// (the request id empty when there is none). Only llm_call, tool_call and agent_invocation events whose data holds one of
/// those ids as a string have one. Computed here from the event, once, instead of by SQLite from the stored JSON on every
/// insert into two expression indexes (migrations 8 and 12), which parsed each event's data twice; <see cref="Sql"/> is the
/// same key computed from a row's data, for rows that were not inserted here (migration 14's backfill, events copied from an
/// analytics snapshot, whose own ingest_key is not trusted).
/// </summary>
internal static class IngestKeys
{
    public static string? Of(SessionEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Data is not { } data) return null;
        var type = e.Type switch
        {
            SessionEventType.LlmCall => "llm_call",
            SessionEventType.ToolCall => "tool_call",
            SessionEventType.AgentInvocation => "agent_invocation",
            _ => null,
        };
        if (type is null) return null;
        if (data.TryGetValue("tool_use_id", out var t) && t is string toolUseId) return type + ":" + toolUseId;
        if (data.TryGetValue("message_id", out var m) && m is string messageId)
            return type + ":" + messageId + "|" + (data.TryGetValue("request_id", out var r) ? r as string : null);
        if (data.TryGetValue("agent_id", out var a) && a is string agentId) return type + ":" + agentId;
        return null;
    }

    /// <summary><see cref="Of"/> as an SQL expression over the columns type and data of an events row (of any table alias
    /// <paramref name="row"/>, "" for none): NULL where <see cref="Of"/> gives null, including data that is not a JSON object.</summary>
    public static string Sql(string row = "")
    {
        var type = row + "type";
        var data = row + "data";
        string Text(string field) => $"CASE WHEN json_type({data}, '$.{field}') = 'text' THEN json_extract({data}, '$.{field}') END";
        return $"CASE WHEN {type} IN ('llm_call', 'tool_call', 'agent_invocation') AND json_valid({data}) AND json_type({data}) = 'object' THEN "
            + $"{type} || ':' || coalesce({Text("tool_use_id")}, {Text("message_id")} || '|' || coalesce({Text("request_id")}, ''), {Text("agent_id")}) END";
    }
}
