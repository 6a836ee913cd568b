using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// An event's optional fields from loosely typed input (CSV cells, ConvertFrom-Json values, hashtables): what a front
/// gives the engine when its values are text. A blank value means the field is absent; anything else converts or fails
/// with ErrorIds.InvalidEvent naming the field, never silently becoming null or 0.
/// </summary>
public static class EventFieldText
{
    private static readonly string[] TrueWords = ["true", "1", "yes"];
    private static readonly string[] FalseWords = ["false", "0", "no"];

    /// <summary>Null for null or blank text; otherwise the text.</summary>
    public static string? ToText(object? value) => value switch
    {
        null => null,
        string text => string.IsNullOrWhiteSpace(text) ? null : text,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    /// <summary>true/false, 1/0, yes/no (any case), a boolean, or 0/1 as a number; blank = null.</summary>
    public static bool? ToBoolean(string field, object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case bool flag:
                return flag;
            case string text:
                if (string.IsNullOrWhiteSpace(text)) return null;
                var word = text.Trim();
                if (TrueWords.Contains(word, StringComparer.OrdinalIgnoreCase)) return true;
                if (FalseWords.Contains(word, StringComparer.OrdinalIgnoreCase)) return false;
                throw Invalid(field, $"'{Shorten(text)}' is not a boolean (true/false, 1/0, yes/no)");
            case sbyte or byte or short or ushort or int or uint or long or ulong:
                var number = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                return number switch
                {
                    1 => true,
                    0 => false,
                    _ => throw Invalid(field, $"{number} is not a boolean (true/false, 1/0, yes/no)"),
                };
            default:
                throw Invalid(field, $"a {value.GetType().Name} is not a boolean (true/false, 1/0, yes/no)");
        }
    }

    /// <summary>A whole number (or text of one, invariant culture); blank = null. The sign is the caller's to check.</summary>
    public static long? ToCount(string field, object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case sbyte or byte or short or ushort or int or uint or long:
                return Convert.ToInt64(value, CultureInfo.InvariantCulture);
            case double or float or decimal:
                var real = Convert.ToDecimal(value, CultureInfo.InvariantCulture);
                if (real != decimal.Truncate(real) || real is > long.MaxValue or < long.MinValue)
                    throw Invalid(field, $"{real.ToString(CultureInfo.InvariantCulture)} is not a whole number");
                return (long)real;
            case string text:
                if (string.IsNullOrWhiteSpace(text)) return null;
                if (long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)) return parsed;
                throw Invalid(field, $"'{Shorten(text)}' is not a whole number");
            default:
                throw Invalid(field, $"a {value.GetType().Name} is not a whole number");
        }
    }

    /// <summary>A date and time, or ISO-8601 text of one; text without an offset is UTC. Blank = null.</summary>
    public static DateTimeOffset? ToTimestamp(string field, object? value)
    {
        var at = value switch
        {
            null => (DateTimeOffset?)null,
            DateTimeOffset offset => offset,
            DateTime time => new DateTimeOffset(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time),
            string text when string.IsNullOrWhiteSpace(text) => null,
            string text when DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var parsed) => parsed,
            string text => throw Invalid(field, $"'{Shorten(text)}' is not an ISO-8601 date and time (e.g. 2026-11-22T05:32:50.123Z)"),
            _ => throw Invalid(field, $"a {value.GetType().Name} is not a date and time"),
        };
        if (at is { } stamp && stamp < EventJson.EarliestTimestamp)
            throw Invalid(field, $"{stamp:O} is before {EventJson.EarliestTimestamp:yyyy-MM-dd}; no agent recorded events then");
        return at;
    }

    private static TierStorageException Invalid(string field, string problem) =>
        new(ErrorIds.InvalidEvent, TierErrorKind.InvalidArgument, $"Invalid event: field '{field}': {problem}.", field);

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "..." : text;
}
