using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Workspace;

/// <summary>Issue 10: a typo in an id must be an error a script can catch, not an empty result.</summary>
public sealed class NotFoundTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Reviewing_a_phase_that_does_not_exist_is_PhaseNotFound_and_writes_no_report()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        await bed.CompletedSessionAsync(ws);

        var error = await Assert.ThrowsAsync<TierStorageException>(() => ws.ReviewPhaseAsync(99, None));

        Assert.Equal((ErrorIds.PhaseNotFound, TierErrorKind.ObjectNotFound, (object?)99), (error.ErrorId, error.Kind, error.Target));
        Assert.False(Directory.Exists(Path.Combine(bed.WorkspaceRoot, "reviews")));
    }

    [Fact]
    public async Task Get_phases_of_a_phase_that_does_not_exist_is_PhaseNotFound()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        await bed.CompletedSessionAsync(ws);

        var error = await Assert.ThrowsAsync<TierStorageException>(() => ToListAsync(ws.GetPhasesAsync(99, None)));

        Assert.Equal((ErrorIds.PhaseNotFound, (object?)99), (error.ErrorId, error.Target));
    }

    [Fact]
    public async Task A_literal_session_id_that_does_not_exist_is_SessionNotFound_for_sessions_events_and_backup_checks()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        await bed.CompletedSessionAsync(ws);

        var sessions = await Assert.ThrowsAsync<TierStorageException>(() => ToListAsync(ws.GetSessionsAsync(new SessionFilter { SessionId = "nope" }, None)));
        var events = await Assert.ThrowsAsync<TierStorageException>(() => ToListAsync(ws.GetEventsAsync(new SessionEventQuery { SessionId = "nope" }, None)));
        var check = await Assert.ThrowsAsync<TierStorageException>(() => ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { SessionId = "nope" }, None)));

        Assert.All([sessions, events, check], e => Assert.Equal((ErrorIds.SessionNotFound, TierErrorKind.ObjectNotFound, (object?)"nope"), (e.ErrorId, e.Kind, e.Target)));
    }

    [Fact]
    public async Task A_session_id_wildcard_selects_sessions_and_matching_nothing_is_not_an_error()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);

        var matched = await ToListAsync(ws.GetSessionsAsync(new SessionFilter { SessionId = id[..^2] + "*" }, None));
        var upperCase = await ToListAsync(ws.GetSessionsAsync(new SessionFilter { SessionId = "SESSION_?" + id[9..] }, None));
        var none = await ToListAsync(ws.GetSessionsAsync(new SessionFilter { SessionId = "zzz*" }, None));

        Assert.Equal(id, Assert.Single(matched).SessionId);
        Assert.Equal(id, Assert.Single(upperCase).SessionId);
        Assert.Empty(none);
    }

    [Fact]
    public async Task Finished_keeps_matching_a_session_after_it_is_backed_up()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var backedUp = await bed.CompletedSessionAsync(ws);
        await BackupAsync(ws, backedUp);
        bed.Time.Advance(TimeSpan.FromHours(1));
        var completed = await bed.CompletedSessionAsync(ws, seed: 2);
        bed.Time.Advance(TimeSpan.FromHours(1));
        await ws.StartSessionAsync(new StartSessionRequest(), None);

        var finished = await ToListAsync(ws.GetSessionsAsync(new SessionFilter { Finished = true }, None));

        Assert.Equal([(backedUp, SessionState.BackedUp), (completed, SessionState.Completed)], finished.Select(s => (s.SessionId, s.State)));
    }
}
