using System.Globalization;
using System.Text.RegularExpressions;

namespace TierStorage.Engine.Policy;

/// <summary>Parses sizes written as "20MB", "1.5GiB" or "15 GB"; decimal units are powers of 1000, binary units of 1024.</summary>
internal static partial class SizeParser
{
    private static readonly Dictionary<string, decimal> Units = new(StringComparer.OrdinalIgnoreCase)
    {
        [""] = 1m,
        ["B"] = 1m,
        ["KB"] = 1e3m,
        ["MB"] = 1e6m,
        ["GB"] = 1e9m,
        ["TB"] = 1e12m,
        ["PB"] = 1e15m,
        ["KiB"] = 1024m,
        ["MiB"] = 1024m * 1024,
        ["GiB"] = 1024m * 1024 * 1024,
        ["TiB"] = 1024m * 1024 * 1024 * 1024,
        ["PiB"] = 1024m * 1024 * 1024 * 1024 * 1024,
    };

    /// <summary>False when the text is not a size or does not fit in a long.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text);
        if (!match.Success || !Units.TryGetValue(match.Groups["unit"].Value, out var multiplier)) return false;
        if (!decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
        try
        {
            var value = decimal.Round(number * multiplier, MidpointRounding.AwayFromZero);
            if (value > long.MaxValue) return false;
            bytes = (long)value;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\s*(?<number>[0-9]{1,20}(?:\.[0-9]{1,10})?)\s*(?<unit>[A-Za-z]{0,3})\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
