using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Tests.PowerShell;
using TierStorage.Tests.Workspace;

namespace TierStorage.Tests.Ingest;

/// <summary>
/// Issue 12: a user compares `import claude` + the review with ccusage on the same transcripts. The fixture
/// (Fixtures/ccusage-parity/projects/-home-me-parity) has a main transcript with a repeated content block, a bad line and a 1-hour
/// cache write, its subagent's file, a session folder without its main file (skipped before: 30% of the tokens), and
/// claude-3-5-haiku calls (counted as $0 before), and a resumed conversation (eeee) whose transcript repeats dddd's two calls before
/// its own. `ccusage daily --json --offline` (17.x) over it reports 1,190 input, 315 output, 1,900 cache creation and 9,500 cache read
/// tokens and $0.0127626.
/// </summary>
public sealed class CcusageParityTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string Fixture = Path.Combine(ModulePaths.RepoRoot, "tests", "TierStorage.Tests", "Ingest", "Fixtures", "ccusage-parity");
    private readonly string _config = Path.Combine(Path.GetTempPath(), "ts-ccusage-" + Guid.NewGuid().ToString("N"));

    public CcusageParityTests()
    {
        foreach (var file in Directory.EnumerateFiles(Fixture, "*.jsonl", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(_config, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }

    public void Dispose() => Directory.Delete(_config, recursive: true);

    private async Task<List<ClaudeImportResult>> ImportAsync(Engine.Workspace.TierWorkspace ws, List<string> warnings)
    {
        var results = new List<ClaudeImportResult>();
        await foreach (var r in ClaudeProjectImporter.ImportAsync(ws, null, null, _config, 4, new CompletionOptions { Force = true }, allProjects: true, warnings.Add, None))
            results.Add(r);
        return results;
    }

    [Fact]
    public async Task Token_totals_and_cost_equal_ccusage_on_the_same_files_except_one_hour_cache_writes_at_their_own_rate()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var warnings = new List<string>();

        var results = await ImportAsync(ws, warnings);
        var review = await ws.ReviewPhaseAsync(4, None);

        Assert.Equal(["aaaa.jsonl", "agent-b1.jsonl", "agent-c1.jsonl", "dddd.jsonl", "eeee.jsonl"], results.Select(r => Path.GetFileName(r.TranscriptPath)));
        Assert.Equal(["claude_aaaa", "claude_aaaa", "claude_cccc", "claude_dddd", "claude_eeee"], results.Select(r => r.SessionId));
        // msg_A1|req_A1 twice (one line per content block) counts once, as in ccusage; so do dddd's calls repeated in eeee.
        Assert.Equal(1, results[0].DuplicatesSkipped);
        Assert.Equal(2, results[4].DuplicatesSkipped);
        // By hand: input 10 + 100 + 20 + 1,000 + 50 + 3 + 7; output 5 + 50 + 40 + 200 + 10 + 7 + 3;
        // cache creation 1,000 + 500 + 300 + 100; cache read 2,000 + 3,000 + 4,000 + 500.
        Assert.Equal((7L, 1190L, 315L, 1900L, 9500L),
            (review.Total.Calls, review.Total.InputTokens, review.Total.OutputTokens, review.Total.CacheWriteTokens, review.Total.CacheReadTokens));
        // By hand, USD per million tokens:
        //   sonnet-4-5  10 x 3 + 5 x 15 + 600 x 3.75 + 400 x 6 (1-hour write) + 2,000 x 0.30 = 5,355; 100 x 3 + 50 x 15 + 3,000 x 0.30 = 1,950
        //   haiku-4-5   20 x 1 + 40 x 5 + 500 x 1.25 = 845
        //   3-5-haiku   1,000 x 0.80 + 200 x 4 + 300 x 1 + 4,000 x 0.08 = 2,220; 50 x 0.80 + 10 x 4 = 80; 7 x 0.80 + 3 x 4 = 17.6
        //   opus-4-1    3 x 15 + 7 x 75 + 100 x 18.75 + 500 x 1.50 = 3,195
        // 13,662.6 / 1,000,000 = $0.0136626. ccusage bills the 400 1-hour tokens at the 5-minute $3.75: 900 less, $0.0127626.
        Assert.True(review.Total.Priced);
        Assert.Equal(0.0136626m, review.Total.CostUsd);
        Assert.Equal(0.0127626m, review.Total.CostUsd - 400m * (6m - 3.75m) / 1_000_000m);
        Assert.Equal(0.0023176m, review.Tokens.Single(m => m.Model == "claude-3-5-haiku-20241022").CostUsd);
        // The bad line: one warning for its file, none about prices.
        Assert.Equal([$"{Path.Combine(_config, "projects", "-home-me-parity", "aaaa.jsonl")}: 1 line(s) could not be read and were left out (line 4); first: {results[0].MalformedLines[0].Split(": ", 2)[1].TrimEnd('.')}."],
            warnings);
    }

    /// <summary>Issue 12: every project at once parses the next session's file on another thread while the current one is stored.
    /// What it stores must be what importing the files one at a time, in the same order, stores (the resumed conversation eeee still
    /// loses the calls dddd already holds; a file that is not a transcript, between two sessions, is still skipped).</summary>
    [Fact]
    public async Task Importing_every_project_at_once_stores_what_importing_the_files_one_by_one_stores()
    {
        File.WriteAllText(Path.Combine(_config, "projects", "-home-me-parity", "bbbb.jsonl"), "[1,2,3]\n");
        await using var t = await TestWorkspace.CreateAsync();
        var together = await t.OpenAsync();
        var results = await ImportAsync(together, []);
        Assert.Contains(results, r => r.SkippedReason is not null);

        await using var t2 = await TestWorkspace.CreateAsync();
        var oneByOne = await t2.OpenAsync();
        var sessions = new List<string>();
        foreach (var transcript in ClaudeTranscriptLocator.FindAll(_config))
        {
            try
            {
                var r = await ClaudeImporter.ImportAsync(oneByOne, transcript.Path, new ImportOptions
                {
                    Phase = 4, SessionId = transcript.IsSubagent ? ClaudeImporter.SessionFor(transcript.ClaudeSessionId) : null,
                }, None);
                if (!sessions.Contains(r.SessionId)) sessions.Add(r.SessionId);
            }
            catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.InvalidTranscript)
            {
            }
        }
        foreach (var session in sessions) Assert.True(await ClaudeImporter.CompleteIfFinishedAsync(oneByOne, session, new CompletionOptions { Force = true }, true, None));

        var expected = await CatalogAsync(oneByOne, sessions);
        Assert.Equal(4, sessions.Count);
        Assert.True(expected.Count > 20);
        Assert.Equal(expected, await CatalogAsync(together, sessions));
        Assert.Equal((await oneByOne.ReviewPhaseAsync(4, None)).Total, (await together.ReviewPhaseAsync(4, None)).Total);
    }

    private static async Task<List<string>> CatalogAsync(Engine.Workspace.TierWorkspace ws, IEnumerable<string> sessions)
    {
        var lines = new List<string>();
        foreach (var session in sessions)
        {
            await foreach (var e in ws.GetEventsAsync(new SessionEventQuery { SessionId = session }, None))
                lines.Add(System.Text.Json.JsonSerializer.Serialize(e with { EventId = 0 }));
            lines.Add(System.Text.Json.JsonSerializer.Serialize(await ws.Catalog.GetPendingAsync(session, null, None)));
            lines.Add(System.Text.Json.JsonSerializer.Serialize(await ws.Catalog.GetAgentLinksAsync(session, None)));
        }
        return lines;
    }

    [Fact]
    public async Task A_second_import_of_the_same_files_adds_nothing()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ImportAsync(ws, []);
        var before = await ws.ReviewPhaseAsync(4, None);

        var again = await ImportAsync(ws, []);
        var after = await ws.ReviewPhaseAsync(4, None);

        Assert.All(again, r => Assert.Equal(0, r.EventsImported));
        Assert.Equal((before.Total.Calls, before.Total.InputTokens, before.Total.CostUsd), (after.Total.Calls, after.Total.InputTokens, after.Total.CostUsd));
    }

    [Fact]
    public async Task A_jsonl_in_the_folder_that_is_not_a_transcript_is_skipped_with_its_reason_and_the_rest_imports()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var other = Path.Combine(_config, "projects", "-home-me-parity", "aaaa", "tool-output.jsonl");
        File.WriteAllText(other, "[1,2,3]\n\"text\"\n");
        var warnings = new List<string>();

        var results = await ImportAsync(ws, warnings);

        var skipped = Assert.Single(results, r => r.SkippedReason is not null);
        Assert.Equal((other, 0L), (skipped.TranscriptPath, skipped.EventsImported));
        Assert.Contains("is not a Claude Code transcript", skipped.SkippedReason);
        Assert.Single(warnings, w => w.StartsWith("Skipped: ", StringComparison.Ordinal) && w.Contains(other, StringComparison.Ordinal));
        Assert.Equal(7, (await ws.ReviewPhaseAsync(4, None)).Total.Calls);
    }

    [Fact]
    public async Task A_model_without_a_price_is_named_once_per_import()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var dddd = Path.Combine(_config, "projects", "-home-me-parity", "dddd.jsonl");
        File.WriteAllText(dddd, File.ReadAllText(dddd).Replace("claude-3-5-haiku-20241022", "claude-next-9", StringComparison.Ordinal)
            .Replace("claude-opus-4-1-20250805", "claude-next-9", StringComparison.Ordinal));
        var warnings = new List<string>();

        await ImportAsync(ws, warnings);

        Assert.Single(warnings, w => w.StartsWith("No price for claude-next-9 ", StringComparison.Ordinal));
        Assert.False((await ws.ReviewPhaseAsync(4, None)).Total.Priced);
    }
}
