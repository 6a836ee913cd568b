using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>The activity-log line format (one JSON object per line, snake_case fields).</summary>
public static class EventJson
{
    private enum Field { Timestamp, Session, Type, Agent, Tool, Task, DurationMs, Tokens, Model, Success, ErrorType, File, Data, Id }

    private const int FieldCount = (int)Field.Id + 1;

    /// <summary>Longest event id accepted: an identity, not a payload.</summary>
    public const int MaxIdLength = 200;

    private enum TokenField { Input, Output, CacheRead, CacheWrite }

    private static readonly string[] WireNames =
    [
        "session_start", "session_end", "agent_invocation", "tool_call", "file_operation", "llm_call", "error", "decision", "snapshot",
    ];

    /// <summary>The event types the product writes, as they appear in logs and the catalog.</summary>
    internal static IReadOnlyList<string> TypeNames => WireNames;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The log is read by people and tools, not embedded in HTML: keep non-ASCII text readable.
        // Control characters (newlines included) are still escaped, so an event is always one line.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Every write sequence here is fixed and balanced; skipping the writer's own bookkeeping matters per event.
        SkipValidation = true,
    };

    private static readonly string ValidTypeList = string.Join(", ", WireNames);

    /// <summary>Parses one line. Throws TierStorageException(ErrorIds.InvalidEvent) naming the field at fault
    /// (not JSON, missing timestamp, unknown type, wrong field type). Session may come from <paramref name="defaultSessionId"/>.</summary>
    public static SessionEvent Parse(string json, string? defaultSessionId) => ParseLine(json, defaultSessionId, forAppend: false);

    /// <summary>Parses one line given to be appended (Add-SessionEvent -Json, tierstorage event add): as
    /// <see cref="Parse"/>, but a missing timestamp means now and a missing session the one appended to, both filled in by the
    /// <see cref="EventAppender"/> (the event comes back with a default Timestamp and an empty SessionId).</summary>
    public static SessionEvent ParseInput(string json) => ParseLine(json, defaultSessionId: null, forAppend: true);

    private static SessionEvent ParseLine(string json, string? defaultSessionId, bool forAppend)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw Invalid($"event is not valid JSON ({ex.Message})", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid($"event must be a JSON object, not {Describe(root.ValueKind)}");
            return ParseObject(root, defaultSessionId, forAppend);
        }
    }

    public static string Serialize(SessionEvent sessionEvent)
    {
        ArgumentNullException.ThrowIfNull(sessionEvent);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            Write(writer, sessionEvent);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Appends each event as one UTF-8 line (its JSON and '\n') to <paramref name="output"/>: one writer for the
    /// whole batch, no string per event, which is what lets bulk appends run at 100,000+ events/s.</summary>
    public static void WriteLines(IEnumerable<SessionEvent> events, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        foreach (var sessionEvent in events)
        {
            Write(writer, sessionEvent);
            writer.Flush();
            output.Write("\n"u8);
            writer.Reset(output);
        }
    }

    /// <summary>As <see cref="WriteLines(IEnumerable{SessionEvent}, IBufferWriter{byte})"/>, noting in <paramref name="ends"/> where each
    /// event's line ends in <paramref name="output"/> (its WrittenCount after the line's '\n').</summary>
    internal static void WriteLines(IReadOnlyList<SessionEvent> events, ArrayBufferWriter<byte> output, Span<int> ends)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        if (ends.Length < events.Count) throw new ArgumentException("One end per event is needed.", nameof(ends));
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        for (var i = 0; i < events.Count; i++)
        {
            Write(writer, events[i]);
            writer.Flush();
            output.Write("\n"u8);
            writer.Reset(output);
            ends[i] = output.WrittenCount;
        }
    }

    private static void Write(Utf8JsonWriter writer, SessionEvent sessionEvent)
    {
        writer.WriteStartObject();
        Span<byte> timestamp = stackalloc byte[TimestampLength];
        FormatTimestamp(sessionEvent.Timestamp, timestamp);
        writer.WriteString("timestamp"u8, timestamp);
        writer.WriteString("session"u8, sessionEvent.SessionId);
        writer.WriteString("type"u8, ToWireName(sessionEvent.Type));
        WriteOptional(writer, "agent"u8, sessionEvent.Agent);
        WriteOptional(writer, "tool"u8, sessionEvent.Tool);
        WriteOptional(writer, "task"u8, sessionEvent.Task);
        if (sessionEvent.DurationMs is { } duration) writer.WriteNumber("duration_ms"u8, duration);
        if (sessionEvent.Tokens is { } tokens)
        {
            writer.WriteStartObject("tokens");
            writer.WriteNumber("input", tokens.Input);
            writer.WriteNumber("output", tokens.Output);
            writer.WriteNumber("cache_read", tokens.CacheRead);
            writer.WriteNumber("cache_write", tokens.CacheWrite);
            writer.WriteEndObject();
        }
        WriteOptional(writer, "model"u8, sessionEvent.Model);
        if (sessionEvent.Success is { } success) writer.WriteBoolean("success"u8, success);
        WriteOptional(writer, "error_type"u8, sessionEvent.ErrorType);
        WriteOptional(writer, "file"u8, sessionEvent.File);
        if (sessionEvent.Data is { } data)
        {
            writer.WritePropertyName("data");
            WriteValue(writer, data, "data");
        }
        WriteOptional(writer, "id"u8, sessionEvent.Id);
        writer.WriteEndObject();
    }

    /// <summary>The free `data` object as JSON text (null stays null) and back into nested
    /// Dictionary&lt;string, object?&gt; / List&lt;object?&gt; / string / long / double / bool values.</summary>
    public static string? SerializeData(IReadOnlyDictionary<string, object?>? data)
    {
        if (data is null) return null;
        // One buffer and writer per thread, reused: an import serializes the data of every event it reads.
        var (buffer, writer) = t_dataWriter ??= NewDataWriter();
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            WriteValue(writer, data, "data");
            writer.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            // A huge value's buffer is not kept for the thread's lifetime.
            if (buffer.Capacity > MaxKeptDataBuffer) t_dataWriter = null;
        }
    }

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_dataWriter;

    private const int MaxKeptDataBuffer = 64 * 1024;

    private static (ArrayBufferWriter<byte>, Utf8JsonWriter) NewDataWriter()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        return (buffer, new Utf8JsonWriter(buffer, WriterOptions));
    }

    public static IReadOnlyDictionary<string, object?>? ParseData(string? json)
    {
        if (json is null) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid($"data must be a JSON object, not {Describe(document.RootElement.ValueKind)}");
            return ReadObject(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw Invalid($"data is not valid JSON ({ex.Message})", ex);
        }
    }

    /// <summary>snake_case name of an event type (tool_call) and back.</summary>
    public static string ToWireName(SessionEventType type)
    {
        var index = (int)type;
        if (index < 0 || index >= WireNames.Length)
            throw new ArgumentOutOfRangeException(nameof(type), type, "Not a known event type.");
        return WireNames[index];
    }

    /// <summary>Accepts the wire name (tool_call) and, for input written by PowerShell, the enum name (ToolCall, toolCall).</summary>
    public static bool TryParseType(string name, out SessionEventType type) =>
        ReadNames.TypesByName.TryGetValue(name ?? "", out type);

    private static SessionEvent ParseObject(JsonElement root, string? defaultSessionId, bool forAppend)
    {
        var seen = new bool[FieldCount];
        DateTimeOffset? timestamp = null;
        string? session = null;
        SessionEventType? type = null;
        string? agent = null, tool = null, task = null, model = null, errorType = null, file = null;
        long? durationMs = null;
        TokenUsage? tokens = null;
        bool? success = null;
        IReadOnlyDictionary<string, object?>? data = null;
        string? id = null;

        foreach (var property in root.EnumerateObject())
        {
            if (!ReadNames.Fields.TryGetValue(property.Name, out var field))
                throw Invalid($"unknown field '{property.Name}' (valid fields: timestamp, session, type, agent, tool, task, duration_ms, tokens, model, success, error_type, file, data, id)");
            if (seen[(int)field])
                throw Invalid($"field '{property.Name}' appears more than once");
            seen[(int)field] = true;

            var value = property.Value;
            // JSON null means "absent", which is how ConvertTo-Json writes unset properties.
            if (value.ValueKind == JsonValueKind.Null && field is not (Field.Timestamp or Field.Type)) continue;

            switch (field)
            {
                case Field.Timestamp: timestamp = ReadTimestamp(value); break;
                case Field.Session: session = ReadString(value, "session"); break;
                case Field.Type: type = ReadType(value); break;
                case Field.Agent: agent = ReadString(value, "agent"); break;
                case Field.Tool: tool = ReadString(value, "tool"); break;
                case Field.Task: task = ReadString(value, "task"); break;
                case Field.DurationMs: durationMs = ReadCount(value, "duration_ms"); break;
                case Field.Tokens: tokens = ReadTokens(value); break;
                case Field.Model: model = ReadString(value, "model"); break;
                case Field.Success:
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                        throw Invalid($"field 'success' must be true or false, not {Describe(value.ValueKind)}");
                    success = value.GetBoolean();
                    break;
                case Field.ErrorType: errorType = ReadString(value, "error_type"); break;
                case Field.File: file = ReadString(value, "file"); break;
                case Field.Data:
                    if (value.ValueKind != JsonValueKind.Object)
                        throw Invalid($"field 'data' must be a JSON object, not {Describe(value.ValueKind)}");
                    data = ReadObject(value);
                    break;
                case Field.Id: id = ReadId(value); break;
            }
        }

        if (timestamp is null && !forAppend) throw Invalid("field 'timestamp' is missing");
        if (type is null) throw Invalid($"field 'type' is missing (valid types: {ValidTypeList})");
        session ??= defaultSessionId;
        if (session is null && !forAppend) throw Invalid("field 'session' is missing and there is no current session to default to");
        if (session is not null)
        {
            try
            {
                SessionIds.Validate(session);
            }
            catch (TierStorageException ex)
            {
                throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidData, $"Invalid event: field 'session': {ex.Message}", session, ex);
            }
        }

        return new SessionEvent
        {
            Timestamp = timestamp ?? default,
            SessionId = session ?? "",
            Type = type.Value,
            Agent = agent,
            Tool = tool,
            Task = task,
            DurationMs = durationMs,
            Tokens = tokens,
            Model = model,
            Success = success,
            ErrorType = errorType,
            File = file,
            Data = data,
            Id = id,
        };
    }

    /// <summary>An event id is text or a whole number (written back as text), 1 to <see cref="MaxIdLength"/> characters.</summary>
    private static string ReadId(JsonElement value)
    {
        var id = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number when value.TryGetInt64(out var number) => number.ToString(CultureInfo.InvariantCulture),
            _ => throw Invalid($"field 'id' must be a string or a whole number, not {Describe(value.ValueKind)}"),
        };
        return CheckId(id);
    }

    /// <summary>Throws ErrorIds.InvalidEvent unless <paramref name="id"/> can be an event id (see <see cref="MaxIdLength"/>).</summary>
    public static string CheckId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length == 0 || id.Length > MaxIdLength || string.IsNullOrWhiteSpace(id))
            throw Invalid($"field 'id' must be 1 to {MaxIdLength} characters and not blank, not '{Truncate(id)}'");
        return id;
    }

    /// <summary>Token counts from named values (a PowerShell object's properties, a hashtable's entries): input, output,
    /// cache_read and cache_write in any case, with or without underscores; each a whole number 0 or more, or a string of one.
    /// Null when there are no entries. Throws ErrorIds.InvalidEvent naming the entry at fault.</summary>
    public static TokenUsage? TokensFrom(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var counts = new long[4];
        var any = false;
        long? total = null;
        foreach (var (name, value) in entries)
        {
            // TokenUsage's own Total, as ConvertTo-Json writes it: derived, so it must agree with the parts (checked below).
            if (string.Equals(name, nameof(TokenUsage.Total), StringComparison.OrdinalIgnoreCase))
            {
                total = EventFieldText.ToCount("tokens." + name, value);
                continue;
            }
            if (!ReadNames.TokenFields.TryGetValue(name, out var field))
                throw Invalid($"unknown field 'tokens.{name}' (valid fields: input, output, cache_read, cache_write)");
            var count = EventFieldText.ToCount("tokens." + name, value);
            if (count is null) continue;
            if (count < 0) throw Invalid($"field 'tokens.{name}' must be 0 or more, not {count}");
            counts[(int)field] = count.Value;
            any = true;
        }
        var tokens = any ? new TokenUsage { Input = counts[0], Output = counts[1], CacheRead = counts[2], CacheWrite = counts[3] } : null;
        if (total is { } stated && stated != (tokens?.Total ?? 0))
            throw Invalid($"field 'tokens.total' is {stated}, but input, output, cache_read and cache_write add up to {tokens?.Total ?? 0}");
        return tokens;
    }

    /// <summary>Earlier timestamps are refused: 0001-01-01 (a default value) was taken for "no timestamp" and stored as now.</summary>
    public static readonly DateTimeOffset EarliestTimestamp = DateTimeOffset.UnixEpoch;

    private static DateTimeOffset ReadTimestamp(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
            throw Invalid($"field 'timestamp' must be an ISO-8601 string, not {Describe(value.ValueKind)}");
        var text = value.GetString()!;
        if (!value.TryGetDateTimeOffset(out var parsed))
            throw Invalid($"field 'timestamp' value '{Truncate(text)}' is not an ISO-8601 date and time (e.g. 2026-11-22T05:32:50.123Z)");
        // Without an offset the parser would assume this machine's zone, and the same line would mean
        // different instants on different machines.
        if (!HasOffset(text))
            throw Invalid($"field 'timestamp' value '{Truncate(text)}' has no UTC offset (end it with Z or +hh:mm)");
        if (parsed < EarliestTimestamp)
            throw Invalid($"field 'timestamp' value '{Truncate(text)}' is before {EarliestTimestamp:yyyy-MM-dd}; no agent recorded events then");
        return parsed;
    }

    private static bool HasOffset(string text)
    {
        var t = text.IndexOf('T');
        if (t < 0) t = text.IndexOf('t');
        if (t < 0) return false;
        for (var i = t + 1; i < text.Length; i++)
        {
            if (text[i] is 'Z' or 'z' or '+' or '-') return true;
        }
        return false;
    }

    private static SessionEventType ReadType(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String || !TryParseType(value.GetString()!, out var type))
        {
            var shown = value.ValueKind == JsonValueKind.String ? $"'{Truncate(value.GetString()!)}'" : Describe(value.ValueKind);
            throw Invalid($"field 'type' value {shown} is not a known event type (valid types: {ValidTypeList})");
        }
        return type;
    }

    private static string ReadString(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.String)
            throw Invalid($"field '{name}' must be a string, not {Describe(value.ValueKind)}");
        return value.GetString()!;
    }

    private static long ReadCount(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Number)
            throw Invalid($"field '{name}' must be a number, not {Describe(value.ValueKind)}");
        if (!value.TryGetInt64(out var number))
            throw Invalid($"field '{name}' must be a whole number, not {value.GetRawText()}");
        if (number < 0)
            throw Invalid($"field '{name}' must not be negative ({number})");
        return number;
    }

    private static TokenUsage ReadTokens(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid($"field 'tokens' must be an object with input, output, cache_read, cache_write, not {Describe(value.ValueKind)}");
        long input = 0, output = 0, cacheRead = 0, cacheWrite = 0;
        foreach (var property in value.EnumerateObject())
        {
            if (!ReadNames.TokenFields.TryGetValue(property.Name, out var field))
                throw Invalid($"unknown field 'tokens.{property.Name}' (valid: input, output, cache_read, cache_write)");
            if (property.Value.ValueKind == JsonValueKind.Null) continue;
            switch (field)
            {
                case TokenField.Input: input = ReadCount(property.Value, "tokens.input"); break;
                case TokenField.Output: output = ReadCount(property.Value, "tokens.output"); break;
                case TokenField.CacheRead: cacheRead = ReadCount(property.Value, "tokens.cache_read"); break;
                case TokenField.CacheWrite: cacheWrite = ReadCount(property.Value, "tokens.cache_write"); break;
            }
        }
        return new TokenUsage { Input = input, Output = output, CacheRead = cacheRead, CacheWrite = cacheWrite };
    }

    private static Dictionary<string, object?> ReadObject(JsonElement element)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject()) result[property.Name] = ReadValue(property.Value);
        return result;
    }

    private static object? ReadValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ReadObject(element),
        JsonValueKind.Array => ReadArray(element),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var whole) ? (object)whole
            : element.TryGetDouble(out var real) && double.IsFinite(real) ? real
            // 1e400 is valid JSON but no double: refused with this line, not later by the writer with the whole batch.
            : throw Invalid($"field 'data' holds the number {Truncate(element.GetRawText())}, which is out of range for a 64-bit floating-point value"),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static List<object?> ReadArray(JsonElement element)
    {
        var result = new List<object?>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray()) result.Add(ReadValue(item));
        return result;
    }

    private static void WriteOptional(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null) writer.WriteString(name, value);
    }

    /// <summary>An event's data into a writer of another document (the CLI's --json output): as the log writes it.</summary>
    public static void WriteData(Utf8JsonWriter writer, IReadOnlyDictionary<string, object?> data) => WriteValue(writer, data, "data");

    // Accepts what callers realistically hand us: our own parsed values, PowerShell hashtables and arrays,
    // and common scalars. Anything else is refused by path rather than stored as a type name.
    private static void WriteValue(Utf8JsonWriter writer, object? value, string path)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case long l: writer.WriteNumberValue(l); break;
            case int i: writer.WriteNumberValue(i); break;
            case short sh: writer.WriteNumberValue(sh); break;
            case byte by: writer.WriteNumberValue(by); break;
            case uint ui: writer.WriteNumberValue(ui); break;
            case ulong ul: writer.WriteNumberValue(ul); break;
            case double d: WriteFinite(writer, d, path); break;
            case float f: WriteFinite(writer, f, path); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case DateTimeOffset dto: writer.WriteStringValue(FormatTimestamp(dto)); break;
            case DateTime dt: writer.WriteStringValue(FormatTimestamp(new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt))); break;
            case Guid g: writer.WriteStringValue(g.ToString()); break;
            case Enum e: writer.WriteStringValue(e.ToString()); break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item, path + "." + key);
                }
                writer.WriteEndObject();
                break;
            case IDictionary map:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    var key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
                    writer.WritePropertyName(key);
                    WriteValue(writer, entry.Value, path + "." + key);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in list) WriteValue(writer, item, $"{path}[{index++}]");
                writer.WriteEndArray();
                break;
            default:
                throw Invalid($"field '{path}' holds a {value.GetType().Name}, which cannot be stored (use strings, numbers, booleans, objects and arrays)");
        }
    }

    private static void WriteFinite(Utf8JsonWriter writer, double value, string path)
    {
        if (!double.IsFinite(value)) throw Invalid($"field '{path}' is {value}, which JSON cannot represent");
        writer.WriteNumberValue(value);
    }

    /// <summary>UTC with millisecond precision: the catalog stores unix milliseconds, so this is what round-trips.</summary>
    private const int TimestampLength = 24;

    private static string FormatTimestamp(DateTimeOffset value)
    {
        Span<byte> utf8 = stackalloc byte[TimestampLength];
        FormatTimestamp(value, utf8);
        return Encoding.ASCII.GetString(utf8);
    }

    /// <summary>yyyy-MM-ddTHH:mm:ss.fffZ (UTC) written by hand: a format string is parsed on every call, and this runs once per event.</summary>
    private static void FormatTimestamp(DateTimeOffset value, Span<byte> utf8)
    {
        var t = value.UtcDateTime;
        Digits(utf8[..4], t.Year);
        utf8[4] = (byte)'-';
        Digits(utf8.Slice(5, 2), t.Month);
        utf8[7] = (byte)'-';
        Digits(utf8.Slice(8, 2), t.Day);
        utf8[10] = (byte)'T';
        Digits(utf8.Slice(11, 2), t.Hour);
        utf8[13] = (byte)':';
        Digits(utf8.Slice(14, 2), t.Minute);
        utf8[16] = (byte)':';
        Digits(utf8.Slice(17, 2), t.Second);
        utf8[19] = (byte)'.';
        Digits(utf8.Slice(20, 3), t.Millisecond);
        utf8[23] = (byte)'Z';
    }

    private static void Digits(Span<byte> destination, int value)
    {
        for (var i = destination.Length - 1; i >= 0; i--, value /= 10) destination[i] = (byte)('0' + value % 10);
    }

    private static TierStorageException Invalid(string message, Exception? inner = null) =>
        new(ErrorIds.InvalidEvent, TierErrorKind.InvalidData, "Invalid event: " + message, null, inner);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Truncate(string text) => text.Length > 60 ? text[..60] + "..." : text;

    /// <summary>The names a parser accepts, built on first parse: a process that only writes events (a hook call) never
    /// pays for these dictionaries, each a generic instantiation compiled at run time.</summary>
    private static class ReadNames
    {
        // Keyed case-insensitively and also without underscores, so PowerShell's ConvertTo-Json output
        // (DurationMs, errorType) is accepted beside the snake_case we write.
        internal static readonly Dictionary<string, Field> Fields = WithVariants(new Dictionary<string, Field>
        {
            ["timestamp"] = Field.Timestamp,
            ["session"] = Field.Session,
            ["session_id"] = Field.Session,
            ["type"] = Field.Type,
            ["agent"] = Field.Agent,
            ["tool"] = Field.Tool,
            ["task"] = Field.Task,
            ["duration_ms"] = Field.DurationMs,
            ["tokens"] = Field.Tokens,
            ["model"] = Field.Model,
            ["success"] = Field.Success,
            ["error_type"] = Field.ErrorType,
            ["file"] = Field.File,
            ["data"] = Field.Data,
            ["id"] = Field.Id,
        });

        internal static readonly Dictionary<string, TokenField> TokenFields = WithVariants(new Dictionary<string, TokenField>
        {
            ["input"] = TokenField.Input,
            ["output"] = TokenField.Output,
            ["cache_read"] = TokenField.CacheRead,
            ["cache_write"] = TokenField.CacheWrite,
        });

        internal static readonly Dictionary<string, SessionEventType> TypesByName = BuildTypeNames();
    }

    private static Dictionary<string, T> WithVariants<T>(Dictionary<string, T> snakeCase)
    {
        var result = new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in snakeCase)
        {
            result[name] = value;
            result[name.Replace("_", "", StringComparison.Ordinal)] = value;
        }
        return result;
    }

    private static Dictionary<string, SessionEventType> BuildTypeNames()
    {
        var result = new Dictionary<string, SessionEventType>(StringComparer.OrdinalIgnoreCase);
        foreach (var type in Enum.GetValues<SessionEventType>())
        {
            result[WireNames[(int)type]] = type;
            result[type.ToString()] = type;
        }
        return result;
    }
}
