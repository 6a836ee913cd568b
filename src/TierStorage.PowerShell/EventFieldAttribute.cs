using System.Collections;
using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell;

/// <summary>What an event field parameter holds, for <see cref="EventFieldAttribute"/>.</summary>
internal enum EventFieldKind
{
    Text,
    Count,
    Boolean,
    Timestamp,
    Tokens,
    Data,
}

/// <summary>
/// Converts the values PowerShell users pipe into an event field (Import-Csv strings, ConvertFrom-Json objects) before
/// binding: a blank value is an absent field, text converts by the engine's rules, and a value that cannot convert fails
/// that pipeline item with an error naming the field, instead of PowerShell silently leaving the parameter unbound.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class EventFieldAttribute(string field, EventFieldKind kind) : ArgumentTransformationAttribute
{
    /// <summary>The field's log name (duration_ms, success, ...), used in error messages.</summary>
    public string Field { get; } = field;

    public EventFieldKind Kind { get; } = kind;

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapper && wrapper.BaseObject is not PSCustomObject ? wrapper.BaseObject : inputData;
        try
        {
            return Kind switch
            {
                EventFieldKind.Text => value is string or null ? EventFieldText.ToText(value) : inputData,
                EventFieldKind.Count => EventFieldText.ToCount(Field, value),
                EventFieldKind.Boolean => EventFieldText.ToBoolean(Field, value),
                EventFieldKind.Timestamp => EventFieldText.ToTimestamp(Field, value),
                EventFieldKind.Tokens => ToTokens(value),
                _ => ToData(value),
            };
        }
        catch (TierStorageException exception)
        {
            throw new ArgumentTransformationMetadataException(exception.Message, exception);
        }
    }

    private TokenUsage? ToTokens(object? value) => value switch
    {
        null => null,
        string text when string.IsNullOrWhiteSpace(text) => null,
        TokenUsage tokens => tokens,
        IDictionary dictionary => EventJson.TokensFrom(dictionary.Cast<DictionaryEntry>()
            .Select(e => KeyValuePair.Create(Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "", Unwrap(e.Value)))),
        PSObject custom => EventJson.TokensFrom(custom.Properties.Select(p => KeyValuePair.Create(p.Name, Unwrap(p.Value)))),
        _ => throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidArgument,
            $"Invalid event: field '{Field}': a {value.GetType().Name} is not an object of input, output, cache_read and cache_write counts.", Field),
    };

    private object? ToData(object? value) => value switch
    {
        null => null,
        string text when string.IsNullOrWhiteSpace(text) => null,
        IDictionary dictionary => dictionary,
        // ConvertFrom-Json gives a [pscustomobject], which is no IDictionary: its properties are the data.
        PSObject custom => PlainData.FromObject(custom),
        _ => throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidArgument,
            $"Invalid event: field '{Field}': a {value.GetType().Name} is not an object (use a hashtable or an object with properties).", Field),
    };

    private static object? Unwrap(object? value) => value is PSObject wrapper && wrapper.BaseObject is not PSCustomObject ? wrapper.BaseObject : value;
}
