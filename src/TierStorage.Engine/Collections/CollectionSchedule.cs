using System.Globalization;

namespace TierStorage.Engine.Collections;

/// <summary>
/// When a collection is due: <c>daily</c> (midnight), <c>weekly</c> (Monday midnight), <c>monthly</c> (the 1st at midnight)
/// or a five-field cron expression (minute hour day-of-month month day-of-week; <c>*</c>, lists, ranges and <c>/</c>
/// steps; day 0 or 7 is Sunday; as in cron, a restricted day-of-month and day-of-week are either-or). Times are the
/// machine's local time, as a scheduled task's are. A collection is due when an occurrence has passed since its newest
/// version, or when it has none.
/// </summary>
public sealed class CollectionSchedule
{
    private const int YearsLookedBack = 5;
    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _daysOfMonth;
    private readonly bool[] _months;
    private readonly bool[] _daysOfWeek;
    private readonly bool _anyDayOfMonth;
    private readonly bool _anyDayOfWeek;

    private CollectionSchedule(string text, bool[][] fields, bool anyDayOfMonth, bool anyDayOfWeek)
    {
        Text = text;
        (_minutes, _hours, _daysOfMonth, _months, _daysOfWeek) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        _anyDayOfMonth = anyDayOfMonth;
        _anyDayOfWeek = anyDayOfWeek;
    }

    public string Text { get; }

    public static CollectionSchedule Parse(string text) =>
        TryParse(text, out var schedule, out var error) ? schedule! : throw new ArgumentException(error, nameof(text));

    public static bool TryParse(string text, out CollectionSchedule? schedule, out string? error)
    {
        schedule = null;
        var trimmed = (text ?? "").Trim();
        var cron = trimmed.ToLowerInvariant() switch
        {
            "daily" => "0 0 * * *",
            "weekly" => "0 0 * * 1",
            "monthly" => "0 0 1 * *",
            _ => trimmed,
        };
        var parts = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
        {
            error = $"Schedule '{Shorten(trimmed)}' is not daily, weekly, monthly or a cron expression of five fields (minute hour day-of-month month day-of-week), such as '30 2 * * *'.";
            return false;
        }
        var ranges = new (string Name, int Min, int Max)[] { ("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7) };
        var fields = new bool[5][];
        for (var i = 0; i < 5; i++)
        {
            fields[i] = ParseField(parts[i], ranges[i].Min, ranges[i].Max, out var fieldError)!;
            if (fieldError is not null)
            {
                error = $"Schedule '{Shorten(trimmed)}': the {ranges[i].Name} field '{Shorten(parts[i])}' {fieldError}";
                return false;
            }
        }
        if (fields[4][7]) fields[4][0] = true;
        schedule = new CollectionSchedule(trimmed, fields, parts[2] == "*", parts[4] == "*");
        error = null;
        return true;
    }

    /// <summary>The latest occurrence at or before <paramref name="now"/> (local time), or null when there was none in
    /// the last five years (a schedule such as February 30th).</summary>
    public DateTimeOffset? PreviousOccurrence(DateTimeOffset now)
    {
        var local = now.ToLocalTime();
        var day = local.Date;
        for (var back = 0; back <= 366 * YearsLookedBack; back++, day = day.AddDays(-1))
        {
            if (!_months[day.Month] || !DayMatches(day)) continue;
            for (var hour = back == 0 ? local.Hour : 23; hour >= 0; hour--)
            {
                if (!_hours[hour]) continue;
                for (var minute = back == 0 && hour == local.Hour ? local.Minute : 59; minute >= 0; minute--)
                {
                    if (!_minutes[minute]) continue;
                    var at = day.AddHours(hour).AddMinutes(minute);
                    return new DateTimeOffset(at, TimeZoneInfo.Local.GetUtcOffset(at));
                }
            }
        }
        return null;
    }

    /// <summary>Due: never backed up, or an occurrence has passed since <paramref name="lastVersion"/>.</summary>
    public bool IsDue(DateTimeOffset? lastVersion, DateTimeOffset now) =>
        lastVersion is not { } last || PreviousOccurrence(now) is { } previous && previous > last;

    public override string ToString() => Text;

    private bool DayMatches(DateTime day)
    {
        var dom = _daysOfMonth[day.Day];
        var dow = _daysOfWeek[(int)day.DayOfWeek];
        if (_anyDayOfMonth && _anyDayOfWeek) return true;
        if (_anyDayOfMonth) return dow;
        if (_anyDayOfWeek) return dom;
        return dom || dow;
    }

    private static bool[]? ParseField(string field, int min, int max, out string? error)
    {
        var set = new bool[max + 1];
        foreach (var item in field.Split(','))
        {
            var step = 1;
            var range = item;
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                if (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
                {
                    error = "has a step that is not a whole number of at least 1.";
                    return null;
                }
                range = item[..slash];
            }
            int from, to;
            if (range == "*") (from, to) = (min, max);
            else
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                var first = dash < 0 ? range : range[..dash];
                var last = dash < 0 ? null : range[(dash + 1)..];
                if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out from)
                    || (last is not null && !int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out to)))
                {
                    error = $"is not '*', a number, a range (a-b), a list (a,b) or a step (*/n) of numbers from {min} to {max}.";
                    return null;
                }
                to = last is null ? (slash >= 0 ? max : from) : int.Parse(last, CultureInfo.InvariantCulture);
            }
            if (from < min || to > max || from > to)
            {
                error = $"is out of range; values go from {min} to {max}.";
                return null;
            }
            for (var v = from; v <= to; v += step) set[v] = true;
        }
        error = null;
        return set;
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";
}
