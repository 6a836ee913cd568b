using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using Xunit;

namespace TierStorage.Tests.Catalog;

/// <summary>Issue 11 #10: an analytics_snapshot.db read back from a tier is untrusted. A recursive view named events ran the
/// review forever, an events table of another shape read as "no events" without a word, and garbage escaped as
/// SqliteException 26. Each is now CatalogCorrupt, quickly, which the review answers by reading the backed-up log.</summary>
/// <remarks>Runs on SQLite; <see cref="PostgresHostileAnalyticsSnapshotTests"/> runs every test again on a real PostgreSQL.</remarks>
public class HostileAnalyticsSnapshotTests : IDisposable
{
    private const string SessionId = "session_20260101_090000";
    private readonly CatalogFixture _fixture;

    public HostileAnalyticsSnapshotTests() : this(null) { }

    protected HostileAnalyticsSnapshotTests(Postgres.PostgresServerFixture? server) => _fixture = new CatalogFixture(server);

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private string Hostile(string name, params string[] statements)
    {
        var path = Path.Combine(_fixture.Directory, name);
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            connection.Open();
            foreach (var sql in statements)
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.ExecuteNonQuery();
            }
        }
        return path;
    }

    public static TheoryData<string> Cases => ["recursive-view", "other-schema", "garbage"];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_snapshot_is_refused_as_CatalogCorrupt_and_imports_nothing(string kind)
    {
        await using var db = await _fixture.OpenAsync();
        await db.InsertSessionAsync(new SessionRecord { SessionId = SessionId, Phase = 1, StartedAt = DateTimeOffset.UnixEpoch, State = SessionState.BackedUp }, CancellationToken.None);
        const string sessions = "CREATE TABLE sessions (session_id TEXT, log_indexed_bytes INTEGER, started_at INTEGER, ended_at INTEGER)";
        var path = kind switch
        {
            "recursive-view" => Hostile("view.db", sessions,
                "CREATE VIEW events AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT 'session_20260101_090000' AS session_id, x AS event_id, x AS ts, 'tool_call' AS type FROM r"),
            "other-schema" => Hostile("other.db", sessions, "CREATE TABLE events (session_id TEXT, what TEXT)", $"INSERT INTO events VALUES ('{SessionId}', 'x')"),
            _ => WriteGarbage(),
        };

        var error = await Assert.ThrowsAsync<TierStorageException>(() =>
            db.ImportSessionEventsAsync(path, SessionId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(ErrorIds.CatalogCorrupt, error.ErrorId);
        Assert.Contains(path, error.Message);
        // The catalog is still usable after the refusal (the hostile file was detached).
        Assert.Equal(0, (await db.GetSessionAsync(SessionId, CancellationToken.None))!.EventCount);
    }

    private string WriteGarbage()
    {
        var path = Path.Combine(_fixture.Directory, "garbage.db");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("not a database at all\n", 300)));
        return path;
    }
}

/// <summary>Every test of <see cref="HostileAnalyticsSnapshotTests"/> on the PostgreSQL provider.</summary>
[Collection(Postgres.PostgresCollection.Name)]
public sealed class PostgresHostileAnalyticsSnapshotTests(Postgres.PostgresServerFixture server) : HostileAnalyticsSnapshotTests(server);
