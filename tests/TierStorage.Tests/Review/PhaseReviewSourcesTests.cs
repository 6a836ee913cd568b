using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using TierStorage.Tests.Tiers.S3;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Review;

/// <summary>
/// Invoke-PhaseReview reads every session of the phase wherever it lives: the catalog, a backup's analytics snapshot
/// (after the catalog was rebuilt from the tiers), the review stored in a phase archive's manifest, or the archive itself
/// with -Full; and writes phase_analytics.db beside the reports.
/// </summary>
public sealed class PhaseReviewSourcesTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string TiersYaml(string root) => $"""
          - name: backup
            level: 2
            kind: folder
            path: {Path.Combine(root, "backup")}
          - name: archive
            level: 3
            kind: s3
            bucket: archive-bucket
            region: us-east-1
            storage_class: DEEP_ARCHIVE
            price_per_gb_month: 0.00099
        """;

    private sealed class Bed : IAsyncDisposable
    {
        public required BackupTestBed Test { get; init; }
        public required string Root { get; init; }
        public FakeS3Client S3 { get; } = new();
        public string BackupRoot => Path.Combine(Root, "backup", Test.Namespace);

        public async ValueTask DisposeAsync()
        {
            await Test.DisposeAsync();
            if (Directory.Exists(Root)) Directory.Delete(Root, true);
        }
    }

    /// <summary>A folder backup tier and an S3 archive tier (FakeS3Client: Deep Archive that thaws when told).</summary>
    private static async Task<Bed> BedAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-review-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var bed = new Bed { Test = await CreateAsync(localSessions: 2, tierYaml: TiersYaml(root)), Root = root };
        bed.Test.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(tier.Kind == TierKind.S3
            ? new S3ObjectStore(new S3StoreOptions { TierName = tier.Name, Bucket = "archive-bucket", Prefix = "ts", TimeProvider = bed.Test.Time }, bed.S3)
            : new FaultyStore(TierStoreFactory.FolderStore(tier, context), bed.Test.Faults));
        return bed;
    }

    /// <summary>A completed session of <paramref name="phase"/> with tool calls, llm calls (tokens, a model) and a failure.</summary>
    private static async Task<string> SessionAsync(BackupTestBed bed, TierWorkspace ws, int phase, int seed)
    {
        bed.Time.Advance(TimeSpan.FromMinutes(10));
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = phase }, None);
        var events = new List<SessionEvent>();
        for (var i = 0; i < 40; i++)
        {
            events.Add(new SessionEvent
            {
                Timestamp = bed.Time.Now.AddSeconds(i), Type = SessionEventType.ToolCall, Tool = i % 3 == 0 ? "Edit" : "Bash",
                DurationMs = 20 + (i * seed % 37) * 11, Success = i % 9 != 4, File = $"src/f{i % 4}.cs", Task = $"task-{seed}",
            });
            if (i % 4 == 0)
                events.Add(new SessionEvent
                {
                    Timestamp = bed.Time.Now.AddSeconds(i), Type = SessionEventType.LlmCall, Model = "claude-sonnet-4-5", DurationMs = 900 + i * seed,
                    Tokens = new TokenUsage { Input = 1000 + i, Output = 200 + seed, CacheRead = 5000 }, Success = true, Task = $"task-{seed}",
                });
        }
        await ws.AppendEventsAsync(events, null, None);
        await ws.CompleteSessionAsync(null, None);
        return session.SessionId;
    }

    private static async Task<(Bed Bed, TierWorkspace Ws, List<string> Ids, PhaseReview Original)> BackedUpPhaseAsync()
    {
        var bed = await BedAsync();
        var ws = await bed.Test.OpenAsync();
        await ws.StartPhaseAsync(1, "setup", None);
        var ids = new List<string> { await SessionAsync(bed.Test, ws, 1, 3), await SessionAsync(bed.Test, ws, 1, 5) };
        Assert.All(await BackupAsync(ws, [.. ids]), r => Assert.True(r.Verified));
        var original = await ws.ReviewPhaseAsync(1, None);
        Assert.True(original.EventCount > 80);
        return (bed, ws, ids, original);
    }

    /// <summary>The catalog is lost (the disk died): a new workspace over the same folder, its catalog rebuilt from a tier.</summary>
    private static async Task<TierWorkspace> LoseCatalogAndRebuildAsync(Bed bed, TierWorkspace ws, string tier)
    {
        await bed.Test.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Test.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.Test.OpenAsync();
        Assert.NotEmpty(await ToListAsync(ws.Backups.RebuildCatalogAsync(tier, None)));
        return ws;
    }

    /// <summary>A catalog rebuilt as before issue 11 #7 (or from backups that could not be read then): every session known,
    /// none of its events, so the review has to read them back itself.</summary>
    private static async Task<TierWorkspace> LoseCatalogAndRebuildWithoutEventsAsync(Bed bed, TierWorkspace ws, string tier)
    {
        ws = await LoseCatalogAndRebuildAsync(bed, ws, tier);
        await using var forget = ws.Catalog.Connection.CreateCommand();
        forget.CommandText = "DELETE FROM events; UPDATE sessions SET event_count = 0, log_indexed_bytes = 0, rejected_lines = 0, log_path = NULL;";
        await forget.ExecuteNonQueryAsync();
        return ws;
    }

    private static void AssertSameFigures(PhaseReview expected, PhaseReview actual)
    {
        Assert.Equal((expected.Sessions, expected.EventCount, expected.FirstEventAt, expected.LastEventAt), (actual.Sessions, actual.EventCount, actual.FirstEventAt, actual.LastEventAt));
        Assert.Equal(expected.Latency, actual.Latency);
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.Total, actual.Total);
        Assert.Equal(expected.Tools, actual.Tools);
        Assert.Equal((expected.ErrorCount, expected.SuccessRate), (actual.ErrorCount, actual.SuccessRate));
        Assert.Equal(expected.Errors.Select(e => (e.ErrorType, e.Occurrences, e.FixSuccessRate)), actual.Errors.Select(e => (e.ErrorType, e.Occurrences, e.FixSuccessRate)));
        Assert.Equal(expected.Recommendations, actual.Recommendations);
    }

    private static long Scalar(string database, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Phase_analytics_db_holds_the_phase_s_sessions_and_events_and_nothing_of_other_phases_or_machine_state()
    {
        await using var bed = await BedAsync();
        var ws = await bed.Test.OpenAsync();
        await ws.StartPhaseAsync(1, "setup", None);
        var one = await SessionAsync(bed.Test, ws, 1, 3);
        await ws.StartPhaseAsync(2, "build", None);
        var two = await SessionAsync(bed.Test, ws, 2, 5);
        await BackupAsync(ws, one, two);

        var review = await ws.ReviewPhaseAsync(1, None);

        var analytics = Assert.Single(review.ReportPaths, p => Path.GetFileName(p) == TierWorkspace.PhaseAnalyticsFile);
        var catalog = bed.Test.Layout.CatalogPath;
        Assert.Equal(Scalar(catalog, $"SELECT COUNT(*) FROM events WHERE session_id = '{one}'"), Scalar(analytics, "SELECT COUNT(*) FROM events"));
        Assert.Equal(review.EventCount, Scalar(analytics, "SELECT COUNT(*) FROM events"));
        Assert.Equal(Scalar(catalog, $"SELECT SUM(input_tokens) FROM events WHERE session_id = '{one}'"), Scalar(analytics, "SELECT SUM(input_tokens) FROM events"));
        Assert.Equal(1, Scalar(analytics, $"SELECT COUNT(*) FROM sessions WHERE session_id = '{one}' AND phase = 1"));
        Assert.Equal(0, Scalar(analytics, $"SELECT COUNT(*) FROM sessions WHERE session_id = '{two}'"));
        Assert.Equal(0, Scalar(analytics, $"SELECT COUNT(*) FROM objects WHERE session_id = '{two}'"));
        Assert.True(Scalar(analytics, $"SELECT COUNT(*) FROM objects WHERE session_id = '{one}'") > 0);
        Assert.Equal(1, Scalar(analytics, "SELECT COUNT(*) FROM phases"));
        Assert.Equal(0, Scalar(analytics, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('upload_states', 'backup_queue', 'thaw_requests')"));
        Assert.Equal(Scalar(catalog, "PRAGMA user_version"), Scalar(analytics, "PRAGMA user_version"));
        // Without the events table's indexes (issue 12: most of the file's writing time, and nothing here reads it back);
        // the other tables keep theirs, and a query on the events still answers (by a scan).
        Assert.True(Scalar(catalog, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL") >= 5);
        Assert.Equal(0, Scalar(analytics, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"));
        Assert.Equal(1, Scalar(analytics, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_sessions_phase'"));
        Assert.Equal(Scalar(catalog, $"SELECT COUNT(*) FROM events WHERE session_id = '{one}' AND type = 'tool_call'"), Scalar(analytics, $"SELECT COUNT(*) FROM events WHERE session_id = '{one}' AND type = 'tool_call'"));
        Assert.True(File.Exists(Path.Combine(bed.BackupRoot, "Phase_1_setup", TierWorkspace.PhaseAnalyticsFile)));
    }

    [Fact]
    public async Task Phase_analytics_db_is_written_and_copied_again_only_when_the_phase_s_share_of_the_catalog_changed()
    {
        await using var bed = await BedAsync();
        var ws = await bed.Test.OpenAsync();
        await ws.StartPhaseAsync(1, "setup", None);
        var one = await SessionAsync(bed.Test, ws, 1, 3);
        var catalog = bed.Test.Layout.CatalogPath;
        Assert.Equal(1, Scalar(catalog, $"SELECT COUNT(*) FROM session_rollups WHERE session_id = '{one}'"));

        var first = await ws.ReviewPhaseAsync(1, None);
        var local = Assert.Single(first.ReportPaths, p => Path.GetFileName(p) == TierWorkspace.PhaseAnalyticsFile);
        var copy = Path.Combine(bed.BackupRoot, "Phase_1_setup", TierWorkspace.PhaseAnalyticsFile);
        var (localWritten, copyWritten) = (File.GetLastWriteTimeUtc(local), File.GetLastWriteTimeUtc(copy));
        await Task.Delay(50);

        // Unchanged phase: neither the file nor its copy on the tier is written again.
        var second = await ws.ReviewPhaseAsync(1, None);
        Assert.Equal(first.EventCount, second.EventCount);
        Assert.Equal(localWritten, File.GetLastWriteTimeUtc(local));
        Assert.Equal(copyWritten, File.GetLastWriteTimeUtc(copy));

        // The copy gone from the tier: sent again, the local file kept.
        File.Delete(copy);
        await ws.ReviewPhaseAsync(1, None);
        Assert.True(File.Exists(copy));
        Assert.Equal(localWritten, File.GetLastWriteTimeUtc(local));

        // An event added behind the workspace's back (no event_count update): the review folds the session again, and the
        // rollup's new build time moves the digest, so the file is written again with the event.
        using (var raw = new SqliteConnection($"Data Source={catalog};Pooling=False"))
        {
            raw.Open();
            using var insert = raw.CreateCommand();
            insert.CommandText = $"INSERT INTO events(session_id, ts, type, duration_ms) VALUES ('{one}', {bed.Test.Time.Now.ToUnixTimeMilliseconds()}, 'tool_call', 5)";
            insert.ExecuteNonQuery();
        }
        var third = await ws.ReviewPhaseAsync(1, None);
        Assert.Equal(first.EventCount + 1, third.EventCount);
        Assert.Equal(third.EventCount, Scalar(local, "SELECT COUNT(*) FROM events"));
        Assert.Equal(third.EventCount, Scalar(copy, "SELECT COUNT(*) FROM events"));

        // A file changed since it was written (size or time): written again.
        File.AppendAllText(local, "x");
        await ws.ReviewPhaseAsync(1, None);
        Assert.Equal(third.EventCount, Scalar(local, "SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task After_the_catalog_is_rebuilt_from_the_backup_tier_the_review_reads_the_events_from_the_backups_and_a_later_restore_indexes_nothing_twice()
    {
        var (bed, ws, ids, original) = await BackedUpPhaseAsync();
        await using (bed)
        {
            var counts = new List<long>();
            foreach (var id in ids) counts.Add(await EventCountAsync(ws, id));
            ws = await LoseCatalogAndRebuildAsync(bed, ws, "backup");
            // The rebuild brought every session's events back (issue 11 #7), from its log or its backup.
            Assert.Equal(counts, ids.Select(id => EventCountAsync(ws, id).GetAwaiter().GetResult()));

            var review = await ws.ReviewPhaseAsync(1, None);

            AssertSameFigures(original, review);
            Assert.DoesNotContain(review.Warnings, w => w.Contains("archive", StringComparison.Ordinal));
            Assert.True(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Reviewed);
            Assert.Equal(counts, ids.Select(id => EventCountAsync(ws, id).GetAwaiter().GetResult()));
            Assert.Empty(Directory.EnumerateDirectories(bed.Test.Layout.StagingDirectory));

            // The session's log comes back: its events are not indexed a second time.
            await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = ids[0], Force = true }, null, None);
            Assert.Equal(counts[0], await EventCountAsync(ws, ids[0]));
            AssertSameFigures(original, await ws.ReviewPhaseAsync(1, None));
        }
    }

    [Fact]
    public async Task With_the_backup_tier_unreachable_the_review_names_the_sessions_it_could_not_read_and_leaves_the_phase_unreviewed()
    {
        var (bed, ws, ids, original) = await BackedUpPhaseAsync();
        await using (bed)
        {
            ws = await LoseCatalogAndRebuildWithoutEventsAsync(bed, ws, "backup");
            bed.Test.Faults.Offline = true;

            var review = await ws.ReviewPhaseAsync(1, None);

            Assert.Equal(0, review.EventCount);
            Assert.All(ids, id => Assert.Contains(review.Warnings, w => w.StartsWith($"Session '{id}' is left out: its backup could not be read ({ErrorIds.TierUnreachable}", StringComparison.Ordinal)));
            Assert.False(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Reviewed);

            bed.Test.Faults.Offline = false;
            AssertSameFigures(original, await ws.ReviewPhaseAsync(1, None));
            Assert.True(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Reviewed);
        }
    }

    [Fact]
    public async Task A_damaged_analytics_snapshot_on_the_tier_falls_back_to_the_backed_up_log_and_a_truncated_log_too_leaves_the_session_out_with_a_message()
    {
        var (bed, ws, ids, original) = await BackedUpPhaseAsync();
        await using (bed)
        {
            ws = await LoseCatalogAndRebuildWithoutEventsAsync(bed, ws, "backup");
            var folder = Path.Combine(bed.BackupRoot, "Phase_1_setup", "sessions");
            foreach (var id in ids)
            {
                var analytics = Path.Combine(folder, id, "analytics_snapshot.db.gz");
                var bytes = File.ReadAllBytes(analytics);
                bytes[^100] ^= 0xFF;
                File.WriteAllBytes(analytics, bytes);
            }

            var fromLogs = await ws.ReviewPhaseAsync(1, None);

            AssertSameFigures(original, fromLogs);
            Assert.True(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Reviewed);

            // Both copies of a session damaged (its log cut short on the tier): the review still runs, names it, and leaves it out.
            ws = await LoseCatalogAndRebuildWithoutEventsAsync(bed, ws, "backup");
            var log = Path.Combine(folder, ids[1], "activity.jsonl.gz");
            var gz = File.ReadAllBytes(log);
            File.WriteAllBytes(log, gz[..(gz.Length / 2)]);

            var partial = await ws.ReviewPhaseAsync(1, None);

            var message = Assert.Single(partial.Warnings, w => w.StartsWith($"Session '{ids[1]}' is left out", StringComparison.Ordinal));
            Assert.Contains(ErrorIds.ChecksumMismatch, message);
            Assert.Equal(await EventCountAsync(ws, ids[0]), partial.EventCount);
            Assert.True(partial.EventCount > 0);
            Assert.Contains(message, File.ReadAllText(Assert.Single(partial.ReportPaths, p => p.EndsWith(".md", StringComparison.Ordinal))));
            Assert.Empty(Directory.EnumerateDirectories(bed.Test.Layout.StagingDirectory));
        }
    }

    [Fact]
    public async Task An_archived_phase_whose_events_are_gone_is_reviewed_from_its_manifest_and_with_Full_from_the_thawed_archive()
    {
        var (bed, ws, ids, original) = await BackedUpPhaseAsync();
        await using (bed)
        {
            await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            foreach (var id in ids) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);
            ws = await LoseCatalogAndRebuildWithoutEventsAsync(bed, ws, "archive");

            // The archive tier unreachable: the review still comes out, names the problem and the sessions it lacks.
            bed.S3.Fault = _ => FakeS3Client.Error(S3ClientException.ConnectionFailed, 0);
            var offline = await ws.ReviewPhaseAsync(1, None);
            bed.S3.Fault = null;
            Assert.Equal(0, offline.EventCount);
            Assert.Contains(offline.Warnings, w => w.StartsWith("The archive tier cannot be read now (" + ErrorIds.TierUnreachable, StringComparison.Ordinal));
            Assert.Contains(offline.Warnings, w => w.Contains("leave them out", StringComparison.Ordinal) && w.Contains(ids[1], StringComparison.Ordinal));
            Assert.False(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Reviewed);

            // Without -Full: the figures computed from every event when the phase was archived; no thaw asked.
            var stored = await ws.ReviewPhaseAsync(1, None);

            AssertSameFigures(original, stored);
            Assert.Contains(stored.Warnings, w => w.Contains("only in the phase archive", StringComparison.Ordinal) && w.Contains(ids[0], StringComparison.Ordinal));
            Assert.Empty(bed.S3.RestoreRequests);
            Assert.Contains("only in the phase archive", File.ReadAllText(Assert.Single(stored.ReportPaths, p => p.EndsWith(".md", StringComparison.Ordinal))));

            // -Full on Deep Archive: a thaw is priced and requested once; the review says when to come back.
            var thawing = await ws.ReviewPhaseAsync(1, full: true, ArchiveRetrievalTier.Bulk, null, None);
            var again = await ws.ReviewPhaseAsync(1, full: true, ArchiveRetrievalTier.Bulk, null, None);

            Assert.Contains(thawing.Warnings, w => w.Contains("thaw was requested", StringComparison.Ordinal) && w.Contains(bed.Test.Time.Now.AddHours(48).ToString("u"), StringComparison.Ordinal));
            AssertSameFigures(original, thawing);
            Assert.Equal(("ts/Phase_1_setup.tar.gz", ArchiveRetrievalTier.Bulk), (bed.S3.RestoreRequests.Single().Key, bed.S3.RestoreRequests.Single().Tier));
            Assert.Contains(again.Warnings, w => w.Contains("thaw was requested", StringComparison.Ordinal));

            // Once thawed: every event is read out of the archive into the catalog, and the review is computed from them.
            bed.S3.FinishRestore("ts/Phase_1_setup.tar.gz", bed.Test.Time.Now.AddDays(7));
            var full = await ws.ReviewPhaseAsync(1, full: true, ArchiveRetrievalTier.Bulk, null, None);

            AssertSameFigures(original, full);
            Assert.DoesNotContain(full.Warnings, w => w.Contains("archive", StringComparison.Ordinal));
            Assert.Equal(original.EventCount, ids.Sum(id => EventCountAsync(ws, id).GetAwaiter().GetResult()));
            Assert.Empty(Directory.EnumerateDirectories(bed.Test.Layout.StagingDirectory));
        }
    }
}
