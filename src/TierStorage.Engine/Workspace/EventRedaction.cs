using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.Engine.Workspace;

/// <summary>Applies the policy's redaction to every text an event carries, before anything is written.</summary>
public sealed class EventRedaction
{
    private const string SensitiveValue = "[REDACTED:sensitive_key]";
    private readonly Redactor _redactor;

    public EventRedaction(Redactor redactor) => _redactor = redactor;

    public SessionEvent Apply(SessionEvent e) => e with
    {
        Agent = Text(e.Agent),
        Tool = Text(e.Tool),
        Task = Text(e.Task),
        Model = Text(e.Model),
        ErrorType = Text(e.ErrorType),
        File = Text(e.File),
        Data = e.Data is null ? null : Map(e.Data),
    };

    private string? Text(string? value) => value is null ? null : _redactor.Redact(value);

    /// <summary>A whole document (a snapshot's JSON, a handoff note) with every secret the patterns know replaced;
    /// quoted JSON values are redacted inside their quotes, so JSON stays JSON.</summary>
    public string Document(string text) => _redactor.Redact(text);

    private Dictionary<string, object?> Map(IReadOnlyDictionary<string, object?> data)
    {
        var result = new Dictionary<string, object?>(data.Count, StringComparer.Ordinal);
        foreach (var (key, value) in data)
            result[key] = _redactor.IsSensitiveKey(key) && value is not null and not IReadOnlyDictionary<string, object?> ? SensitiveValue : Value(value);
        return result;
    }

    private object? Value(object? value) => value switch
    {
        string s => _redactor.Redact(s),
        IReadOnlyDictionary<string, object?> map => Map(map),
        IEnumerable<object?> list => list.Select(Value).ToList(),
        _ => value,
    };
}
