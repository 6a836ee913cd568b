using System.Text;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>Encodes a batch of events as the bytes of their log lines, so one write appends the whole batch.</summary>
internal static class EventLines
{
    public static byte[] Encode(IReadOnlyList<SessionEvent> events)
    {
        var builder = new StringBuilder(events.Count * 256);
        foreach (var e in events) builder.Append(EventJson.Serialize(e)).Append('\n');
        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
