using System.Globalization;

namespace TierStorage.Cli.Output;

/// <summary>How values look in human output (JSON output uses the raw values).</summary>
public static class Display
{
    private static readonly string[] Units = ["B", "KB", "MB", "GB", "TB"];

    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {Units[unit]}");
    }

    /// <summary>Local time to the second: what a person compares with their clock.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";

    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "",
        { TotalDays: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalDays}d {d.Hours}h {d.Minutes}m"),
        { TotalHours: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{d.Hours}h {d.Minutes}m"),
        { TotalMinutes: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{d.Minutes}m {d.Seconds}s"),
        { } d => string.Create(CultureInfo.InvariantCulture, $"{d.TotalSeconds:0.#}s"),
    };

    public static string Number<T>(T? value) where T : struct, IFormattable =>
        value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) : "";

    public static string YesNo(bool? value) => value switch
    {
        true => "yes",
        false => "no",
        null => "",
    };
}
