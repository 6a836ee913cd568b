using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Events;

public sealed class EventJsonTests
{
    private const string Minimal = """{"timestamp":"2026-11-22T05:32:50.123Z","session":"session_a","type":"tool_call"}""";

    private static readonly SessionEvent Full = new()
    {
        Timestamp = new DateTimeOffset(2026, 11, 22, 5, 32, 50, 123, TimeSpan.Zero),
        SessionId = "session_20261122_053250",
        Type = SessionEventType.LlmCall,
        Agent = "planner",
        Tool = "Bash",
        Task = "write \"tests\"",
        DurationMs = 1500,
        Tokens = new TokenUsage { Input = 1, Output = 2, CacheRead = 3, CacheWrite = 4 },
        Model = "claude-sonnet-4",
        Success = false,
        ErrorType = "timeout",
        File = "src/ä.cs",
        Data = new Dictionary<string, object?>
        {
            ["s"] = "line1\nline2",
            ["n"] = 42L,
            ["d"] = 2.5,
            ["b"] = true,
            ["null"] = null,
            ["obj"] = new Dictionary<string, object?> { ["list"] = new List<object?> { 1L, "x", new List<object?>() } },
        },
    };

    private static TierStorageException Invalid(string json, string? defaultSession = "session_a")
    {
        var ex = Assert.Throws<TierStorageException>(() => EventJson.Parse(json, defaultSession));
        Assert.Equal(ErrorIds.InvalidEvent, ex.ErrorId);
        Assert.Equal(TierErrorKind.InvalidData, ex.Kind);
        return ex;
    }

    private static string Replace(string field, string value) =>
        Minimal.Replace("}", $",\"{field}\":{value}}}", StringComparison.Ordinal);

    [Fact]
    public void Every_field_round_trips()
    {
        var line = EventJson.Serialize(Full);
        var back = EventJson.Parse(line, null);

        Assert.DoesNotContain('\n', line);
        Assert.Equal(Full with { Data = back.Data }, back);
        Assert.Equal(EventJson.SerializeData(Full.Data), EventJson.SerializeData(back.Data));
        Assert.Equal(42L, back.Data!["n"]);
        Assert.Equal(2.5, back.Data["d"]);
        Assert.Equal("line1\nline2", back.Data["s"]);
    }

    [Fact]
    public void Serialize_writes_snake_case_in_order_and_omits_nulls()
    {
        Assert.Equal(
            """{"timestamp":"2026-11-22T05:32:50.123Z","session":"session_20261122_053250","type":"llm_call","agent":"planner","tool":"Bash","task":"write \"tests\"","duration_ms":1500,"tokens":{"input":1,"output":2,"cache_read":3,"cache_write":4},"model":"claude-sonnet-4","success":false,"error_type":"timeout","file":"src/ä.cs","data":{"s":"line1\nline2","n":42,"d":2.5,"b":true,"null":null,"obj":{"list":[1,"x",[]]}}}""",
            EventJson.Serialize(Full));
        Assert.Equal(Minimal, EventJson.Serialize(EventJson.Parse(Minimal, null)));
    }

    [Fact]
    public void A_timestamp_before_1970_is_refused_rather_than_stored_as_now()
    {
        // Issue 11 #18: 0001-01-01T00:00:00Z is the default value that means "no timestamp" to the appender.
        var ex = Assert.Throws<TierStorageException>(() => EventJson.Parse("""{"timestamp":"0001-01-01T00:00:00Z","type":"tool_call"}""", "s"));
        Assert.Contains("'timestamp'", ex.Message);
        Assert.Throws<TierStorageException>(() => EventJson.ParseInput("""{"timestamp":"1969-12-31T23:59:59Z","type":"tool_call"}"""));
        Assert.Throws<TierStorageException>(() => EventFieldText.ToTimestamp("timestamp", DateTimeOffset.MinValue));
        Assert.Equal(DateTimeOffset.UnixEpoch, EventFieldText.ToTimestamp("timestamp", "1970-01-01T00:00:00Z"));
    }

    [Fact]
    public void A_number_out_of_double_range_in_data_refuses_that_line_only()
    {
        // Issue 11 #18: 1e400 in one event's data made the writer fail the whole batch.
        var ex = Assert.Throws<TierStorageException>(() =>
            EventJson.Parse("""{"timestamp":"2026-11-22T09:00:00Z","type":"decision","data":{"nested":[1,1e400]}}""", "s"));
        Assert.Equal(ErrorIds.InvalidEvent, ex.ErrorId);
        Assert.Contains("1e400", ex.Message);
        Assert.Equal(1.5e300, EventJson.Parse("""{"timestamp":"2026-11-22T09:00:00Z","type":"decision","data":{"x":1.5e300}}""", "s").Data!["x"]);
    }

