using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Events;

/// <summary>A field that cannot be scanned for secrets within the time limit is stored as [REDACTED:...] in full; that
/// used to happen without a word (issue 11 #18).</summary>
public sealed class OversizedFieldRedactionTests
{
    [Fact]
    public void A_field_replaced_in_full_is_reported_with_the_session_the_event_and_the_field_path()
    {
        var redaction = new EventRedaction(new Redactor(new RedactionPolicy(), TimeSpan.FromMilliseconds(1)));
        var huge = "token " + new string('-', 2 << 20);
        var warnings = new List<string>();
        var e = new SessionEvent
        {
            SessionId = "session_20260101_000000", Type = SessionEventType.ToolCall, Timestamp = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            Tool = "Bash", Data = new Dictionary<string, object?> { ["results"] = new List<object?> { "short", new Dictionary<string, object?> { ["stdout"] = huge } } },
        };

        var redacted = redaction.Apply(e, warnings.Add);

        var warning = Assert.Single(warnings);
        Assert.Contains("session_20260101_000000", warning);
        Assert.Contains("tool_call event at 2026-01-01T00:00:00", warning);
        Assert.Contains("'data.results[1].stdout'", warning);
        Assert.Contains($"{huge.Length:N0} characters", warning);
        var results = Assert.IsType<List<object?>>(redacted.Data!["results"]);
        Assert.StartsWith("[REDACTED:", Assert.IsType<string>(Assert.IsType<Dictionary<string, object?>>(results[1])["stdout"]));
        Assert.Equal("short", results[0]);
    }

    [Fact]
    public void Fields_that_are_scanned_in_time_raise_no_warning()
    {
        var redaction = new EventRedaction(new Redactor(new RedactionPolicy()));
        var warnings = new List<string>();

        var redacted = redaction.Apply(new SessionEvent { Tool = "Bash", Data = new Dictionary<string, object?> { ["cmd"] = "export password=hunter2" } }, warnings.Add);

        Assert.Empty(warnings);
        Assert.Equal("export password=[REDACTED:password_pair]", redacted.Data!["cmd"]);
    }
}
