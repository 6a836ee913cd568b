using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Events;

/// <summary>Issue 12: redaction copies an event, and the part of its data on the way to a secret, only when it finds one; the
/// event it was given is never changed.</summary>
public sealed class EventRedactionTests
{
    private static readonly EventRedaction Redaction = new(new Redactor(new RedactionPolicy()));

    private static SessionEvent Event(object? inner) => new()
    {
        SessionId = "s1", Type = SessionEventType.ToolCall, Timestamp = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), Tool = "Bash",
        File = "/src/a.cs",
        Data = new Dictionary<string, object?>
        {
            ["cmd"] = "ls -la", ["lines"] = 12L, ["ok"] = true,
            ["results"] = new List<object?> { "short", new Dictionary<string, object?> { ["stdout"] = inner }, null },
            ["meta"] = new Dictionary<string, object?> { ["host"] = "dev" },
        },
    };

    [Fact]
    public void An_event_without_a_secret_comes_back_as_it_was_given()
    {
        var e = Event("nothing to hide");

        Assert.Same(e, Redaction.Apply(e));
    }

    [Fact]
    public void A_secret_deep_in_the_data_is_redacted_in_a_copy_and_the_rest_is_kept()
    {
        var e = Event("export GITHUB_TOKEN=ghp_" + new string('a', 36));
        var before = EventJson.Serialize(e);

        var redacted = Redaction.Apply(e);

        Assert.NotSame(e, redacted);
        Assert.Equal(before, EventJson.Serialize(e));
        var results = Assert.IsAssignableFrom<IReadOnlyList<object?>>(redacted.Data!["results"]);
        Assert.Equal("export GITHUB_TOKEN=[REDACTED:password_pair]", Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(results[1])["stdout"]);
        Assert.Equal(["short", null], new[] { results[0], results[2] });
        Assert.Equal(before.Replace("ghp_" + new string('a', 36), "[REDACTED:password_pair]", StringComparison.Ordinal), EventJson.Serialize(redacted));
        // The branches without a secret are the given ones, not copies.
        Assert.Same(e.Data!["meta"], redacted.Data["meta"]);
        Assert.Equal(["cmd", "lines", "ok", "results", "meta"], redacted.Data.Keys);
    }

    [Fact]
    public void A_sensitive_key_is_redacted_whatever_its_value_and_wherever_it_is_in_the_data()
    {
        var e = Event(null) with { Data = new Dictionary<string, object?> { ["first"] = "a", ["nested"] = new Dictionary<string, object?> { ["db_password"] = 42L }, ["last"] = "z" } };

        var redacted = Redaction.Apply(e);

        Assert.Equal("""{"first":"a","nested":{"db_password":"[REDACTED:sensitive_key]"},"last":"z"}""", EventJson.SerializeData(redacted.Data));
        Assert.Equal(42L, ((IReadOnlyDictionary<string, object?>)e.Data!["nested"]!)["db_password"]);
    }
}
