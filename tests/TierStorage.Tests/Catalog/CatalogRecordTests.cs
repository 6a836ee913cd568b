using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using Xunit;
using static TierStorage.Tests.Catalog.CatalogFixture;

namespace TierStorage.Tests.Catalog;

/// <remarks>Runs on SQLite; <see cref="PostgresCatalogRecordTests"/> runs every test again on a real PostgreSQL.</remarks>
public class CatalogRecordTests : IDisposable
{
    private readonly CatalogFixture _fixture;

    public CatalogRecordTests() : this(null) { }

    protected CatalogRecordTests(Postgres.PostgresServerFixture? server) => _fixture = new CatalogFixture(server);

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Sessions_round_trip_update_and_list_by_phase_and_state()
    {
        await using var db = await _fixture.OpenAsync();
        await db.EnsurePhaseAsync(0, "Foundation", T0, CancellationToken.None);
        var first = new SessionRecord
        {
            SessionId = "session_20261122_050000", Phase = 0, StartedAt = T0, State = SessionState.Active,
            LogPath = Path.Combine(_fixture.Directory, "logs", "session_current.jsonl"), LogIndexedBytes = 12, EventCount = 3,
            Machine = "build-box", User = "ci",
        };
        await db.InsertSessionAsync(first, CancellationToken.None);
        await db.InsertSessionAsync(new SessionRecord { SessionId = "session_b", Phase = 1, StartedAt = T0.AddHours(1) }, CancellationToken.None);

        Assert.Equal(first, await db.GetSessionAsync(first.SessionId, CancellationToken.None));
        Assert.Null(await db.GetSessionAsync("session_none", CancellationToken.None));
        // A session inserted without an origin is recorded as this connection's; the origin filters compare without case.
        Assert.Equal((db.Origin.Machine, db.Origin.User), ((await db.GetSessionAsync("session_b", CancellationToken.None))!.Machine, (await db.GetSessionAsync("session_b", CancellationToken.None))!.User));
        Assert.Equal(["session_20261122_050000"], (await ToListAsync(db.ListSessionsAsync(null, null, "BUILD-BOX", "CI", CancellationToken.None))).Select(s => s.SessionId));
        Assert.Empty(await ToListAsync(db.ListSessionsAsync(null, null, "build-box", "someone-else", CancellationToken.None)));

        var completed = first with { State = SessionState.Completed, EndedAt = T0.AddMinutes(30), HandoffPath = Path.Combine(_fixture.Directory, "handoffs", "h.md"), EventCount = 0, LogIndexedBytes = 0 };
        await db.UpdateSessionAsync(completed, CancellationToken.None);
        // The counters belong to AddEventsAsync: a stale record does not roll them back.
        Assert.Equal(completed with { EventCount = 3, LogIndexedBytes = 12 }, await db.GetSessionAsync(first.SessionId, CancellationToken.None));

        Assert.Equal(["session_20261122_050000", "session_b"], (await ToListAsync(db.ListSessionsAsync(null, null, CancellationToken.None))).Select(s => s.SessionId));
        Assert.Equal(["session_b"], (await ToListAsync(db.ListSessionsAsync(1, null, CancellationToken.None))).Select(s => s.SessionId));
        Assert.Equal(["session_20261122_050000"], (await ToListAsync(db.ListSessionsAsync(null, SessionState.Completed, CancellationToken.None))).Select(s => s.SessionId));
    }

