using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Tests.Ingest.Fixtures;

namespace TierStorage.Tests.Ingest;

public sealed class ClaudeTranscriptParserTests
{
    private static (List<SessionEvent> Events, ClaudeTranscriptParser Parser) Parse(string[] lines, string? agentName = null)
    {
        var parser = new ClaudeTranscriptParser(agentName);
        var events = new List<SessionEvent>();
        for (var i = 0; i < lines.Length; i++) events.AddRange(parser.ParseLine(lines[i], i + 1));
        events.AddRange(parser.Complete());
        return (events, parser);
    }

    private static DateTimeOffset At(string time) => DateTimeOffset.Parse("2026-11-20T" + time + "Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Assistant_usage_becomes_llm_calls_with_cache_split_cost_and_model()
    {
        var (events, _) = Parse(ClaudeFixtures.Main);
        var calls = events.Where(e => e.Type == SessionEventType.LlmCall).ToList();

        Assert.Equal(4, calls.Count);
        var first = calls[0];
        Assert.Equal(At("10:00:01.000"), first.Timestamp);
        Assert.Equal("claude-sonnet-4-5-20250929", first.Model);
        Assert.Equal(new TokenUsage { Input = 10, Output = 5, CacheWrite = 1000, CacheRead = 2000 }, first.Tokens);
        Assert.Equal(600L, first.Data!["cache_write_5m_tokens"]);
        Assert.Equal(400L, first.Data!["cache_write_1h_tokens"]);
        Assert.Equal(0.0123, first.Data!["cost_usd"]);
        Assert.Equal("msg_01", first.Data!["message_id"]);
        Assert.Null(first.Agent);

        var total = calls.Select(c => c.Tokens!).Aggregate((a, b) => a + b);
        Assert.Equal(new TokenUsage { Input = 118, Output = 72, CacheRead = 5000, CacheWrite = 1000 }, total);
        Assert.Equal(["claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"], calls.Select(c => c.Model));
    }

    [Fact]
    public void Tool_uses_become_tool_calls_timed_to_their_results()
    {
        var (events, _) = Parse(ClaudeFixtures.Main);
        var tools = events.Where(e => e.Type == SessionEventType.ToolCall).ToDictionary(e => e.Tool!);

        Assert.Equal(["Bash", "Grep", "Read", "Task"], tools.Keys.Order());
        Assert.Equal(500L, tools["Read"].DurationMs);
        Assert.Equal(At("10:00:02.000"), tools["Read"].Timestamp);
        Assert.Equal("/home/me/my_app/src/a.cs", tools["Read"].File);
        Assert.True(tools["Read"].Success);

        Assert.Equal(2000L, tools["Bash"].DurationMs);
        Assert.False(tools["Bash"].Success);
        Assert.Equal("nonzero_exit", tools["Bash"].ErrorType);
        Assert.Null(tools["Bash"].File);

        Assert.Equal(250L, tools["Grep"].DurationMs);
        Assert.Equal("/home/me/my_app/src", tools["Grep"].File);
        Assert.Equal(4000L, tools["Task"].DurationMs);
    }

    [Fact]
    public void Task_subagents_and_their_sidechain_messages_carry_the_subagent_name()
    {
        var (events, _) = Parse(ClaudeFixtures.Main);

        var invocation = Assert.Single(events, e => e.Type == SessionEventType.AgentInvocation);
        Assert.Equal("code-reviewer", invocation.Agent);
        Assert.Equal("Review diff", invocation.Task);
        Assert.Equal(4000L, invocation.DurationMs);
        Assert.Equal(At("10:00:05.000"), invocation.Timestamp);

        Assert.Equal("code-reviewer", Assert.Single(events, e => e.Model == "claude-haiku-4-5-20251001").Agent);
        Assert.Equal("code-reviewer", Assert.Single(events, e => e.Tool == "Grep").Agent);
        Assert.Null(Assert.Single(events, e => e.Tool == "Task").Agent);
    }

    [Fact]
    public void Replayed_calls_are_dropped_synthetic_ignored_and_malformed_lines_reported()
    {
        var (events, parser) = Parse(ClaudeFixtures.Main);

        // msg_02/req_02 repeated for its second content block, msg_01/req_01 replayed at the end.
        Assert.Equal(2, parser.DuplicatesSkipped);
        Assert.DoesNotContain(events, e => e.Model == ClaudeTranscriptParser.SyntheticModel);
        Assert.Equal(9, events.Count);
        Assert.Equal(ClaudeFixtures.MalformedLines, parser.Malformed.Select(m => m.LineNumber));
        Assert.Contains("JSON", parser.Malformed[0].Reason, StringComparison.Ordinal);
        Assert.Contains("not an object", parser.Malformed[1].Reason, StringComparison.Ordinal);
        Assert.Contains("timestamp", parser.Malformed[2].Reason, StringComparison.Ordinal);
        Assert.Equal(ClaudeFixtures.SessionId, parser.ClaudeSessionId);
        Assert.Equal(At("10:00:00.000"), parser.FirstTimestamp);
        Assert.Equal(At("10:00:10.000"), parser.LastTimestamp);
    }

    [Fact]
    public void A_subagent_file_is_one_invocation_timed_from_its_first_line_to_its_last_and_tags_every_event()
    {
        var (events, parser) = Parse(ClaudeFixtures.Subagent);

        Assert.Equal([SessionEventType.LlmCall, SessionEventType.ToolCall, SessionEventType.AgentInvocation], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("agent-7c1d", e.Agent));
        Assert.Equal(940L, events[2].DurationMs); // 10:00:05.100 to 10:00:06.040
        Assert.Equal(At("10:00:05.100"), events[2].Timestamp);
        var edit = events[1];
        Assert.Equal("Edit", edit.Tool);
        Assert.Equal("/home/me/my_app/src/b.cs", edit.File);
        Assert.Equal(40L, edit.DurationMs);
        Assert.False(edit.Success);
        Assert.Equal("tool_error", edit.ErrorType);
        Assert.Empty(parser.Malformed);

        var (named, _) = Parse(ClaudeFixtures.Subagent, agentName: "code-reviewer");
        Assert.All(named, e => Assert.Equal("code-reviewer", e.Agent));
    }

    [Theory]
    [InlineData("\"text\":\"No issues found.\"}", "\"text\":\"No issues found.\"},{\"type\":\"text\",\"text\":\"agentId: ae267a1 (for resuming)\"}", "ae267a1")]
    [InlineData("\"uuid\":\"u-12\"", "\"toolUseResult\":{\"status\":\"completed\",\"agentId\":\"b0c1\",\"totalTokens\":230},\"uuid\":\"u-12\"", "b0c1")]
    [InlineData("\"uuid\":\"u-12\"", "\"uuid\":\"u-12\"", null)]
    public void A_Task_result_names_the_agent_id_that_links_the_subagent_transcript(string find, string replace, string? agentId)
    {
        var result = ClaudeFixtures.Main[11].Replace(find, replace, StringComparison.Ordinal);
        var (events, parser) = Parse([.. ClaudeFixtures.Main[..11], result]);

        var invocation = Assert.Single(events, e => e.Type == SessionEventType.AgentInvocation);
        Assert.Equal(agentId, invocation.Data!.TryGetValue("agent_id", out var id) ? id : null);
        var link = Assert.Single(parser.Links);
        Assert.Equal(("toolu_T", "code-reviewer", ClaudeTranscriptParser.PromptHash("Review the change for bugs"), agentId),
            (link.ToolUseId, link.SubagentType, link.PromptHash, link.AgentId));
        Assert.Equal([8L], parser.Malformed.Select(m => m.LineNumber));
    }

    [Fact]
    public void A_tool_use_without_result_is_reported_without_duration_or_outcome()
    {
        var (events, _) = Parse(ClaudeFixtures.Main[..4]);

        var read = Assert.Single(events, e => e.Type == SessionEventType.ToolCall);
        Assert.Equal("Read", read.Tool);
        Assert.Null(read.DurationMs);
        Assert.Null(read.Success);
    }
}
