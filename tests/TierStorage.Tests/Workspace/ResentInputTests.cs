using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Workspace;

/// <summary>Issue 11 #6: an import killed between batches, then run again, duplicated every batch the first run had stored.</summary>
public sealed class ResentInputTests : IAsyncLifetime
{
    private TestWorkspace _test = null!;

    public async Task InitializeAsync() => _test = await TestWorkspace.CreateAsync();

    public async Task DisposeAsync() => await _test.DisposeAsync();

    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>JSON lines with their own timestamps, every 100th line a copy of the one before it (identical events in
    /// one input are legitimate and must all be stored).</summary>
    private static List<string> Input(string sessionId, int count) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var n = i % 100 == 99 ? i - 1 : i;
            return $$"""{"timestamp":"2026-11-22T09:{{n / 60000 % 60:00}}:{{n / 1000 % 60:00}}.{{n % 1000:000}}Z","session":"{{sessionId}}","type":"tool_call","tool":"Read","duration_ms":{{n % 7}}}""";
        }).ToList();

    private async Task<(long Stored, long Skipped)> SendAsync(TierWorkspace workspace, string sessionId, IEnumerable<string> lines)
    {
        var appender = workspace.OpenEventAppender(sessionId);
        await using (appender)
            foreach (var line in lines) await appender.AppendAsync(EventJson.Parse(line, sessionId), None);
        return (appender.StoredCount, appender.SkippedCount);
    }

    private List<SessionEvent> LoggedToolCalls() =>
        File.ReadLines(_test.Layout.CurrentLogPath).Select(l => EventJson.Parse(l, null)).Where(e => e.Type == SessionEventType.ToolCall).ToList();

    private static async Task<List<SessionEvent>> IndexedToolCallsAsync(TierWorkspace workspace, string sessionId)
    {
        var events = new List<SessionEvent>();
        await foreach (var e in workspace.GetEventsAsync(new SessionEventQuery { SessionId = sessionId, Type = SessionEventType.ToolCall }, None)) events.Add(e);
        return events;
    }

    [Fact]
    public async Task An_input_sent_again_after_a_crash_between_batches_stores_each_event_exactly_once()
    {
        var workspace = await _test.OpenAsync();
        var sessionId = (await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None)).SessionId;
        var input = Input(sessionId, 3 * EventAppender.BatchSize + 500);

        // The first run dies after two full batches were written and while the rest was still buffered: the appender is
        // abandoned, never flushed, as a killed process leaves it.
        var crashed = workspace.OpenEventAppender(sessionId);
        foreach (var line in input.Take(2 * EventAppender.BatchSize + 300)) await crashed.AppendAsync(EventJson.Parse(line, sessionId), None);
        await Task.Delay(100);
        while (crashed.StoredCount < 2 * EventAppender.BatchSize) await Task.Delay(20);
        Assert.Equal(2 * EventAppender.BatchSize, LoggedToolCalls().Count);

        var (stored, skipped) = await SendAsync(workspace, sessionId, input);

        Assert.Equal(input.Count - 2 * EventAppender.BatchSize, stored);
        Assert.Equal(2 * EventAppender.BatchSize, skipped);
        Assert.Equal(input.Count, LoggedToolCalls().Count);
        var indexed = await IndexedToolCallsAsync(workspace, sessionId);
        Assert.Equal(input.Count, indexed.Count);
        Assert.Equal(input.Count, indexed.Select(e => e.Id).Distinct().Count());
        Assert.Equal(input.Select(l => EventJson.Parse(l, null).Timestamp), indexed.Select(e => e.Timestamp));
    }

    [Fact]
    public async Task A_crash_after_the_log_write_but_before_the_catalog_commit_is_indexed_once_and_not_written_again()
    {
        var workspace = await _test.OpenAsync();
        var sessionId = (await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None)).SessionId;
        var input = Input(sessionId, 2 * EventAppender.BatchSize + 10);
        await SendAsync(workspace, sessionId, input.Take(EventAppender.BatchSize + 5));
        await workspace.DisposeAsync();

        // What a kill between the log append and the commit leaves: the last batch's lines in the log, not in the catalog.
        var keptLines = 1 + EventAppender.BatchSize; // session_start and the first batch
        var logLines = File.ReadAllLines(_test.Layout.CurrentLogPath);
        var keptBytes = logLines.Take(keptLines).Sum(l => System.Text.Encoding.UTF8.GetByteCount(l) + 1);
        await using (var connection = new SqliteConnection($"Data Source={_test.Layout.CatalogPath};Pooling=False"))
        {
            await connection.OpenAsync();
            var command = connection.CreateCommand();
            command.CommandText = $"""
                DELETE FROM events WHERE event_id IN (SELECT event_id FROM events WHERE session_id = '{sessionId}' ORDER BY event_id DESC LIMIT 5);
                UPDATE sessions SET log_indexed_bytes = {keptBytes}, event_count = event_count - 5 WHERE session_id = '{sessionId}';
                """;
            await command.ExecuteNonQueryAsync();
        }

        workspace = await _test.OpenAsync();
        var (stored, skipped) = await SendAsync(workspace, sessionId, input);

        Assert.Equal(input.Count - EventAppender.BatchSize - 5, stored);
        Assert.Equal(EventAppender.BatchSize + 5, skipped);
        Assert.Equal(input.Count, LoggedToolCalls().Count);
        Assert.Equal(input.Count, (await IndexedToolCallsAsync(workspace, sessionId)).Count);
        Assert.Equal(input.Count + 1, (await workspace.GetSessionsAsync(new SessionFilter { SessionId = sessionId }, None).SingleAsync()).EventCount);
    }

    [Fact]
    public async Task Identical_lines_within_one_input_are_all_stored_but_a_second_input_with_them_adds_nothing()
    {
        var workspace = await _test.OpenAsync();
        var sessionId = (await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None)).SessionId;
        var line = $$"""{"timestamp":"2026-11-22T09:00:00.000Z","type":"tool_call","tool":"Read"}""";

        Assert.Equal((3L, 0L), await SendAsync(workspace, sessionId, [line, line, line]));
        Assert.Equal((0L, 3L), await SendAsync(workspace, sessionId, [line, line, line]));
        // One more copy than before: the fourth occurrence is new.
        Assert.Equal((1L, 3L), await SendAsync(workspace, sessionId, [line, line, line, line]));
        Assert.Equal(4, LoggedToolCalls().Count);
        Assert.Equal(4, (await IndexedToolCallsAsync(workspace, sessionId)).Count);
    }

    [Fact]
    public async Task Events_stamped_on_arrival_have_no_id_and_are_always_new()
    {
        var workspace = await _test.OpenAsync();
        var sessionId = (await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None)).SessionId;
        var line = """{"type":"tool_call","tool":"Read"}""";

        for (var i = 0; i < 2; i++)
        {
            var appender = workspace.OpenEventAppender(sessionId);
            await using (appender) await appender.AppendAsync(EventJson.ParseInput(line), None);
        }

        var indexed = await IndexedToolCallsAsync(workspace, sessionId);
        Assert.Equal(2, indexed.Count);
        Assert.All(indexed, e => Assert.Null(e.Id));
    }

    [Fact]
    public async Task An_id_given_by_the_sender_is_stored_once_per_session_and_kept_in_the_log()
    {
        var workspace = await _test.OpenAsync();
        var sessionId = (await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None)).SessionId;
        // Without a timestamp, the id alone says which event it is; a number is an id as text.
        string[] first = ["""{"type":"tool_call","tool":"Read","id":"call-1"}""", """{"type":"tool_call","tool":"Edit","id":42}"""];
        string[] again = ["""{"type":"tool_call","tool":"Read","id":"call-1"}""", """{"type":"tool_call","tool":"Bash","id":"42"}""", """{"type":"tool_call","tool":"Grep","id":"call-2"}"""];

        foreach (var input in new[] { first, again })
        {
            var appender = workspace.OpenEventAppender(sessionId);
            await using (appender)
                foreach (var line in input) await appender.AppendAsync(EventJson.ParseInput(line), None);
        }

        Assert.Equal(["call-1", "42", "call-2"], LoggedToolCalls().Select(e => e.Id));
        Assert.Equal(["Read", "Edit", "Grep"], (await IndexedToolCallsAsync(workspace, sessionId)).Select(e => e.Tool));
    }

    [Theory]
    [InlineData("""{"type":"tool_call","id":""}""", "field 'id'")]
    [InlineData("""{"type":"tool_call","id":true}""", "field 'id' must be a string or a whole number")]
    [InlineData("""{"type":"tool_call","id":1.5}""", "field 'id' must be a string or a whole number")]
    public void A_bad_id_is_refused_naming_the_field(string line, string message)
    {
        var error = Assert.Throws<TierStorageException>(() => EventJson.ParseInput(line));
        Assert.Equal(ErrorIds.InvalidEvent, error.ErrorId);
        Assert.Contains(message, error.Message);
    }
}