    [Fact]
    public async Task Inserting_a_taken_session_id_fails_with_SessionExists()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            db.InsertSessionAsync(new SessionRecord { SessionId = "session_a", Phase = 1, StartedAt = T0 }, CancellationToken.None));
        Assert.Equal(ErrorIds.SessionExists, ex.ErrorId);
        Assert.Equal(TierErrorKind.ResourceExists, ex.Kind);
    }

    [Fact]
    public async Task Inserting_a_path_like_session_id_is_refused()
    {
        await using var db = await _fixture.OpenAsync();
        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            db.InsertSessionAsync(new SessionRecord { SessionId = "../evil", Phase = 1, StartedAt = T0 }, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidSessionId, ex.ErrorId);
    }

    [Fact]
    public async Task Updating_a_missing_session_fails_with_SessionNotFound()
    {
        await using var db = await _fixture.OpenAsync();
        var ex = await Assert.ThrowsAsync<TierStorageException>(() =>
            db.UpdateSessionAsync(new SessionRecord { SessionId = "session_none" }, CancellationToken.None));
        Assert.Equal(ErrorIds.SessionNotFound, ex.ErrorId);
    }

    [Fact]
    public async Task Ensure_phase_keeps_the_name_when_called_again_without_one()
    {
        await using var db = await _fixture.OpenAsync();
        await db.EnsurePhaseAsync(2, "Cloud", T0, CancellationToken.None);
        await db.EnsurePhaseAsync(2, null, T0.AddDays(1), CancellationToken.None);
        Assert.Equal($"Cloud {T0.ToUnixTimeMilliseconds()}", await ScalarAsync(db, "SELECT name || ' ' || started_at FROM phases WHERE number = 2"));
    }

    [Fact]
    public async Task Snapshots_are_listed_oldest_first_and_re_recording_replaces()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        SnapshotInfo Snap(int seq, int minute, string sha) => new()
        {
            SessionId = "session_a", Sequence = seq, CreatedAt = T0.AddMinutes(minute), Path = System.IO.Path.Combine(_fixture.Directory, "state", $"session_a_snap{seq:D3}.json.gz"),
            SizeBytes = 100 * seq, UncompressedBytes = 1000 * seq, Sha256 = sha,
        };
        await db.RecordSnapshotAsync(Snap(2, 5, "bb"), CancellationToken.None);
        await db.RecordSnapshotAsync(Snap(1, 1, "aa"), CancellationToken.None);
        await db.RecordSnapshotAsync(Snap(2, 5, "cc"), CancellationToken.None);

        var all = await ToListAsync(db.ListSnapshotsAsync(null, CancellationToken.None));
        Assert.Equal([Snap(1, 1, "aa"), Snap(2, 5, "cc")], all);
        Assert.Empty(await ToListAsync(db.ListSnapshotsAsync("session_other", CancellationToken.None)));
    }

    [Fact]
    public async Task Objects_upsert_and_list_by_tier_and_session()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var obj = new StoredObject
        {
            Tier = "drive", Key = "Phase_1/sessions/session_a/activity.jsonl.gz", SessionId = "session_a", Phase = 1,
            SizeBytes = 10, Md5 = "md5", Sha256 = "sha", StoredAt = T0,
        };
        await db.UpsertObjectAsync(obj, CancellationToken.None);
        var verified = obj with { SizeBytes = 11, VerifiedAt = T0.AddMinutes(1) };
        await db.UpsertObjectAsync(verified, CancellationToken.None);
        await db.UpsertObjectAsync(new StoredObject { Tier = "archive", Key = "Phase_1.tar.gz", Phase = 1, SizeBytes = 5, StoredAt = T0 }, CancellationToken.None);

        Assert.Equal([verified], await ToListAsync(db.ListObjectsAsync("drive", null, CancellationToken.None)));
        Assert.Equal([verified], await ToListAsync(db.ListObjectsAsync(null, "session_a", CancellationToken.None)));
        Assert.Equal(2, (await ToListAsync(db.ListObjectsAsync(null, null, CancellationToken.None))).Count);
    }

    [Fact]
    public async Task Only_a_verified_copy_on_another_tier_counts()
    {
        await using var db = await _fixture.OpenWithSessionAsync();
        var local = new StoredObject { Tier = "local", Key = "logs/session_a.jsonl", SessionId = "session_a", SizeBytes = 1, StoredAt = T0, VerifiedAt = T0 };
        var remote = new StoredObject { Tier = "drive", Key = "s/session_a/activity.jsonl.gz", SessionId = "session_a", SizeBytes = 1, StoredAt = T0 };

        await db.UpsertObjectAsync(local, CancellationToken.None);
        Assert.False(await db.HasVerifiedCopyAsync("session_a", "local", CancellationToken.None));

        await db.UpsertObjectAsync(remote, CancellationToken.None);
        Assert.False(await db.HasVerifiedCopyAsync("session_a", "local", CancellationToken.None));

        // A verified file is not a verified copy: only the manifest, stored after every other file, vouches for the set.
        await db.UpsertObjectAsync(remote with { VerifiedAt = T0.AddMinutes(1) }, CancellationToken.None);
        Assert.False(await db.HasVerifiedCopyAsync("session_a", "local", CancellationToken.None));

        await db.UpsertObjectAsync(remote with { Key = "s/session_a/manifest.json", VerifiedAt = T0.AddMinutes(1) }, CancellationToken.None);
        Assert.True(await db.HasVerifiedCopyAsync("session_a", "local", CancellationToken.None));
        Assert.True(await db.HasVerifiedCopyAsync("session_a", "LOCAL", CancellationToken.None));
        Assert.False(await db.HasVerifiedCopyAsync("session_other", "local", CancellationToken.None));
    }

    [Fact]
    public async Task Backup_runs_are_started_and_finished()
    {
        await using var db = await _fixture.OpenAsync();
        var first = await db.StartBackupRunAsync("session_a", "drive", T0, CancellationToken.None);
        var second = await db.StartBackupRunAsync("session_a", "drive", T0.AddMinutes(1), CancellationToken.None);
        Assert.True(second > first);

        await db.FinishBackupRunAsync(first, "Failed", 42, "connection reset", T0.AddSeconds(30), CancellationToken.None);
        Assert.Equal($"Failed|42|connection reset|{T0.AddSeconds(30).ToUnixTimeMilliseconds()}",
            await ScalarAsync(db, $"SELECT status || '|' || bytes_sent || '|' || error || '|' || ended_at FROM backup_runs WHERE run_id = {first}"));
        Assert.Equal("Running", await ScalarAsync(db, $"SELECT status FROM backup_runs WHERE run_id = {second}"));

        await Assert.ThrowsAsync<ArgumentException>(() => db.FinishBackupRunAsync(999, "Succeeded", 0, null, T0, CancellationToken.None));
    }
}

/// <summary>Every test of <see cref="CatalogRecordTests"/> on the PostgreSQL provider.</summary>
[Collection(Postgres.PostgresCollection.Name)]
public sealed class PostgresCatalogRecordTests(Postgres.PostgresServerFixture server) : CatalogRecordTests(server);
