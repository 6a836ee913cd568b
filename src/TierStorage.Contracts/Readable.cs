using System.Collections;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TierStorage.Contracts;

/// <summary>
/// How sizes and durations read to a person: the default views and the records' ToString share these, so
/// Format-Table, Format-List and Export-Csv agree ("12.3 MB", "1m 05s").
/// </summary>
public static class Readable
{
    private static readonly string[] Units = ["B", "KB", "MB", "GB", "TB", "PB"];

    /// <summary>Bytes in binary units with one decimal: 0 B, 812 B, 12.3 MB.</summary>
    public static string Bytes(long bytes)
    {
        if (bytes < 0) return "-" + Bytes(-bytes);
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        var value = (double)bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // 1023.96 KB would print as "1024.0 KB": carry it into the next unit.
        if (Math.Round(value, 1) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>Null for an unknown or unbounded size.</summary>
    public static string? Bytes(long? bytes) => bytes is { } b ? Bytes(b) : null;

    /// <summary>Short duration: 850 ms, 4.2s, 3m 05s, 2h 07m, 3d 04h.</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero) return "-" + Duration(duration.Negate());
        if (duration.TotalSeconds < 1) return ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + " ms";
        if (duration.TotalMinutes < 1) return duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        if (duration.TotalHours < 1) return string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes}m {duration.Seconds:00}s");
        if (duration.TotalDays < 1) return string.Create(CultureInfo.InvariantCulture, $"{duration.Hours}h {duration.Minutes:00}m");
        return string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalDays}d {duration.Hours:00}h");
    }

    /// <summary>Null when there is no duration.</summary>
    public static string? Duration(TimeSpan? duration) => duration is { } d ? Duration(d) : null;

    /// <summary>A share (0..1) as a percentage: 87.5%.</summary>
    public static string? Percent(double? share) =>
        share is { } s ? (s * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : null;

    /// <summary>US dollars with cents (four decimals below a cent, so small costs do not read as 0.00).</summary>
    public static string Usd(decimal amount) =>
        "$" + amount.ToString(amount != 0 && Math.Abs(amount) < 0.01m ? "0.0000" : "#,0.00", CultureInfo.InvariantCulture);

    /// <summary>Wraps a record's list so that it converts to text (Export-Csv, string conversion) as its items
    /// separated by "; ", not as the list's type name. A view over the list it is given, not a copy: the record still
    /// holds what its producer built.</summary>
    public static IReadOnlyList<T> List<T>(IReadOnlyList<T>? items) => items switch
    {
        null => ReadableList<T>.None,
        ReadableList<T> readable => readable,
        IList<T> list => new ReadableList<T>(list),
        _ => new ReadableList<T>([.. items]),
    };

    /// <summary>Wraps an event's data so that it converts to text as compact JSON.</summary>
    public static IReadOnlyDictionary<string, object?>? Data(IReadOnlyDictionary<string, object?>? data) => data switch
    {
        null => null,
        ReadableData readable => readable,
        IDictionary<string, object?> dictionary => new ReadableData(dictionary),
        _ => new ReadableData(data.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)),
    };
}

/// <summary>A read-only list that reads as its items: "a; b; c". Lists of records therefore show each record's short ToString.</summary>
public sealed class ReadableList<T> : ReadOnlyCollection<T>
{
    internal static readonly ReadableList<T> None = new([]);

    public ReadableList(IList<T> items) : base(items)
    {
    }

    public override string ToString() => string.Join("; ", this);
}

/// <summary>An event's free-form data that reads as compact JSON: {"lines":12,"hunks":[1,2]}.</summary>
public sealed class ReadableData : ReadOnlyDictionary<string, object?>
{
    public ReadableData(IDictionary<string, object?> data) : base(data)
    {
    }

    public override string ToString()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, this, depth: 0);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private const int MaxDepth = 32;

    private static void Write(Utf8JsonWriter writer, object? value, int depth)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case long or int or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong big:
                writer.WriteNumberValue(big);
                break;
            case double or float:
                writer.WriteNumberValue(Convert.ToDouble(value, CultureInfo.InvariantCulture));
                break;
            case decimal money:
                writer.WriteNumberValue(money);
                break;
            case IDictionary dictionary when depth < MaxDepth:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    Write(writer, entry.Value, depth + 1);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable items when depth < MaxDepth:
                writer.WriteStartArray();
                foreach (var item in items) Write(writer, item, depth + 1);
                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
