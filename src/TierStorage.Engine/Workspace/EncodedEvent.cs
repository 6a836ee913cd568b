using System.Buffers;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// An event encoded for where it is stored: its data as the catalog's JSON text, its ingest key (events.ingest_key, see
/// <see cref="IngestKeys"/>) and, when encoded ahead, its activity-log line. An import encodes a transcript's events on the
/// thread that parsed them, while the catalog stores the transcript before it, so that storing one is only the inserts and
/// one write of the lines (issue 12); an append encodes its few events where it stores them.
/// </summary>
internal sealed class EncodedEvent
{
    private EncodedEvent(SessionEvent e, ReadOnlyMemory<byte> line)
    {
        Event = e;
        // Serialized first: data that cannot be stored fails the batch before any of it is.
        Data = EventJson.SerializeData(e.Data);
        IngestKey = IngestKeys.Of(e);
        Line = line;
    }

    /// <summary>An event read back from the catalog or an extract with its data text as stored there, kept byte for byte.</summary>
    private EncodedEvent(SessionEvent e, string? storedData)
    {
        Event = e;
        Data = storedData;
        IngestKey = IngestKeys.Of(e);
    }

    public SessionEvent Event { get; }

    /// <summary>events.data: <see cref="SessionEvent.Data"/> as JSON text.</summary>
    public string? Data { get; }

    /// <summary>events.ingest_key.</summary>
    public string? IngestKey { get; }

    /// <summary>The event's log line with its '\n'; empty when it was encoded for the catalog only (<see cref="ForCatalog"/>).</summary>
    public ReadOnlyMemory<byte> Line { get; }

    /// <summary>For the catalog: the log line is encoded when the event is appended (<see cref="Lines"/>).</summary>
    public static EncodedEvent ForCatalog(SessionEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new(e, ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>For the catalog, an event whose data text (<paramref name="data"/>, which <see cref="SessionEvent.Data"/> was
    /// parsed from) is stored as it is.</summary>
    public static EncodedEvent Stored(SessionEvent e, string? data)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new(e, data);
    }

    /// <summary>For the catalog and the log: the lines of all <paramref name="events"/> written into one buffer.</summary>
    public static EncodedEvent[] Encode(IReadOnlyList<SessionEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, events.Count * 224));
        var ends = new int[events.Count];
        EventJson.WriteLines(events, buffer, ends);
        var encoded = new EncodedEvent[events.Count];
        var start = 0;
        for (var i = 0; i < events.Count; i++)
        {
            encoded[i] = new EncodedEvent(events[i], buffer.WrittenMemory[start..ends[i]]);
            start = ends[i];
        }
        return encoded;
    }

    /// <summary>The log lines of <paramref name="events"/>, in order, as one block: the lines encoded ahead, the others encoded now.</summary>
    public static ReadOnlyMemory<byte> Lines(IReadOnlyList<EncodedEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var length = 0;
        foreach (var e in events) length += e.Line.Length;
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, length + (events.Count * 16)));
        List<SessionEvent>? pending = null;
        foreach (var e in events)
        {
            if (e.Line.IsEmpty)
            {
                (pending ??= []).Add(e.Event);
                continue;
            }
            if (pending is { Count: > 0 })
            {
                EventJson.WriteLines(pending, buffer);
                pending.Clear();
            }
            buffer.Write(e.Line.Span);
        }
        if (pending is { Count: > 0 }) EventJson.WriteLines(pending, buffer);
        return buffer.WrittenMemory;
    }
}
