using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Tests.Catalog;

/// <summary>A temp directory holding analytics/agent_metrics.db, deleted after the test; or, given the PostgreSQL server, a
/// database of its own on it as the catalog (every catalog test runs on both providers).</summary>
public sealed class CatalogFixture : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 5, 0, 0, TimeSpan.Zero);

    private readonly Postgres.PostgresServerFixture? _server;
    private CatalogLocation? _postgres;

    public CatalogFixture(Postgres.PostgresServerFixture? server = null) : this()
    {
        _server = server;
    }

    public CatalogFixture()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ts-catalog-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        DbPath = System.IO.Path.Combine(Directory, "analytics", "agent_metrics.db");
    }

    public string Directory { get; }
    public string DbPath { get; }

    public bool IsPostgres => _server is not null;

    public async Task<CatalogDatabase> OpenAsync()
    {
        if (_server is null) return await CatalogDatabase.OpenAsync(DbPath, CancellationToken.None);
        _postgres ??= await _server.CreateCatalogAsync("catalog");
        return await CatalogDatabase.OpenAsync(_postgres, Directory, CancellationToken.None);
    }

    /// <summary>The first column of the first row of <paramref name="sql"/> on the catalog's own connection, either provider.</summary>
    public static async Task<object?> ScalarAsync(CatalogDatabase db, string sql)
    {
        await using var command = db.DbConnection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async Task<CatalogDatabase> OpenWithSessionAsync(string sessionId = "session_a", int phase = 1)
    {
        var db = await OpenAsync();
        await db.InsertSessionAsync(new SessionRecord { SessionId = sessionId, Phase = phase, StartedAt = T0, State = SessionState.Active }, CancellationToken.None);
        return db;
    }

    /// <summary>A separate raw connection, to look at the file the way another tool would.</summary>
    public SqliteConnection RawConnection()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Every row of <paramref name="sql"/>, its values as SQLite returns them (NULL as null).</summary>
    public static List<object?[]> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
