using Xunit;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using static TierStorage.Tests.Catalog.CatalogFixture;

namespace TierStorage.Tests.Catalog;

/// <remarks>Runs on SQLite; <see cref="PostgresCatalogEventTests"/> runs every test again on a real PostgreSQL.</remarks>
public class CatalogEventTests : IDisposable
{
    private readonly CatalogFixture _fixture;

    public CatalogEventTests() : this(null) { }

    protected CatalogEventTests(Postgres.PostgresServerFixture? server) => _fixture = new CatalogFixture(server);

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private static SessionEvent Event(int second, SessionEventType type = SessionEventType.ToolCall, string session = "session_a",
        string? agent = null, string? tool = null, string? task = null, string? model = null, bool? success = null) => new()
    {
        Timestamp = T0.AddSeconds(second),
        SessionId = session,
        Type = type,
        Agent = agent,
        Tool = tool,
        Task = task,
        Model = model,
        Success = success,
    };

    [Fact]
    public async Task Every_field_round_trips_with_nested_data_and_an_event_id()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var sent = new SessionEvent
        {
            Timestamp = new DateTimeOffset(2026, 11, 22, 7, 32, 50, 123, TimeSpan.FromHours(2)),
            SessionId = "session_a",
            Type = SessionEventType.LlmCall,
            Agent = "planner",
            Tool = "Bash",
            Task = "build the catalog",
            DurationMs = 1234,
            Tokens = new TokenUsage { Input = 10, Output = 20, CacheRead = 30, CacheWrite = 40 },
            Model = "claude-sonnet-4",
            Success = false,
            ErrorType = "timeout",
            File = "src/a.cs",
            Data = new Dictionary<string, object?>
            {
                ["text"] = "héllo \"quoted\"\nline",
                ["count"] = 3L,
                ["ratio"] = 0.5,
                ["flag"] = true,
                ["nothing"] = null,
                ["nested"] = new Dictionary<string, object?> { ["list"] = new List<object?> { 1L, "two", new Dictionary<string, object?> { ["three"] = 3L } } },
            },
        };

        await db.AddEventsAsync("session_a", [sent], 100, CancellationToken.None);
        var got = Assert.Single(await ToListAsync(db.QueryEventsAsync(new SessionEventQuery(), CancellationToken.None)));

