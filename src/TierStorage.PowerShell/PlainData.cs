using System.Collections;
using System.Management.Automation;

namespace TierStorage.PowerShell;

/// <summary>
/// Turns PowerShell values (hashtables, PSObject wrappers, arrays) into the plain nested
/// Dictionary / List / scalar shape the engine stores in an event's data. Lives here because only
/// this assembly may know PSObject.
/// </summary>
internal static class PlainData
{
    public static IReadOnlyDictionary<string, object?>? FromDictionary(IDictionary? dictionary)
    {
        if (dictionary is null)
        {
            return null;
        }

        var result = new Dictionary<string, object?>(dictionary.Count, StringComparer.Ordinal);
        foreach (DictionaryEntry entry in dictionary)
        {
            result[Convert.ToString(Unwrap(entry.Key), System.Globalization.CultureInfo.InvariantCulture) ?? ""] = FromValue(entry.Value);
        }

        return result;
    }

    /// <summary>A [pscustomobject]'s properties as a plain dictionary, nested values converted too.</summary>
    public static Dictionary<string, object?> FromObject(PSObject custom) => FromProperties(custom);

    private static object? FromValue(object? value) => Unwrap(value) switch
    {
        null => null,
        string text => text,
        IDictionary dictionary => FromDictionary(dictionary),
        PSObject custom => FromProperties(custom),
        IEnumerable items => items.Cast<object?>().Select(FromValue).ToList(),
        var scalar => scalar,
    };

    // [pscustomobject] has no base object of its own: its note properties are the data.
    private static Dictionary<string, object?> FromProperties(PSObject custom)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in custom.Properties)
        {
            result[property.Name] = FromValue(property.Value);
        }

        return result;
    }

    private static object? Unwrap(object? value) =>
        value is PSObject wrapper && wrapper.BaseObject is not PSCustomObject ? wrapper.BaseObject : value;
}
