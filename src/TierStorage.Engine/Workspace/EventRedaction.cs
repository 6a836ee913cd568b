using System.Globalization;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.Engine.Workspace;

/// <summary>Applies the policy's redaction to every text an event carries, before anything is written.</summary>
public sealed class EventRedaction
{
    private const string SensitiveValue = "[REDACTED:sensitive_key]";
    private readonly Redactor _redactor;

    public EventRedaction(Redactor redactor) => _redactor = redactor;

    /// <param name="warning">Told, naming the session, the event and the field, when a field could not be scanned within
    /// the redaction time limit (a huge field, such as 20 MB of tool output) and was stored as [REDACTED:...] in full.</param>
    /// <param name="sessionId">Names the session in that warning when the event does not carry it yet.</param>
    /// <returns>The event itself when nothing in it is a secret (most events: no copy of them or of their data is made).</returns>
    public SessionEvent Apply(SessionEvent e, Action<string>? warning = null, string? sessionId = null)
    {
        var fields = new Fields(this, e, e.SessionId.Length > 0 ? e.SessionId : sessionId ?? "(active session)", warning);
        var (agent, tool, task, model, errorType, file) = (fields.Text("agent", e.Agent), fields.Text("tool", e.Tool), fields.Text("task", e.Task),
            fields.Text("model", e.Model), fields.Text("errorType", e.ErrorType), fields.Text("file", e.File));
        var data = e.Data is null ? null : fields.Map("data", e.Data);
        if (ReferenceEquals(agent, e.Agent) && ReferenceEquals(tool, e.Tool) && ReferenceEquals(task, e.Task) && ReferenceEquals(model, e.Model)
            && ReferenceEquals(errorType, e.ErrorType) && ReferenceEquals(file, e.File) && ReferenceEquals(data, e.Data))
            return e;
        return e with { Agent = agent, Tool = tool, Task = task, Model = model, ErrorType = errorType, File = file, Data = data };
    }

    /// <summary>A copy of an event's data, its nested maps and lists copied too: what a caller keeps a reference to can change after.</summary>
    internal static IReadOnlyDictionary<string, object?> Copy(IReadOnlyDictionary<string, object?> data)
    {
        var copy = new Dictionary<string, object?>(data.Count, StringComparer.Ordinal);
        foreach (var (key, value) in data) copy[key] = CopyValue(value);
        return copy;
    }

    private static object? CopyValue(object? value) => value switch
    {
        string => value,
        IReadOnlyDictionary<string, object?> map => Copy(map),
        IEnumerable<object?> list => list.Select(CopyValue).ToList(),
        _ => value,
    };

    /// <summary>A whole document (a snapshot's JSON, a handoff note) with every secret the patterns know replaced;
    /// quoted JSON values are redacted inside their quotes, so JSON stays JSON.</summary>
    public string Document(string text) => _redactor.Redact(text);

    /// <summary>As <see cref="Document(string)"/>; <paramref name="warning"/> is told, naming <paramref name="what"/>, when the
    /// document could not be scanned in time and was replaced in full.</summary>
    public string Document(string text, string what, Action<string>? warning)
    {
        var redacted = _redactor.Redact(text, out var whole);
        if (whole is not null)
            warning?.Invoke($"{what} ({text.Length:N0} characters) could not be scanned for secrets within the redaction time limit of " +
                $"{_redactor.MatchTimeout.TotalSeconds:0.#} s, so it was stored as [REDACTED:{whole}] in full.");
        return redacted;
    }

    /// <summary>One event's redaction: knows the event, to name it when a field had to go in full.</summary>
    private sealed class Fields(EventRedaction owner, SessionEvent e, string sessionId, Action<string>? warning)
    {
        public string? Text(string field, string? value) => Text(field, null, value);

        /// <param name="key">With <paramref name="path"/>, names the field ("path.key"): only put together for a warning, as
        /// every field of every event is redacted.</param>
        private string? Text(string path, string? key, string? value)
        {
            if (value is null) return null;
            var redacted = owner._redactor.Redact(value, out var whole);
            if (whole is not null && warning is not null)
                warning(string.Create(CultureInfo.InvariantCulture,
                    $"Session '{sessionId}', {EventJson.ToWireName(e.Type)} event at {e.Timestamp:O}: field '{(key is null ? path : $"{path}.{key}")}' " +
                    $"({value.Length:N0} characters) could not be scanned for secrets within the redaction time limit of {owner._redactor.MatchTimeout.TotalSeconds:0.#} s, " +
                    $"so it was stored as [REDACTED:{whole}] in full. Keep such output out of events, or store it as a snapshot."));
            return redacted;
        }

        /// <returns><paramref name="data"/> itself when none of its values changed.</returns>
        public IReadOnlyDictionary<string, object?> Map(string path, IReadOnlyDictionary<string, object?> data)
        {
            Dictionary<string, object?>? result = null;
            var index = 0;
            foreach (var (key, value) in data)
            {
                var redacted = owner._redactor.IsSensitiveKey(key) && value is not null and not IReadOnlyDictionary<string, object?> ? SensitiveValue
                    : value switch
                    {
                        string text => Text(path, key, text),
                        IReadOnlyDictionary<string, object?> or IEnumerable<object?> => Value($"{path}.{key}", value),
                        _ => value,
                    };
                if (result is null && !ReferenceEquals(redacted, value))
                {
                    // The first change: the values before it are kept as they are.
                    result = new Dictionary<string, object?>(data.Count, StringComparer.Ordinal);
                    foreach (var (earlierKey, earlier) in data.Take(index)) result[earlierKey] = earlier;
                }
                if (result is not null) result[key] = redacted;
                index++;
            }
            return result ?? data;
        }

        private object? Value(string path, object? value)
        {
            switch (value)
            {
                case string s:
                    return Text(path, s);
                case IReadOnlyDictionary<string, object?> map:
                    return Map(path, map);
                case IEnumerable<object?> list:
                    var items = list.Select((item, i) => (Item: item, Redacted: Value($"{path}[{i}]", item))).ToList();
                    return items.TrueForAll(x => ReferenceEquals(x.Item, x.Redacted)) ? value : items.ConvertAll(x => x.Redacted);
                default:
                    return value;
            }
        }
    }
}
