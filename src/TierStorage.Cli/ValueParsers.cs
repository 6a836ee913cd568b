using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace TierStorage.Cli;

/// <summary>Option factories whose values fail at parse time (exit 2) with a message that names the option.</summary>
internal static class ValueParsers
{
    public static Option<DateTimeOffset?> Timestamp(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ISO-8601",
        CustomParser = result =>
        {
            var token = result.Tokens.Single().Value;
            // A time without an offset is taken as UTC so a query means the same on every machine.
            if (DateTimeOffset.TryParse(token, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)) return value;
            result.AddError($"{name}: '{token}' is not an ISO-8601 time (e.g. 2026-01-31T14:05:00Z).");
            return null;
        },
    };

    public static Option<bool?> Boolean(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "true|false",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result =>
        {
            var token = result.Tokens.Single().Value;
            if (bool.TryParse(token, out var value)) return value;
            result.AddError($"{name}: '{token}' is not true or false.");
            return null;
        },
    };

    public static Option<int?> Count(string name, string description, int minimum) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var token = result.Tokens.Single().Value;
            if (int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum) return value;
            result.AddError($"{name}: '{token}' is not a whole number of at least {minimum}.");
            return null;
        },
    };

    public static Option<long?> Long(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var token = result.Tokens.Single().Value;
            if (long.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0) return value;
            result.AddError($"{name}: '{token}' is not a non-negative whole number.");
            return null;
        },
    };

    /// <summary>Accepts the activity-log spelling (tool_call) and the .NET one (ToolCall), in any case.</summary>
    public static Option<TEnum?> Enum<TEnum>(string name, string description) where TEnum : struct, System.Enum => new(name)
    {
        Description = $"{description}: {string.Join(", ", System.Enum.GetNames<TEnum>().Select(SnakeCase))}",
        HelpName = "NAME",
        CustomParser = result =>
        {
            var token = result.Tokens.Single().Value;
            if (TryParseEnum<TEnum>(token, out var value)) return value;
            result.AddError($"{name}: '{token}' is not one of {string.Join(", ", System.Enum.GetNames<TEnum>().Select(SnakeCase))}.");
            return null;
        },
    };

    public static bool TryParseEnum<TEnum>(string text, out TEnum value) where TEnum : struct, System.Enum
    {
        var compact = text.Replace("_", "").Replace("-", "");
        // Enum.TryParse also takes numbers; a number is never what the user meant by a name.
        return System.Enum.TryParse(compact, ignoreCase: true, out value)
               && !compact.All(char.IsAsciiDigit) && System.Enum.IsDefined(value);
    }

    public static string SnakeCase(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Adds a parse error when more than one of <paramref name="options"/> is given.</summary>
    public static void ExcludeEachOther(Command command, params Option[] options) =>
        command.Validators.Add(result =>
        {
            var given = options.Where(o => result.GetResult(o) is not null).Select(o => o.Name).ToList();
            if (given.Count > 1) result.AddError($"{string.Join(" and ", given)} cannot be used together.");
        });

    internal static bool IsGiven(CommandResult result, Option option) => result.GetResult(option) is not null;
}
