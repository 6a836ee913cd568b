using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using TierStorage.Tests.Ingest.Fixtures;
using Xunit;

namespace TierStorage.Tests.Review;

/// <summary>Lines that are not valid events never reach the catalog; the review says how many were left out instead of
/// reporting figures that silently miss them.</summary>
public sealed class RejectedLinesReviewTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Lines_of_a_log_that_are_not_events_are_counted_and_named_in_the_report()
    {
        await using var bed = await BackupTestBed.CreateAsync();
        var ws = await bed.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None);
        await ws.AppendEventsAsync([new SessionEvent { Timestamp = bed.Time.Now, Type = SessionEventType.ToolCall, Tool = "Read", DurationMs = 5 }], null, None);
        // Something else wrote into the log: a line that is not JSON, and one that is JSON but no event.
        File.AppendAllText(bed.Layout.CurrentLogPath, "this is not json\n{\"hello\":\"world\"}\n");
        await ws.AppendEventsAsync([new SessionEvent { Timestamp = bed.Time.Now, Type = SessionEventType.ToolCall, Tool = "Edit", DurationMs = 7 }], null, None);
        await ws.CompleteSessionAsync(null, None);

        var review = await ws.ReviewPhaseAsync(1, None);

        Assert.Equal(2, review.RejectedLines);
        var warning = Assert.Single(review.Warnings, w => w.Contains("not valid events", StringComparison.Ordinal));
        Assert.StartsWith("2 line(s) in the logs or transcripts of 1 session(s)", warning, StringComparison.Ordinal);
        Assert.Equal(["Edit", "Read"], review.Tools.Select(t => t.Tool).Order(StringComparer.Ordinal));
        Assert.Contains(warning, File.ReadAllText(review.ReportPaths.Single(p => p.EndsWith(".md", StringComparison.Ordinal))));

        // The count travels with the backup: a catalog rebuilt from the tier still says so.
        Assert.True(Assert.Single(await BackupTestBed.BackupAsync(ws, session.SessionId)).Verified);
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync();
        await BackupTestBed.ToListAsync(ws.Backups.RebuildCatalogAsync(null, None));
        Assert.Equal(2, (await ws.ReviewPhaseAsync(1, None)).RejectedLines);
    }

    [Fact]
    public async Task Malformed_transcript_lines_of_an_import_are_counted_once_per_line_read()
    {
        await using var bed = await BackupTestBed.CreateAsync();
        var ws = await bed.OpenAsync();
        var path = Path.Combine(bed.Root, ClaudeFixtures.SessionId + ".jsonl");
        File.WriteAllText(path, ClaudeFixtures.Text(ClaudeFixtures.Main));

        var first = await ClaudeImporter.ImportAsync(ws, path, new ImportOptions { Phase = 2 }, None);
        await ClaudeImporter.ImportAsync(ws, path, new ImportOptions { Phase = 2 }, None); // nothing new: nothing counted again

        var review = await ws.ReviewPhaseAsync(2, None);
        Assert.Equal(ClaudeFixtures.MalformedLines.Length, first.MalformedLines.Count);
        Assert.Equal(ClaudeFixtures.MalformedLines.Length, review.RejectedLines);
    }
}