    [Fact]
    public void Timestamps_are_normalised_to_utc_milliseconds()
    {
        var parsed = EventJson.Parse(Minimal.Replace("2026-11-22T05:32:50.123Z", "2026-11-22T07:32:50.1239+02:00", StringComparison.Ordinal), null);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 5, 32, 50, 123, TimeSpan.Zero).AddTicks(9000), parsed.Timestamp);
        Assert.Contains("\"timestamp\":\"2026-11-22T05:32:50.123Z\"", EventJson.Serialize(parsed));
    }

    [Fact]
    public void Camel_and_pascal_case_field_names_are_accepted()
    {
        var parsed = EventJson.Parse("""
            {"Timestamp":"2026-11-22T05:32:50Z","SessionId":"session_a","Type":"ToolCall","durationMs":5,"ErrorType":"x",
             "Tokens":{"Input":1,"cacheRead":2,"CacheWrite":3},"Success":true}
            """, null);
        Assert.Equal(SessionEventType.ToolCall, parsed.Type);
        Assert.Equal(5, parsed.DurationMs);
        Assert.Equal("x", parsed.ErrorType);
        Assert.Equal(new TokenUsage { Input = 1, CacheRead = 2, CacheWrite = 3 }, parsed.Tokens);
        Assert.True(parsed.Success);
    }

    [Fact]
    public void Null_optional_fields_are_absent_and_the_default_session_fills_in()
    {
        var parsed = EventJson.Parse("""{"timestamp":"2026-11-22T05:32:50Z","type":"error","agent":null,"data":null,"session":null}""", "session_default");
        Assert.Equal("session_default", parsed.SessionId);
        Assert.Null(parsed.Agent);
        Assert.Null(parsed.Data);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object, not an array")]
    [InlineData("\"text\"", "must be a JSON object, not a string")]
    [InlineData("""{"session":"s","type":"error"}""", "'timestamp' is missing")]
    [InlineData("""{"timestamp":null,"session":"s","type":"error"}""", "'timestamp' must be an ISO-8601 string")]
    [InlineData("""{"timestamp":"yesterday","session":"s","type":"error"}""", "'timestamp' value 'yesterday'")]
    [InlineData("""{"timestamp":1700000000,"session":"s","type":"error"}""", "'timestamp' must be an ISO-8601 string")]
    [InlineData("""{"timestamp":"2026-11-22T05:32:50","session":"s","type":"error"}""", "'timestamp' value '2026-11-22T05:32:50' has no UTC offset")]
    [InlineData("""{"timestamp":"2026-11-22T05:32:50Z","session":"s"}""", "'type' is missing")]
    [InlineData("""{"timestamp":"2026-11-22T05:32:50Z","session":"s","type":"party"}""", "'type' value 'party' is not a known event type (valid types: session_start, session_end, agent_invocation, tool_call, file_operation, llm_call, error, decision, snapshot)")]
    [InlineData("""{"timestamp":"2026-11-22T05:32:50Z","session":"s","type":3}""", "'type' value a number")]
    public void Malformed_events_name_the_problem(string json, string expected)
    {
        Assert.Contains(expected, Invalid(json).Message);
    }

    [Theory]
    [InlineData("duration_ms", "\"fast\"", "'duration_ms' must be a number, not a string")]
    [InlineData("duration_ms", "-1", "'duration_ms' must not be negative")]
    [InlineData("duration_ms", "1.5", "'duration_ms' must be a whole number")]
    [InlineData("tokens", "5", "'tokens' must be an object")]
    [InlineData("tokens", """{"input":-3}""", "'tokens.input' must not be negative")]
    [InlineData("tokens", """{"output":"many"}""", "'tokens.output' must be a number")]
    [InlineData("tokens", """{"total":3}""", "unknown field 'tokens.total'")]
    [InlineData("success", "\"yes\"", "'success' must be true or false, not a string")]
    [InlineData("success", "1", "'success' must be true or false, not a number")]
    [InlineData("data", "[1]", "'data' must be a JSON object, not an array")]
    [InlineData("data", "\"x\"", "'data' must be a JSON object, not a string")]
    [InlineData("agent", "42", "'agent' must be a string, not a number")]
    [InlineData("file", "{}", "'file' must be a string, not an object")]
    [InlineData("colour", "\"red\"", "unknown field 'colour'")]
    [InlineData("type", "\"error\"", "field 'type' appears more than once")]
    public void Wrong_field_values_name_the_field(string field, string value, string expected)
    {
        Assert.Contains(expected, Invalid(Replace(field, value)).Message);
    }

    [Fact]
    public void A_missing_session_without_a_default_is_refused()
    {
        Assert.Contains("'session' is missing", Invalid("""{"timestamp":"2026-11-22T05:32:50Z","type":"error"}""", null).Message);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("a\\b")]
    public void Path_like_session_ids_are_refused(string session)
    {
        var ex = Invalid(Minimal.Replace("\"session_a\"", JsonSerializer.Serialize(session), StringComparison.Ordinal));
        Assert.Contains("'session'", ex.Message);
        Assert.Equal(ErrorIds.InvalidSessionId, Assert.IsType<TierStorageException>(ex.InnerException).ErrorId);
    }

    [Fact]
    public void Wire_names_map_both_ways_for_every_type()
    {
        foreach (var type in Enum.GetValues<SessionEventType>())
        {
            var name = EventJson.ToWireName(type);
            Assert.Matches("^[a-z_]+$", name);
            Assert.True(EventJson.TryParseType(name, out var back));
            Assert.Equal(type, back);
        }
        Assert.Equal("tool_call", EventJson.ToWireName(SessionEventType.ToolCall));
        Assert.False(EventJson.TryParseType("party", out _));
    }

    [Fact]
    public void Data_maps_powershell_shapes_and_refuses_unknown_objects()
    {
        var hashtable = new System.Collections.Hashtable { ["k"] = new object[] { 1, "a", DateTimeOffset.UnixEpoch } };
        var json = EventJson.SerializeData(new Dictionary<string, object?> { ["h"] = hashtable, ["m"] = 1.5m });
        Assert.Equal("""{"h":{"k":[1,"a","1970-01-01T00:00:00.000Z"]},"m":1.5}""", json);
        Assert.Null(EventJson.SerializeData(null));
        Assert.Null(EventJson.ParseData(null));

        var ex = Assert.Throws<TierStorageException>(() => EventJson.SerializeData(new Dictionary<string, object?> { ["x"] = new { A = 1 } }));
        Assert.Contains("data.x", ex.Message);
        Assert.Throws<TierStorageException>(() => EventJson.SerializeData(new Dictionary<string, object?> { ["nan"] = double.NaN }));
        Assert.Throws<TierStorageException>(() => EventJson.ParseData("[1]"));
    }

    [Fact]
    public void A_line_to_append_may_leave_out_timestamp_and_session()
    {
        var e = EventJson.ParseInput("""{"type":"tool_call","tool":"Read"}""");
        Assert.Equal(SessionEventType.ToolCall, e.Type);
        Assert.Equal(default, e.Timestamp);
        Assert.Equal("", e.SessionId);
        Assert.Contains("'type'", Assert.Throws<TierStorageException>(() => EventJson.ParseInput("""{"tool":"Read"}""")).Message);
        // A stored log line still needs both.
        Assert.Contains("timestamp", Assert.Throws<TierStorageException>(() => EventJson.Parse("""{"type":"tool_call"}""", "s1")).Message);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("False", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("YES", true)]
    [InlineData("no", false)]
    [InlineData("", null)]
    [InlineData("  ", null)]
    public void Boolean_text_converts(string text, bool? expected) =>
        Assert.Equal(expected, EventFieldText.ToBoolean("success", text));

    [Fact]
    public void Text_that_does_not_convert_fails_naming_the_field()
    {
        Assert.Contains("'success'", Assert.Throws<TierStorageException>(() => EventFieldText.ToBoolean("success", "maybe")).Message);
        Assert.Contains("'duration_ms'", Assert.Throws<TierStorageException>(() => EventFieldText.ToCount("duration_ms", "12ms")).Message);
        Assert.Contains("'duration_ms'", Assert.Throws<TierStorageException>(() => EventFieldText.ToCount("duration_ms", 1.5)).Message);
        Assert.Contains("'timestamp'", Assert.Throws<TierStorageException>(() => EventFieldText.ToTimestamp("timestamp", "yesterday")).Message);
    }

    [Fact]
    public void Counts_and_timestamps_convert_from_text_and_blank_is_absent()
    {
        Assert.Equal(12, EventFieldText.ToCount("duration_ms", "12"));
        Assert.Equal(12, EventFieldText.ToCount("duration_ms", 12.0));
        Assert.Null(EventFieldText.ToCount("duration_ms", ""));
        Assert.Null(EventFieldText.ToText(""));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.Zero), EventFieldText.ToTimestamp("timestamp", "2026-01-01T09:00:00Z"));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.Zero), EventFieldText.ToTimestamp("timestamp", "2026-01-01T09:00:00"));
        Assert.Null(EventFieldText.ToTimestamp("timestamp", ""));
    }

    [Fact]
    public void Tokens_come_from_named_values_in_log_or_PowerShell_spelling()
    {
        var tokens = EventJson.TokensFrom([new("input", 5L), new("Output", "6"), new("cache_read", 7), new("CacheWrite", null)]);
        Assert.Equal(new TokenUsage { Input = 5, Output = 6, CacheRead = 7 }, tokens);
        Assert.Null(EventJson.TokensFrom([]));
        Assert.Contains("tokens.bogus", Assert.Throws<TierStorageException>(() => EventJson.TokensFrom([new("bogus", 1)])).Message);
        Assert.Contains("tokens.input", Assert.Throws<TierStorageException>(() => EventJson.TokensFrom([new("input", -1)])).Message);
    }
}
