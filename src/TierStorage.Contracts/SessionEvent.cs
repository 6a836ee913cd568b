using System.Globalization;

namespace TierStorage.Contracts;

/// <summary>Token counts of one model call (or the sum of several).</summary>
public sealed record TokenUsage
{
    public long Input { get; init; }
    public long Output { get; init; }
    public long CacheRead { get; init; }
    public long CacheWrite { get; init; }

    public long Total => Input + Output + CacheRead + CacheWrite;

    public static TokenUsage operator +(TokenUsage a, TokenUsage b) => new()
    {
        Input = a.Input + b.Input,
        Output = a.Output + b.Output,
        CacheRead = a.CacheRead + b.CacheRead,
        CacheWrite = a.CacheWrite + b.CacheWrite,
    };

    /// <summary>"in 1200 / out 340 / cache r 0 w 0": how Format-List and Export-Csv show an event's tokens.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"in {Input} / out {Output} / cache r {CacheRead} w {CacheWrite}");
}

/// <summary>
/// One line of a session's activity log, as stored and as returned by Get-SessionEvent.
/// <see cref="Data"/> holds the free-form payload as nested dictionaries, lists and scalars.
/// </summary>
public sealed record SessionEvent
{
    public DateTimeOffset Timestamp { get; init; }
    public string SessionId { get; init; } = "";
    public SessionEventType Type { get; init; }
    public string? Agent { get; init; }
    public string? Tool { get; init; }
    public string? Task { get; init; }
    public long? DurationMs { get; init; }
    public TokenUsage? Tokens { get; init; }
    public string? Model { get; init; }
    public bool? Success { get; init; }
    public string? ErrorType { get; init; }
    public string? File { get; init; }
    public IReadOnlyDictionary<string, object?>? Data { get; init => field = Readable.Data(value); }

    /// <summary>Position in the catalog (0 until the event is indexed).</summary>
    public long EventId { get; init; }

    /// <summary>The event's identity within its session (the log's <c>id</c> field): an event whose Id the session already
    /// holds is the same event sent again and is not stored twice. Given by the sender, or, for an event sent with its own
    /// timestamp, derived from its content and its place among identical events of the same input; null for an event
    /// stamped with the time it was received (nothing could tell a resend of it from a new one).</summary>
    public string? Id { get; init; }
}

/// <summary>Filters for Get-SessionEvent; every filter is optional and they combine with AND.</summary>
public sealed record SessionEventQuery
{
    public string? SessionId { get; init; }
    public int? Phase { get; init; }
    public SessionEventType? Type { get; init; }
    public string? Agent { get; init; }
    public string? Tool { get; init; }
    public string? Model { get; init; }
    public string? Task { get; init; }
    public bool? Success { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>Newest first instead of oldest first.</summary>
    public bool Descending { get; init; }
    public int? Limit { get; init; }
    /// <summary>Only events of sessions recorded on this machine (a shared catalog); compared without case.</summary>
    public string? Machine { get; init; }
    /// <summary>Only events of sessions recorded by this user (a shared catalog); compared without case.</summary>
    public string? User { get; init; }
}
