using Xunit;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Tests.Catalog;

public sealed class CatalogMigrationTests : IDisposable
{
    private readonly CatalogFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Open_creates_every_table_and_records_each_migration()
    {
        await using (var db = await _fixture.OpenAsync())
        {
            Assert.Equal(Migrations.Latest, db.SchemaVersion);
            Assert.Equal(System.IO.Path.GetFullPath(_fixture.DbPath), db.Path);
        }
        using var raw = _fixture.RawConnection();
        Assert.Equal((long)Migrations.Latest, CatalogFixture.Scalar(raw, "PRAGMA user_version"));
        Assert.Equal((long)Migrations.All.Count, CatalogFixture.Scalar(raw, "SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal("wal", CatalogFixture.Scalar(raw, "PRAGMA journal_mode"));
        foreach (var table in new[] { "phases", "sessions", "events", "snapshots", "objects", "backup_runs" })
            Assert.Equal(1L, CatalogFixture.Scalar(raw, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
    }

    [Fact]
    public async Task Opening_twice_applies_nothing_again()
    {
        await using (var first = await _fixture.OpenAsync()) { }
        await using (var second = await _fixture.OpenAsync()) Assert.Equal(Migrations.Latest, second.SchemaVersion);
        using var raw = _fixture.RawConnection();
        Assert.Equal((long)Migrations.All.Count, CatalogFixture.Scalar(raw, "SELECT COUNT(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task A_version_1_database_keeps_its_data_and_is_upgraded()
    {
        await using (var old = await CatalogDatabase.OpenAsync(_fixture.DbPath, 1, CancellationToken.None))
        {
            Assert.Equal(1, old.SchemaVersion);
            await old.InsertSessionAsync(new SessionRecord { SessionId = "session_old", Phase = 0, StartedAt = CatalogFixture.T0 }, CancellationToken.None);
        }
        using (var raw = _fixture.RawConnection())
            Assert.Equal(0L, CatalogFixture.Scalar(raw, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'objects'"));

        await using var db = await _fixture.OpenAsync();
        Assert.Equal(Migrations.Latest, db.SchemaVersion);
        Assert.NotNull(await db.GetSessionAsync("session_old", CancellationToken.None));
        Assert.False(await db.HasVerifiedCopyAsync("session_old", "local", CancellationToken.None));
    }

    [Fact]
    public async Task A_database_from_a_newer_version_is_refused()
    {
        await using (var db = await _fixture.OpenAsync()) { }
        using (var raw = _fixture.RawConnection())
        {
            using var command = raw.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {Migrations.Latest + 1}";
            command.ExecuteNonQuery();
        }
        var ex = await Assert.ThrowsAsync<TierStorageException>(_fixture.OpenAsync);
        Assert.Equal(ErrorIds.CatalogTooNew, ex.ErrorId);
        Assert.Contains(_fixture.DbPath, ex.Message);
    }

    [Fact]
    public async Task A_file_that_is_not_sqlite_is_refused_by_path_and_left_untouched()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_fixture.DbPath)!);
        var content = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("this is not a database, just text\n", 200)));
        await File.WriteAllBytesAsync(_fixture.DbPath, content);

        var ex = await Assert.ThrowsAsync<TierStorageException>(_fixture.OpenAsync);

        Assert.Equal(ErrorIds.CatalogCorrupt, ex.ErrorId);
        Assert.Contains(_fixture.DbPath, ex.Message);
        Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(ex.InnerException);
        Assert.Equal(content, await File.ReadAllBytesAsync(_fixture.DbPath));
        Assert.False(File.Exists(_fixture.DbPath + "-wal"));
    }

    [Fact]
    public async Task Two_connections_opening_a_fresh_file_at_once_both_succeed_and_migrate_once()
    {
        for (var round = 0; round < 5; round++)
        {
            var path = Path.Combine(_fixture.Directory, $"race{round}", "agent_metrics.db");
            using var start = new Barrier(2);
            Task<CatalogDatabase> Open() => Task.Run(() =>
            {
                start.SignalAndWait();
                return CatalogDatabase.OpenAsync(path, CancellationToken.None);
            });
            var both = await Task.WhenAll(Open(), Open());
            foreach (var db in both)
            {
                Assert.Equal(Migrations.Latest, db.SchemaVersion);
                await db.DisposeAsync();
            }
            await using var check = await CatalogDatabase.OpenAsync(path, CancellationToken.None);
            using var command = check.Connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM schema_migrations";
            Assert.Equal((long)Migrations.All.Count, command.ExecuteScalar());
        }
    }

    [Fact]
    public async Task Disposing_closes_the_file_so_it_can_be_moved()
    {
        await using (var db = await _fixture.OpenWithSessionAsync()) { }
        var moved = _fixture.DbPath + ".moved";
        File.Move(_fixture.DbPath, moved);
        Assert.True(File.Exists(moved));
    }

    [Fact]
    public void Migrations_are_numbered_in_order_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, Migrations.All.Count), Migrations.All.Select(m => m.Version));
    }
}
