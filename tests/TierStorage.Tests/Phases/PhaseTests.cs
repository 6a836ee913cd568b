using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Phases;

public sealed class PhaseTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Start_phase_makes_new_sessions_belong_to_it_and_writes_current_phase_json_here_and_on_the_backup_tier()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var before = await ws.StartSessionAsync(new StartSessionRequest { Phase = 0 }, None);
        await ws.CompleteSessionAsync(null, None);

        var started = await ws.StartPhaseAsync(2, "build", None);
        bed.Time.Advance(TimeSpan.FromMinutes(5));
        var after = await ws.StartSessionAsync(new StartSessionRequest(), None);

        Assert.Equal((2, "build", "Phase_2_build", true), (started.Phase, started.Name, started.Folder, started.IsCurrent));
        Assert.Equal(2, after.Phase);
        var local = JsonDocument.Parse(File.ReadAllText(Path.Combine(bed.WorkspaceRoot, "current_phase.json"))).RootElement;
        Assert.Equal((2, "build"), (local.GetProperty("phase").GetInt32(), local.GetProperty("name").GetString()));
        Assert.True(File.Exists(Path.Combine(bed.TierRoot, "current_phase.json")));

        var phases = await ToListAsync(ws.GetPhasesAsync(null, None));
        Assert.Equal([0, 2], phases.Select(p => p.Phase));
        var zero = phases[0];
        Assert.Equal((1, false, 1), (zero.SessionCount, zero.IsCurrent, zero.LocalSessions));
        Assert.NotNull(zero.EndedAt);
        Assert.Equal(before.SessionId, (await SessionAsync(ws, before.SessionId)).SessionId);
    }

    [Fact]
    public async Task A_phase_reports_its_backed_up_sessions()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);
        await BackupAsync(ws, id);

        var phase = Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None)));

        Assert.Equal((1, 1, false), (phase.SessionCount, phase.BackedUpSessions, phase.Archived));
    }

    public static TheoryData<int, string?> BadPhases => new()
    {
        { -1, null },
        { 1, "  " },
        // Issue 11 #18: a 300-character name was accepted, and then the phase could never be backed up or reviewed.
        { 1, new string('x', 300) },
        { 1, "two\nlines" },
    };

    [Theory]
    [MemberData(nameof(BadPhases))]
    public async Task A_bad_phase_number_or_name_changes_nothing(int number, string? name)
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.StartPhaseAsync(number, name, None));

        Assert.Equal(ErrorIds.InvalidArgument, ex.ErrorId);
        Assert.False(File.Exists(Path.Combine(bed.WorkspaceRoot, "current_phase.json")));
    }

    [Fact]
    public async Task A_phase_with_the_longest_name_allowed_is_backed_up()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        await ws.StartPhaseAsync(1, new string('n', TierWorkspace.MaxPhaseNameLength), None);
        var id = await bed.CompletedSessionAsync(ws);

        Assert.True(Assert.Single(await BackupAsync(ws, id)).Verified);
    }

    [Fact]
    public async Task A_phase_review_writes_its_reports_here_and_on_the_backup_tier_and_marks_the_phase_reviewed()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        await ws.StartPhaseAsync(1, "setup", None);
        await bed.CompletedSessionAsync(ws, events: 30);

        var review = await ws.ReviewPhaseAsync(1, None);

        Assert.Equal((1, 1), (review.Phase, review.Sessions));
        Assert.True(review.EventCount >= 30);
        Assert.Equal(["phase_analytics.db", "phase_insights.html", "phase_insights.md", "phase_metadata.json"], review.ReportPaths.Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal));
        Assert.All(review.ReportPaths, p => Assert.StartsWith(Path.Combine(bed.WorkspaceRoot, "reviews", "Phase_1_setup"), p));
        Assert.All(review.ReportPaths, p => Assert.True(File.Exists(Path.Combine(bed.TierRoot, "Phase_1_setup", Path.GetFileName(p))), p));
        Assert.True(Assert.Single(await ToListAsync(ws.GetPhasesAsync(1, None))).Reviewed);
    }
}