        Assert.True(got.EventId > 0);
        Assert.Equal(sent.Timestamp, got.Timestamp);
        Assert.Equal(TimeSpan.Zero, got.Timestamp.Offset);
        Assert.Equal(sent with { EventId = got.EventId, Timestamp = got.Timestamp, Data = got.Data }, got);
        var data = got.Data!;
        Assert.Equal("héllo \"quoted\"\nline", data["text"]);
        Assert.Equal(3L, data["count"]);
        Assert.Equal(0.5, data["ratio"]);
        Assert.Equal(true, data["flag"]);
        Assert.Null(data["nothing"]);
        var list = Assert.IsType<List<object?>>(Assert.IsType<Dictionary<string, object?>>(data["nested"])["list"]);
        Assert.Equal(1L, list[0]);
        Assert.Equal("two", list[1]);
        Assert.Equal(3L, Assert.IsType<Dictionary<string, object?>>(list[2])["three"]);
    }

    [Fact]
    public async Task Absent_optional_fields_stay_null()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.AddEventsAsync("session_a", [Event(0, SessionEventType.SessionStart)], 10, CancellationToken.None);
        var got = Assert.Single(await ToListAsync(db.QueryEventsAsync(new SessionEventQuery(), CancellationToken.None)));
        Assert.Null(got.Tokens);
        Assert.Null(got.Success);
        Assert.Null(got.Data);
        Assert.Null(got.DurationMs);
    }

    [Fact]
    public async Task Add_updates_the_session_counters_in_the_same_batch()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.AddEventsAsync("session_a", [Event(0), Event(1)], 200, CancellationToken.None);
        await db.AddEventsAsync("session_a", [Event(2)], 300, CancellationToken.None);
        var session = await db.GetSessionAsync("session_a", CancellationToken.None);
        Assert.Equal(3, session!.EventCount);
        Assert.Equal(300, session.LogIndexedBytes);
    }

    [Fact]
    public async Task Each_filter_selects_only_matching_events()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.InsertSessionAsync(new SessionRecord { SessionId = "session_b", Phase = 2, StartedAt = T0 }, CancellationToken.None);
        await db.AddEventsAsync("session_a",
        [
            Event(0, SessionEventType.ToolCall, agent: "coder", tool: "Bash", task: "t1", model: "m1", success: true),
            Event(1, SessionEventType.Error, agent: "coder", tool: "Read", task: "t2", model: "m2", success: false),
            Event(2, SessionEventType.Decision, agent: "planner", task: "t1"),
        ], 0, CancellationToken.None);
        await db.AddEventsAsync("session_b", [Event(3, session: "session_b", tool: "Bash", model: "m1", success: true)], 0, CancellationToken.None);

        async Task<int[]> Seconds(SessionEventQuery query) =>
            (await ToListAsync(db.QueryEventsAsync(query, CancellationToken.None))).Select(e => (int)(e.Timestamp - T0).TotalSeconds).ToArray();

        Assert.Equal(new[] { 0, 1, 2, 3 }, await Seconds(new SessionEventQuery()));
        Assert.Equal(new[] { 3 }, await Seconds(new SessionEventQuery { SessionId = "session_b" }));
        Assert.Equal(new[] { 3 }, await Seconds(new SessionEventQuery { Phase = 2 }));
        Assert.Equal(new[] { 0, 1, 2 }, await Seconds(new SessionEventQuery { Phase = 1 }));
        Assert.Equal(new[] { 1 }, await Seconds(new SessionEventQuery { Type = SessionEventType.Error }));
        Assert.Equal(new[] { 2 }, await Seconds(new SessionEventQuery { Agent = "planner" }));
        Assert.Equal(new[] { 0, 3 }, await Seconds(new SessionEventQuery { Tool = "Bash" }));
        Assert.Equal(new[] { 1 }, await Seconds(new SessionEventQuery { Model = "m2" }));
        Assert.Equal(new[] { 0, 2 }, await Seconds(new SessionEventQuery { Task = "t1" }));
        Assert.Equal(new[] { 0, 3 }, await Seconds(new SessionEventQuery { Success = true }));
        Assert.Equal(new[] { 1 }, await Seconds(new SessionEventQuery { Success = false }));
        Assert.Equal(new[] { 1, 2 }, await Seconds(new SessionEventQuery { Since = T0.AddSeconds(1), Until = T0.AddSeconds(2) }));
        Assert.Equal(new[] { 0 }, await Seconds(new SessionEventQuery { SessionId = "session_a", Tool = "Bash", Phase = 1 }));
        Assert.Empty(await Seconds(new SessionEventQuery { SessionId = "session_b", Phase = 1 }));
    }

    [Fact]
    public async Task Limit_and_descending_return_the_newest_first()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.AddEventsAsync("session_a", Enumerable.Range(0, 10).Select(i => Event(i)).ToList(), 0, CancellationToken.None);

        var newest = await ToListAsync(db.QueryEventsAsync(new SessionEventQuery { Descending = true, Limit = 3 }, CancellationToken.None));
        var oldest = await ToListAsync(db.QueryEventsAsync(new SessionEventQuery { Limit = 2 }, CancellationToken.None));

        Assert.Equal([T0.AddSeconds(9), T0.AddSeconds(8), T0.AddSeconds(7)], newest.Select(e => e.Timestamp));
        Assert.Equal([T0, T0.AddSeconds(1)], oldest.Select(e => e.Timestamp));
        Assert.Empty(await ToListAsync(db.QueryEventsAsync(new SessionEventQuery { Limit = 0 }, CancellationToken.None)));
        Assert.True(newest[0].EventId > newest[1].EventId);
    }

    /// <summary>The first or last N of a phase's (or a machine's) events, which PostgreSQL answers by merging per-session
    /// tops bounded by one session's N-th event: the same events, in the same order, as the whole filtered list cut at N,
    /// whatever the overlap of the sessions, ties of timestamps, sessions shorter than N or without a matching event.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task The_first_or_last_N_of_a_phase_are_the_whole_filtered_list_cut_at_N(int seed)
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var random = new Random(seed);
        var sizes = new[] { 40, 0, 1, 2, 5, 17, 3, 60 };
        var types = new[] { SessionEventType.ToolCall, SessionEventType.Decision, SessionEventType.Error };
        for (var s = 0; s < sizes.Length; s++)
        {
            var id = $"session_p{s}";
            var start = random.Next(0, 40);
            await db.InsertSessionAsync(new SessionRecord { SessionId = id, Phase = 1 + s % 2, StartedAt = T0.AddSeconds(start) }, CancellationToken.None);
            // Seconds overlap between sessions and repeat within one (ties broken by event id).
            await db.AddEventsAsync(id, Enumerable.Range(0, sizes[s]).Select(_ => Event(start + random.Next(0, 30), types[random.Next(types.Length)], session: id)).ToList(), 0, CancellationToken.None);
        }
        foreach (var phase in new int?[] { 1, 2, null })
        foreach (var type in new SessionEventType?[] { null, SessionEventType.Error })
        foreach (var descending in new[] { false, true })
        {
            // Without a phase, by machine (every session here is this machine's): the same path.
            var whole = new SessionEventQuery { Phase = phase, Type = type, Descending = descending, Machine = phase is null ? db.Origin.Machine : null };
            var all = (await ToListAsync(db.QueryEventsAsync(whole, CancellationToken.None))).Select(e => e.EventId).ToList();
            Assert.NotEmpty(all);
            foreach (var limit in new[] { 0, 1, 3, 7, 50, 500 })
            {
                var cut = (await ToListAsync(db.QueryEventsAsync(whole with { Limit = limit }, CancellationToken.None))).Select(e => e.EventId).ToList();
                Assert.True(all.Take(limit).SequenceEqual(cut), $"phase {phase}, type {type}, descending {descending}, limit {limit}: [{string.Join(",", cut)}] is not the first {limit} of [{string.Join(",", all)}]");
            }
        }
    }

    [Fact]
    public async Task Events_with_the_same_timestamp_keep_insertion_order()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.AddEventsAsync("session_a", [Event(0, task: "first"), Event(0, task: "second")], 0, CancellationToken.None);
        var events = await ToListAsync(db.QueryEventsAsync(new SessionEventQuery(), CancellationToken.None));
        Assert.Equal(["first", "second"], events.Select(e => e.Task));
    }


    [Fact]
    public async Task A_failure_in_the_middle_of_a_batch_stores_none_of_it()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var batch = Enumerable.Range(0, 10_000).Select(i => Event(i)).ToList();
        batch[5_000] = batch[5_000] with { Data = new Dictionary<string, object?> { ["bad"] = new object() } };

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => db.AddEventsAsync("session_a", batch, 999, CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidEvent, ex.ErrorId);
        Assert.Contains("data.bad", ex.Message);
        Assert.Empty(await ToListAsync(db.QueryEventsAsync(new SessionEventQuery(), CancellationToken.None)));
        var session = await db.GetSessionAsync("session_a", CancellationToken.None);
        Assert.Equal(0, session!.EventCount);
        Assert.Equal(0, session.LogIndexedBytes);

        // The reused statement is left clean: the next batch goes in whole.
        await db.AddEventsAsync("session_a", batch.Take(5_000).ToList(), 999, CancellationToken.None);
        Assert.Equal(5_000, (await db.GetSessionAsync("session_a", CancellationToken.None))!.EventCount);
    }

    [Fact]
    public async Task Events_of_an_unknown_session_are_refused()
    {
        await using var db = await _fixture.OpenAsync();
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => db.AddEventsAsync("session_x", [Event(0, session: "session_x")], 0, CancellationToken.None));
        Assert.Equal(ErrorIds.SessionNotFound, ex.ErrorId);
    }

    [Fact]
    public async Task An_event_of_another_session_fails_the_batch()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => db.AddEventsAsync("session_a", [Event(0), Event(1, session: "session_b")], 0, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidEvent, ex.ErrorId);
        Assert.Empty(await ToListAsync(db.QueryEventsAsync(new SessionEventQuery(), CancellationToken.None)));
    }

    [Fact]
    public async Task Foreign_keys_are_enforced()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        // SQLite's SQLITE_CONSTRAINT_FOREIGNKEY (787), PostgreSQL's foreign_key_violation (23503).
        static void IsForeignKey(System.Data.Common.DbException ex) =>
            Assert.True(ex is SqliteException { SqliteExtendedErrorCode: 787 } or Npgsql.PostgresException { SqlState: "23503" }, ex.Message);
        IsForeignKey(await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => ScalarAsync(db, "INSERT INTO events(session_id, ts, type) VALUES ('session_nobody', 0, 'error')")));
        IsForeignKey(await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => ScalarAsync(db, "INSERT INTO sessions(session_id, phase, started_at, state) VALUES ('s', 99, 0, 'Active')")));
        IsForeignKey(await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() =>
            db.RecordSnapshotAsync(new SnapshotInfo { SessionId = "session_nobody", Sequence = 1, Path = "p", Sha256 = "x" }, CancellationToken.None)));
    }

    [Fact]
    public async Task Cancellation_stops_a_query_stream()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        await db.AddEventsAsync("session_a", Enumerable.Range(0, 100).Select(i => Event(i)).ToList(), 0, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in db.QueryEventsAsync(new SessionEventQuery(), cts.Token))
            {
                if (++seen == 5) await cts.CancelAsync();
            }
        });
        Assert.Equal(5, seen);
    }
}

/// <summary>Every test of <see cref="CatalogEventTests"/> on the PostgreSQL provider.</summary>
[Collection(Postgres.PostgresCollection.Name)]
public sealed class PostgresCatalogEventTests(Postgres.PostgresServerFixture server) : CatalogEventTests(server);
