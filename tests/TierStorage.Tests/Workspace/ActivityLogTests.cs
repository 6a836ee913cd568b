using Xunit;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Tests.Workspace;

public sealed class ActivityLogTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<List<SessionEvent>> EventsAsync(TierWorkspace ws, SessionEventQuery? query = null)
    {
        var list = new List<SessionEvent>();
        await foreach (var e in ws.GetEventsAsync(query ?? new SessionEventQuery(), None)) list.Add(e);
        return list;
    }

    private static SessionEvent Tool(int i) => new() { Type = SessionEventType.ToolCall, Tool = "Read", DurationMs = i, Success = true };

    [Fact]
    public async Task Appended_events_are_in_the_log_and_in_the_catalog()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest(), None);
        var written = await ws.AppendEventsAsync(Enumerable.Range(0, 10).Select(Tool), null, None);

        Assert.All(written, e => Assert.Equal(session.SessionId, e.SessionId));
        Assert.All(written, e => Assert.Equal(t.Time.Now, e.Timestamp));
        var lines = await File.ReadAllLinesAsync(t.Layout.CurrentLogPath);
        Assert.Equal(11, lines.Length);
        var stored = await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall });
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long?)i), stored.Select(e => e.DurationMs));
    }

    [Fact]
    public async Task Ten_thousand_events_through_one_appender_all_arrive_in_order()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        await using (var appender = ws.OpenEventAppender(null))
            for (var i = 0; i < 10_000; i++) await appender.AppendAsync(Tool(i), None);

        var stored = await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall });
        Assert.Equal(10_000, stored.Count);
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => (long?)i), stored.Select(e => e.DurationMs));
        Assert.Equal(10_001, File.ReadLines(t.Layout.CurrentLogPath).Count());
    }

    /// <summary>An appender writes its batch after AppendAsync returns: a caller that reuses its data dictionary for the next
    /// event (or changes a list inside it) must not change what the earlier events store. Redaction copies only data that held a
    /// secret, and only the branches that held one (issue 12), so the appender copies the data itself.</summary>
    [Fact]
    public async Task Data_a_caller_changes_after_appending_is_stored_as_it_was_when_appended()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var files = new List<object?> { "a.cs" };
        // The secret makes redaction copy the top map, not the list beside it.
        var data = new Dictionary<string, object?> { ["n"] = 0L, ["files"] = files, ["cmd"] = "export password=hunter2" };
        await using (var appender = ws.OpenEventAppender(null))
        {
            for (var i = 0; i < 3; i++)
            {
                data["n"] = (long)i;
                files.Add($"f{i}.cs");
                await appender.AppendAsync(Tool(i) with { Data = data }, None);
            }
            data["n"] = 99L;
            files.Clear();
        }

        var stored = await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall });
        Assert.Equal([0L, 1L, 2L], stored.Select(e => e.Data!["n"]));
        Assert.Equal(["a.cs f0.cs", "a.cs f0.cs f1.cs", "a.cs f0.cs f1.cs f2.cs"],
            stored.Select(e => string.Join(" ", (IEnumerable<object?>)e.Data!["files"]!)));
        Assert.Equal(3, File.ReadLines(t.Layout.CurrentLogPath).Count(l => l.Contains("\"n\":", StringComparison.Ordinal) && !l.Contains("\"n\":99", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_appender_that_keeps_written_events_gives_them_their_catalog_ids_across_batches()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var count = EventAppender.BatchSize + 10;
        var written = new List<SessionEvent>();
        await using (var appender = ws.OpenEventAppender(null, keepWritten: true))
        {
            for (var i = 0; i < count; i++)
            {
                var returned = await appender.AppendAsync(Tool(i) with { EventId = 99 }, None);
                Assert.Equal(0, returned.EventId);
                written.AddRange(appender.TakeWritten());
            }
            await appender.FlushAsync(None);
            written.AddRange(appender.TakeWritten());
            Assert.Empty(appender.TakeWritten());
        }

        var stored = await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall });
        Assert.Equal(stored.Select(e => (e.EventId, e.DurationMs)), written.Select(e => (e.EventId, e.DurationMs)));
        Assert.All(written, e => Assert.NotEqual(0, e.EventId));
    }

    [Fact]
    public async Task AppendEventsAsync_returns_the_events_with_their_catalog_ids()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var written = await ws.AppendEventsAsync([Tool(1), Tool(2)], null, None);
        var stored = await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall });
        Assert.Equal(stored.Select(e => e.EventId), written.Select(e => e.EventId));
    }

    [Fact]
    public async Task Secrets_are_redacted_before_the_line_is_written()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        await ws.AppendEventsAsync([new SessionEvent
        {
            Type = SessionEventType.ToolCall,
            Tool = "Bash",
            Task = "deploy with AKIAIOSFODNN7EXAMPLE",
            Data = new Dictionary<string, object?>
            {
                ["command"] = "curl -H 'Authorization: Bearer abcdef1234567890abcdef' https://x",
                ["password"] = "hunter2",
                ["nested"] = new Dictionary<string, object?> { ["args"] = new List<object?> { "password=swordfish", "ok" } },
            },
        }], null, None);

        var log = await File.ReadAllTextAsync(t.Layout.CurrentLogPath);
        foreach (var secret in new[] { "AKIAIOSFODNN7EXAMPLE", "abcdef1234567890abcdef", "hunter2", "swordfish" })
            Assert.DoesNotContain(secret, log);
        Assert.Contains("[REDACTED:", log);
        var stored = (await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall })).Single();
        Assert.DoesNotContain("AKIA", stored.Task);
        Assert.Contains("ok", (string)((List<object?>)((IReadOnlyDictionary<string, object?>)stored.Data!["nested"]!)["args"]!)[1]!);
    }

    [Theory]
    [InlineData(-1L, "duration_ms")]
    public async Task An_invalid_event_names_its_field_and_writes_nothing(long duration, string field)
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var before = await File.ReadAllBytesAsync(t.Layout.CurrentLogPath);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.AppendEventsAsync([new SessionEvent { Type = SessionEventType.ToolCall, DurationMs = duration }], null, None));
        Assert.Equal(ErrorIds.InvalidEvent, ex.ErrorId);
        Assert.Contains(field, ex.Message);
        Assert.Equal(before, await File.ReadAllBytesAsync(t.Layout.CurrentLogPath));
    }

    [Fact]
    public async Task Events_for_another_session_or_without_an_active_session_are_refused()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var none = await Assert.ThrowsAsync<TierStorageException>(() => ws.AppendEventsAsync([Tool(1)], null, None));
        Assert.Equal(ErrorIds.NoActiveSession, none.ErrorId);

        var session = await ws.StartSessionAsync(new StartSessionRequest(), None);
        var other = await Assert.ThrowsAsync<TierStorageException>(() => ws.AppendEventsAsync([Tool(1) with { SessionId = "session_other" }], null, None));
        Assert.Equal(ErrorIds.InvalidEvent, other.ErrorId);
        await ws.CompleteSessionAsync(null, None);
        var closed = await Assert.ThrowsAsync<TierStorageException>(() => ws.AppendEventsAsync([Tool(1)], session.SessionId, None));
        Assert.Equal(ErrorIds.SessionNotActive, closed.ErrorId);
    }

    [Fact]
    public async Task A_partial_last_line_from_a_crashed_writer_is_quarantined_and_never_served()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        await ws.AppendEventsAsync([Tool(1)], null, None);
        const string partial = "{\"timestamp\":\"2026-11-22T09:00:00Z\",\"type\":\"tool_ca";
        await File.AppendAllTextAsync(t.Layout.CurrentLogPath, partial);

        await ws.AppendEventsAsync([Tool(2)], null, None);

        var lines = await File.ReadAllLinesAsync(t.Layout.CurrentLogPath);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => EventJson.Parse(l, null));
        var quarantined = Directory.GetFiles(t.Layout.QuarantineDirectory).Single();
        Assert.Equal(partial, await File.ReadAllTextAsync(quarantined));
        Assert.Contains(t.Warnings, w => w.Contains("partial line"));
        Assert.Equal([1L, 2L], (await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall })).Select(e => e.DurationMs!.Value));
    }

    [Fact]
    public async Task Lines_that_reached_the_log_but_not_the_catalog_are_indexed_on_the_next_write()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest(), None);
        // What a writer that died between its log write and its catalog commit leaves behind.
        var orphan = EventJson.Serialize(Tool(7) with { SessionId = session.SessionId, Timestamp = t.Time.Now }) + "\n";
        await File.AppendAllTextAsync(t.Layout.CurrentLogPath, orphan);

        await ws.AppendEventsAsync([Tool(8)], null, None);

        Assert.Equal([7L, 8L], (await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall })).Select(e => e.DurationMs!.Value));
        Assert.Equal(3, File.ReadLines(t.Layout.CurrentLogPath).Count());
    }

    [Fact]
    public async Task Parallel_writers_with_their_own_connections_never_lose_or_interleave_lines()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var first = await t.OpenAsync();
        await first.StartSessionAsync(new StartSessionRequest(), None);
        const int writers = 4, perWriter = 300;
        var workspaces = new List<TierWorkspace>();
        for (var w = 0; w < writers; w++) workspaces.Add(await t.OpenAsync());

        await Task.WhenAll(workspaces.Select((ws, w) => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                // One flush per event: the worst case for interleaving.
                await using var appender = ws.OpenEventAppender(null);
                await appender.AppendAsync(new SessionEvent { Type = SessionEventType.ToolCall, Agent = $"writer{w}", DurationMs = i, Data = new Dictionary<string, object?> { ["pad"] = new string('x', 3000) } }, None);
            }
        })));

        var lines = File.ReadLines(t.Layout.CurrentLogPath).Skip(1).Select(l => EventJson.Parse(l, null)).ToList();
        Assert.Equal(writers * perWriter, lines.Count);
        for (var w = 0; w < writers; w++)
            Assert.Equal(Enumerable.Range(0, perWriter).Select(i => (long?)i), lines.Where(e => e.Agent == $"writer{w}").Select(e => e.DurationMs));
        Assert.Equal(writers * perWriter, (await EventsAsync(first, new SessionEventQuery { Type = SessionEventType.ToolCall })).Count);
    }

    [Fact]
    public async Task A_full_disk_while_appending_fails_clearly_and_leaves_the_catalog_unchanged()
    {
        if (!OperatingSystem.IsLinux()) return; // /dev/full is the kernel's always-full device
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var log = t.Layout.CurrentLogPath;
        File.Move(log, log + ".real");
        File.CreateSymbolicLink(log, "/dev/full");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.AppendEventsAsync([Tool(1)], null, None));

        Assert.Equal(ErrorIds.DiskFull, ex.ErrorId);
        Assert.Empty(await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall }));
        File.Delete(log);
        File.Move(log + ".real", log);
        await ws.AppendEventsAsync([Tool(2)], null, None);
        Assert.Equal([2L], (await EventsAsync(ws, new SessionEventQuery { Type = SessionEventType.ToolCall })).Select(e => e.DurationMs!.Value));
    }

    [Fact]
    public async Task The_activity_log_reader_never_returns_a_partial_last_line()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "{\"a\":1}\n{\"b\":2}\n{\"c\":", Encoding.UTF8);
            var lines = ActivityLog.ReadLines(path, 0).Select(l => l.Line).ToList();
            Assert.Equal(["{\"a\":1}", "{\"b\":2}"], lines);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
