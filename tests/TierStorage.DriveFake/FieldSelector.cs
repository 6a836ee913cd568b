using System.Text.Json.Nodes;

namespace TierStorage.DriveFake;

/// <summary>Drive's partial-response <c>fields</c> parameter: <c>id,name,files(id,size),nextPageToken</c> or <c>*</c>.</summary>
internal sealed class FieldSelector
{
    private readonly Dictionary<string, FieldSelector?>? _fields;

    private FieldSelector(Dictionary<string, FieldSelector?>? fields) => _fields = fields;

    public static FieldSelector All { get; } = new(null);

    /// <summary>The selection <paramref name="fields"/> asks for, or <paramref name="defaults"/> when it is absent.</summary>
    public static FieldSelector Parse(string? fields, string defaults)
    {
        var text = string.IsNullOrWhiteSpace(fields) ? defaults : fields;
        var position = 0;
        var selector = ParseList(text, ref position);
        if (position != text.Length) throw new FormatException("Invalid field selection.");
        return selector;
    }

    private static FieldSelector ParseList(string text, ref int position)
    {
        var fields = new Dictionary<string, FieldSelector?>(StringComparer.Ordinal);
        while (position < text.Length && text[position] != ')')
        {
            var start = position;
            while (position < text.Length && text[position] is not (',' or '(' or ')')) position++;
            var name = text[start..position].Trim();
            if (name.Length == 0) throw new FormatException("Invalid field selection.");
            FieldSelector? nested = null;
            if (position < text.Length && text[position] == '(')
            {
                position++;
                nested = ParseList(text, ref position);
                if (position >= text.Length || text[position] != ')') throw new FormatException("Invalid field selection.");
                position++;
            }
            if (name == "*") return All;
            fields[name] = nested;
            if (position < text.Length && text[position] == ',') position++;
        }
        return new FieldSelector(fields);
    }

    /// <summary>Keeps only the selected members of <paramref name="value"/> (recursing into arrays of objects).</summary>
    public JsonObject Apply(JsonObject value)
    {
        if (_fields is null) return value;
        var result = new JsonObject();
        foreach (var (name, nested) in _fields)
        {
            if (!value.TryGetPropertyValue(name, out var member) || member is null) continue;
            value.Remove(name);
            result[name] = (nested, member) switch
            {
                (null, _) => member,
                (_, JsonObject obj) => nested.Apply(obj),
                (_, JsonArray array) => new JsonArray(array.ToList().Select(item =>
                {
                    array.Remove(item);
                    return item is JsonObject o ? (JsonNode)nested.Apply(o) : item;
                }).ToArray()),
                _ => member,
            };
        }
        return result;
    }
}
