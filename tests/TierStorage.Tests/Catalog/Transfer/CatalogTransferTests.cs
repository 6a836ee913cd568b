using System.Data.Common;
using Npgsql;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using CatalogLocation = TierStorage.Engine.Catalog.CatalogLocation;
using TierStorage.Engine.Catalog.Transfer;
using TierStorage.Tests.Catalog.Postgres;
using Xunit;

namespace TierStorage.Tests.Catalog.Transfer;

/// <summary>Copy-TierCatalog's engine (CatalogCopier) and Test-TierCatalog's (CatalogComparer) between SQLite files and
/// a real PostgreSQL, in both directions.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CatalogTransferTests(PostgresServerFixture server) : IDisposable
{
    private readonly TransferCatalogs _catalogs = new();

    public void Dispose() => _catalogs.Dispose();

    private static Task<CatalogCopyResult> CopyAsync(DbConnection source, DbConnection target, CatalogCopyOptions? options = null, CancellationToken cancellationToken = default) =>
        CatalogCopier.CopyAsync(source, "source", target, "target", options ?? new CatalogCopyOptions(), cancellationToken);

    private static Task<IReadOnlyList<CatalogTableComparison>> CompareAsync(DbConnection source, DbConnection target) =>
        CatalogComparer.CompareAsync(source, "source", target, "target", CancellationToken.None);

    private static void AssertClean(IReadOnlyList<CatalogTableComparison> comparison) =>
        Assert.All(comparison, t => Assert.True(t.Match, $"{t.Table}: {t.SourceRows} vs {t.TargetRows}: {string.Join("; ", t.Differences)}"));

    [Fact]
    public async Task Every_catalog_table_has_a_transfer_rule()
    {
        using var catalog = new CatalogFixture();
        await (await catalog.OpenAsync()).DisposeAsync();
        using var raw = catalog.RawConnection();
        var tables = CatalogFixture.Rows(raw, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").Select(r => (string)r[0]!);
        Assert.Equal(tables.Order(StringComparer.Ordinal), CatalogTables.All.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SQLite_to_PostgreSQL_and_back_is_clean_and_event_data_is_byte_identical()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", sessions: 4, eventsPerSession: 250);
        var postgres = await TransferCatalogs.PostgresAsync(server, "copy");
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using (var target = await TransferCatalogs.OpenAsync(postgres))
        {
            var result = await CopyAsync(source, target);
            Assert.Empty(result.Conflicts);
            Assert.Equal(4 * 250, result.Tables.Single(t => t.Table == "events").RowsWritten);
            Assert.True(result.Tables.Single(t => t.Table == "session_rollups").Skipped);
            Assert.Equal(0, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM session_rollups"));
            AssertClean(await CompareAsync(source, target));
        }

        // The reverse export: the PostgreSQL catalog into a new SQLite file.
        var export = _catalogs.SqlitePath("export");
        await using (var pg = await TransferCatalogs.OpenAsync(postgres, create: false))
        await using (var file = await TransferCatalogs.OpenAsync(export))
        {
            var back = await CopyAsync(pg, file);
            Assert.Empty(back.Conflicts);
            AssertClean(await CompareAsync(pg, file));
            AssertClean(await CompareAsync(source, file));
        }
        using var original = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={sqlite.Target};Pooling=False");
        using var exported = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={export.Target};Pooling=False");
        original.Open();
        exported.Open();
        const string events = "SELECT session_id, ts, type, agent, tool, data, event_key, ingest_key, typeof(success), quote(file) FROM events ORDER BY session_id, event_id";
        var a = CatalogFixture.Rows(original, events);
        var b = CatalogFixture.Rows(exported, events);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++) Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public async Task A_rerun_of_a_complete_copy_writes_nothing()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 3, 100);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "rerun"));
        await CopyAsync(source, target);
        var again = await CopyAsync(source, target);
        Assert.Equal(0, again.RowsWritten);
        Assert.Empty(again.Conflicts);
        Assert.Equal(3 * 100, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM events"));
        AssertClean(await CompareAsync(source, target));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(13)]
    [InlineData(40)]
    [InlineData(95)]
    public async Task A_copy_killed_after_some_batches_then_rerun_is_clean_with_no_duplicate(int killAfterBatches)
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 5, 180);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "kill"));
        var batches = 0;
        var kill = new SyncProgress(p =>
        {
            if (p.RowsDone > 0 && ++batches == killAfterBatches) throw new InvalidOperationException("killed");
        });
        var killed = await Record.ExceptionAsync(() => CopyAsync(source, target, new CatalogCopyOptions { BatchRows = 7, Progress = kill }));
        Assert.Equal("killed", killed?.Message);
        var rerun = await CopyAsync(source, target, new CatalogCopyOptions { BatchRows = 7 });
        Assert.Empty(rerun.Conflicts);
        AssertClean(await CompareAsync(source, target));
        Assert.Equal(5 * 180, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM events"));
        Assert.Equal(10, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM backup_runs"));
    }

    [Fact]
    public async Task A_copy_cancelled_mid_way_resumes()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 4, 300);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "cancel"));
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Table == "events" && p.RowsDone >= 500) cancel.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CopyAsync(source, target, new CatalogCopyOptions { BatchRows = 100, Progress = progress }, cancel.Token));
        var partial = await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM events");
        Assert.InRange(partial, 500, 4 * 300 - 1);
        await CopyAsync(source, target);
        AssertClean(await CompareAsync(source, target));
    }

    [Fact]
    public async Task Test_shows_an_added_event_and_an_updated_session_and_sync_carries_them()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 2, 50);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "sync"));
        await CopyAsync(source, target);
        Assert.Equal(0, (await CatalogCopier.SyncAsync(source, "source", target, "target", CancellationToken.None)).RowsWritten);

        await TransferCatalogs.ExecuteAsync(source, "INSERT INTO events (session_id, ts, type, data) VALUES ('session_a_001', 1795000099000, 'decision', '{\"why\":\"late\"}')");
        await TransferCatalogs.ExecuteAsync(source, "UPDATE sessions SET state = 'Completed', ended_at = 1795000099999, event_count = 52 WHERE session_id = 'session_a_001'");
        await TransferCatalogs.ExecuteAsync(source, "DELETE FROM backup_queue");
        var before = await CompareAsync(source, target);
        Assert.Contains(new CatalogDifference { Table = "events", Key = "session_id=session_a_001,#51", Kind = CatalogDifferenceKind.Missing }, before.Single(t => t.Table == "events").Differences);
        Assert.Contains(new CatalogDifference { Table = "sessions", Key = "session_id=session_a_001", Kind = CatalogDifferenceKind.Changed }, before.Single(t => t.Table == "sessions").Differences);
        Assert.Equal(CatalogDifferenceKind.Extra, before.Single(t => t.Table == "backup_queue").Differences.Single().Kind);

        var sync = await CatalogCopier.SyncAsync(source, "source", target, "target", CancellationToken.None);
        Assert.Equal(2, sync.RowsWritten);
        Assert.Equal(1, sync.Tables.Single(t => t.Table == "backup_queue").RowsDeleted);
        AssertClean(await CompareAsync(source, target));
    }

    /// <summary>Machine b's catalog as a machine that kept its history on its own disk: no object on a tier but the local one.</summary>
    private static async Task<CatalogLocation> LocalHistoryAsync(CatalogLocation location)
    {
        await using var raw = await TransferCatalogs.OpenAsync(location, create: false);
        await TransferCatalogs.ExecuteAsync(raw, "UPDATE objects SET tier = 'local'");
        await TransferCatalogs.ExecuteAsync(raw, "DELETE FROM upload_states");
        await TransferCatalogs.ExecuteAsync(raw, "DELETE FROM thaw_requests");
        return location;
    }

    [Fact]
    public async Task A_second_machine_joins_the_team_catalog_beside_the_first_and_a_colliding_id_is_a_conflict()
    {
        var a = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 3, 40);
        var b = await LocalHistoryAsync(await TransferCatalogs.FillAsync(_catalogs.SqlitePath("b"), "b", 2, 30));
        await using (var raw = await TransferCatalogs.OpenAsync(b, create: false))
        {
            // Machine b also has a session whose id machine a took, started at another time; it names its phase 1 otherwise;
            // and its sessions were recorded before catalogs kept their origin (NULL machine).
            await TransferCatalogs.ExecuteAsync(raw, "INSERT INTO sessions (session_id, phase, started_at, state, event_count) VALUES ('session_a_000', 1, 1795999999000, 'Completed', 1)");
            await TransferCatalogs.ExecuteAsync(raw, "INSERT INTO events (session_id, ts, type, data) VALUES ('session_a_000', 1795999999001, 'note', 'from b')");
            await TransferCatalogs.ExecuteAsync(raw, "UPDATE phases SET name = 'b''s build' WHERE number = 1");
        }
        var shared = await TransferCatalogs.PostgresAsync(server, "shared");
        await using var target = await TransferCatalogs.OpenAsync(shared);
        await using (var sa = await TransferCatalogs.OpenAsync(a, create: false))
        {
            var first = await CopyAsync(sa, target, new CatalogCopyOptions { Origin = new CatalogOrigin("host-a", "ann") });
            Assert.Empty(first.Conflicts);
            Assert.Null(first.Joined);
        }
        await using var sb = await TransferCatalogs.OpenAsync(b, create: false);
        var result = await CopyAsync(sb, target, new CatalogCopyOptions { Origin = new CatalogOrigin("host-b", "bob") });

        // b joins a's catalog: a's identity and phase 1 are kept (a warning, not a conflict), b's sessions go in beside a's.
        Assert.Equal("ws-a", result.Joined);
        var conflict = Assert.Single(result.Conflicts);
        Assert.Equal(("sessions", "session_a_000"), (conflict.Table, conflict.Key));
        var kept = Assert.Single(result.Kept);
        Assert.Equal(("phases", "number=1"), (kept.Table, kept.Key));
        Assert.Contains("names this phase 'build ✓', this workspace 'b's build'", kept.Reason, StringComparison.Ordinal);
        Assert.Equal("build ✓", (string?)await new NpgsqlCommand("SELECT name FROM phases WHERE number = 1", (NpgsqlConnection)target).ExecuteScalarAsync());
        Assert.Equal("ws-a", (string?)await new NpgsqlCommand("SELECT id FROM workspace_identity", (NpgsqlConnection)target).ExecuteScalarAsync());
        Assert.Equal(5, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions"));
        Assert.Equal(3 * 40 + 2 * 30, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM events"));
        // a's session kept its own start and events; none of b's rows went into it.
        Assert.Equal(0, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM events WHERE session_id = 'session_a_000' AND data = 'from b'"));
        Assert.Equal(1795000000000, await TransferCatalogs.ScalarAsync(target, "SELECT started_at FROM sessions WHERE session_id = 'session_a_000'"));
        // Each machine's sessions carry its origin, on both sides: b's are b's to back up in the team's catalog.
        Assert.Equal(3, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions WHERE machine = 'host-a' AND user_name = 'ann'"));
        Assert.Equal(2, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions WHERE machine = 'host-b' AND user_name = 'bob'"));
        Assert.Equal(0, await TransferCatalogs.ScalarAsync(sb, "SELECT count(*) FROM sessions WHERE machine IS NULL OR user_name IS NULL"));

        // From b's side the comparison is about b's rows only: a's are not differences; the colliding session is.
        var comparison = await CompareAsync(sb, target);
        Assert.All(comparison, t => Assert.True(t.Shared));
        Assert.Equal(["events", "sessions"], comparison.Where(t => !t.Match).Select(t => t.Table).Order());
        Assert.Contains(comparison.Single(t => t.Table == "sessions").Differences, d => d.Key == "session_id=session_a_000" && d.Kind == CatalogDifferenceKind.Changed);
        Assert.DoesNotContain(comparison.SelectMany(t => t.Differences), d => d.Kind == CatalogDifferenceKind.Extra);

        // The leftover removed from b, b's rows all match: b could cut over to the team's catalog.
        await TransferCatalogs.ExecuteAsync(sb, "DELETE FROM events WHERE session_id = 'session_a_000'");
        await TransferCatalogs.ExecuteAsync(sb, "DELETE FROM sessions WHERE session_id = 'session_a_000'");
        AssertClean(await CompareAsync(sb, target));

        // a, still dual-writing (same identity as the team's), mirrors its deletes but never removes b's rows.
        await using (var sa = await TransferCatalogs.OpenAsync(a, create: false))
        {
            await TransferCatalogs.ExecuteAsync(sa, "DELETE FROM backup_queue");
            var sync = await CatalogCopier.SyncAsync(sa, "a", target, "target", new CatalogCopyOptions { Origin = new CatalogOrigin("host-a", "ann") }, CancellationToken.None);
            Assert.Equal(1, sync.Tables.Sum(t => t.RowsDeleted));
            Assert.Equal(0, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM backup_queue WHERE session_id LIKE 'session_a_%'"));
            Assert.Equal(1, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM backup_queue WHERE session_id LIKE 'session_b_%'"));
            // From a's side too only a's rows count: the catalog holds b's machine's sessions, which are not differences.
            var fromA = await CompareAsync(sa, target);
            Assert.All(fromA, t => Assert.True(t.Shared));
            AssertClean(fromA);
        }
        Assert.Equal(5, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions"));
        AssertClean(await CompareAsync(sb, target));
    }

    /// <summary>Nothing drops a session from a workspace's catalog while its identity stays: a catalog that lacks sessions
    /// its dual-written copy holds was created empty again (a deleted file), restored from an older copy or rebuilt without
    /// -FromTier. The sync must not mirror that into the copy (it emptied it: the sessions, their events, their objects),
    /// so it deletes nothing at all and names what the catalog lacks; once the sessions are back, deletes mirror again.</summary>
    [Fact]
    public async Task A_dual_write_sync_from_a_catalog_that_lost_sessions_deletes_nothing_from_the_copy()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 3, 20);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "lost"));
        await CopyAsync(source, target);
        async Task<long[]> CountsAsync() =>
        [
            await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions"),
            await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM events"),
            await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM objects"),
            await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM backup_queue"),
            await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM upload_states"),
        ];
        var copied = await CountsAsync();
        var tables = new[] { "events", "snapshots", "objects", "backup_runs", "backup_queue", "ingest_offsets", "ingest_pending", "ingest_agent_links", "session_rollups", "sessions" };

        // One session gone (with all its rows), and a legitimate delete beside it (the queue drained).
        foreach (var table in tables) await TransferCatalogs.ExecuteAsync(source, $"DELETE FROM {table} WHERE session_id = 'session_a_001'");
        await TransferCatalogs.ExecuteAsync(source, "DELETE FROM backup_queue");
        var sync = await CatalogCopier.SyncAsync(source, "source", target, "target", CancellationToken.None);
        var lost = Assert.Single(sync.Conflicts);
        Assert.Equal(("sessions", "session_a_001"), (lost.Table, lost.Key));
        Assert.Contains("1 session(s) of this machine that this catalog does not", lost.Reason, StringComparison.Ordinal);
        Assert.Contains("Update-TierCatalog -FromTier", lost.Reason, StringComparison.Ordinal);
        Assert.All(sync.Tables, t => Assert.Equal(0, t.RowsDeleted));
        Assert.Equal(copied, await CountsAsync());

        // The whole catalog created empty again, as the workspace does when its file is gone, this machine syncing.
        foreach (var table in tables.Append("upload_states").Append("thaw_requests")) await TransferCatalogs.ExecuteAsync(source, $"DELETE FROM {table}");
        var empty = await CatalogCopier.SyncAsync(source, "source", target, "target", new CatalogCopyOptions { Origin = new CatalogOrigin("a", "dev") }, CancellationToken.None);
        Assert.Contains("3 session(s) of this machine", Assert.Single(empty.Conflicts).Reason, StringComparison.Ordinal);
        Assert.Equal(copied, await CountsAsync());
    }

    [Fact]
    public async Task A_machine_whose_objects_lie_under_its_own_namespace_is_refused_before_anything_is_written()
    {
        var a = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 2, 10);
        var b = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("b"), "b", 2, 10);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "stranded"));
        await using (var sa = await TransferCatalogs.OpenAsync(a, create: false)) await CopyAsync(sa, target);
        await using var sb = await TransferCatalogs.OpenAsync(b, create: false);

        var refused = await Assert.ThrowsAsync<TierStorageException>(() => CopyAsync(sb, target, new CatalogCopyOptions { Origin = new CatalogOrigin("host-b", "bob") }));
        Assert.Equal(ErrorIds.CatalogConflict, refused.ErrorId);
        Assert.Contains("'ns-b' (2 objects on tier backup, 1 uploads in flight, 1 thaw requests)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("namespace 'ns-a'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions"));
        Assert.Equal(0, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM objects WHERE key LIKE 'b/%'"));
        // Nothing of b was touched either: its sessions still have no origin.
        Assert.Equal(2, await TransferCatalogs.ScalarAsync(sb, "SELECT count(*) FROM sessions WHERE machine IS NULL"));

        // The same machine's objects under the team's namespace (it had used the team's namespace all along) join fine.
        await TransferCatalogs.ExecuteAsync(sb, "UPDATE workspace_identity SET namespace = 'ns-a'");
        Assert.Equal("ws-a", (await CopyAsync(sb, target)).Joined);
        Assert.Equal(4, await TransferCatalogs.ScalarAsync(target, "SELECT count(*) FROM sessions"));
    }

    [Fact]
    public async Task Test_names_a_changed_value_a_missing_row_and_an_extra_row()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 2, 20);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(await TransferCatalogs.PostgresAsync(server, "diff"));
        await CopyAsync(source, target);
        await TransferCatalogs.ExecuteAsync(target, "UPDATE objects SET md5 = 'tampered' WHERE key = 'a/s/session_a_001/activity.jsonl.gz'");
        await TransferCatalogs.ExecuteAsync(target, "DELETE FROM snapshots WHERE session_id = 'session_a_000'");
        await TransferCatalogs.ExecuteAsync(target, "INSERT INTO thaw_requests VALUES ('archive', 'zz', 1, 'Bulk', 2, '0')");
        await TransferCatalogs.ExecuteAsync(target, "UPDATE events SET data = NULL WHERE event_id = (SELECT event_id FROM events WHERE session_id = 'session_a_001' ORDER BY event_id OFFSET 4 LIMIT 1)");

        var comparison = await CompareAsync(source, target);
        Assert.Equal(["events", "objects", "snapshots", "thaw_requests"], comparison.Where(t => !t.Match).Select(t => t.Table).Order());
        Assert.Equal(new CatalogDifference { Table = "objects", Key = "tier=backup,key=a/s/session_a_001/activity.jsonl.gz", Kind = CatalogDifferenceKind.Changed }, comparison.Single(t => t.Table == "objects").Differences.Single());
        Assert.Equal(new CatalogDifference { Table = "snapshots", Key = "session_id=session_a_000,sequence=1", Kind = CatalogDifferenceKind.Missing }, comparison.Single(t => t.Table == "snapshots").Differences.Single());
        Assert.Equal(new CatalogDifference { Table = "thaw_requests", Key = "tier=archive,key=zz", Kind = CatalogDifferenceKind.Extra }, comparison.Single(t => t.Table == "thaw_requests").Differences.Single());
        Assert.Equal(new CatalogDifference { Table = "events", Key = "session_id=session_a_001,#5", Kind = CatalogDifferenceKind.Changed }, comparison.Single(t => t.Table == "events").Differences.Single());
        var snapshots = comparison.Single(t => t.Table == "snapshots");
        Assert.Equal((2, 1), (snapshots.SourceRows, snapshots.TargetRows));

        // A copy now reports the changed event as a conflict rather than guessing, and repairs the keyed rows.
        var copy = await CopyAsync(source, target);
        Assert.Contains(copy.Conflicts, c => c.Table == "events" && c.Key == "session_a_001");
        Assert.Equal(["events", "thaw_requests"], (await CompareAsync(source, target)).Where(t => !t.Match).Select(t => t.Table).Order());
    }

    [Fact]
    public void A_connection_string_with_a_password_is_refused_without_echoing_it()
    {
        var ex = Assert.Throws<TierStorageException>(() => CatalogLocation.Parse("Host=db;Database=cat;Username=u;Password=hunter2secret"));
        Assert.Equal(ErrorIds.InvalidArgument, ex.ErrorId);
        Assert.DoesNotContain("hunter2secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_PostgreSQL_database_with_other_tables_is_refused_untouched()
    {
        var location = await TransferCatalogs.PostgresAsync(server, "foreign");
        await using (var raw = new NpgsqlConnection(location.OpenString()))
        {
            await raw.OpenAsync();
            await TransferCatalogs.ExecuteAsync(raw, "CREATE TABLE customers (id int); CREATE TABLE schema_migrations (version varchar PRIMARY KEY)");
        }
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => TransferCatalogs.OpenAsync(location));
        Assert.Equal(ErrorIds.NotACatalog, ex.ErrorId);
        Assert.Contains("customers", ex.Message, StringComparison.Ordinal);
        await using var check = new NpgsqlConnection(location.OpenString());
        await check.OpenAsync();
        Assert.Equal(2, await TransferCatalogs.ScalarAsync(check, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"));
    }

    [Fact]
    public async Task An_SQLite_file_that_is_not_a_catalog_is_refused_untouched()
    {
        var other = _catalogs.SqlitePath("other");
        Directory.CreateDirectory(Path.GetDirectoryName(other.Target)!);
        await using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={other.Target};Pooling=False"))
        {
            await raw.OpenAsync();
            await TransferCatalogs.ExecuteAsync(raw, "CREATE TABLE notes (body TEXT)");
        }
        var before = await File.ReadAllBytesAsync(other.Target);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => TransferCatalogs.OpenAsync(other));
        Assert.Equal(ErrorIds.NotACatalog, ex.ErrorId);
        Assert.Equal(before, await File.ReadAllBytesAsync(other.Target));

        var text = _catalogs.SqlitePath("text");
        Directory.CreateDirectory(Path.GetDirectoryName(text.Target)!);
        await File.WriteAllTextAsync(text.Target, "just some text, long enough to not be an empty database file at all................................");
        Assert.Equal(ErrorIds.NotACatalog, (await Assert.ThrowsAsync<TierStorageException>(() => TransferCatalogs.OpenAsync(text))).ErrorId);
    }

    [Fact]
    public async Task SQLite_to_SQLite_copy_is_clean()
    {
        var sqlite = await TransferCatalogs.FillAsync(_catalogs.SqlitePath("a"), "a", 3, 60);
        await using var source = await TransferCatalogs.OpenAsync(sqlite, create: false);
        await using var target = await TransferCatalogs.OpenAsync(_catalogs.SqlitePath("copy"));
        await CopyAsync(source, target, new CatalogCopyOptions { BatchRows = 10 });
        AssertClean(await CompareAsync(source, target));
        Assert.Equal(0, (await CopyAsync(source, target)).RowsWritten);
    }

    /// <summary>Reports on the caller's thread, so a throw from it interrupts the copy there (Progress&lt;T&gt; would post it).</summary>
    private sealed class SyncProgress(Action<CatalogCopyProgress> report) : IProgress<CatalogCopyProgress>
    {
        public void Report(CatalogCopyProgress value) => report(value);
    }
}
