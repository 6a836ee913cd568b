using System.Buffers;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>Encodes a batch of events as the bytes of their log lines, so one write appends the whole batch.</summary>
internal static class EventLines
{
    public static ReadOnlyMemory<byte> Encode(IReadOnlyList<SessionEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, events.Count * 224));
        EventJson.WriteLines(events, buffer);
        return buffer.WrittenMemory;
    }
}
