using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// The key lookups of an import (<see cref="CatalogDatabase.FindIngestKeysAsync"/>, <see cref="CatalogDatabase.FindIngestKeysElsewhereAsync"/>):
/// two statements prepared once per connection with <see cref="KeysPerQuery"/> positional keys each, rebound for every chunk
/// (unused places bound to NULL, which matches no key). Through SqliteCommand each chunk was a new statement of 500 named
/// parameters that were each found by name among the others, a quadratic cost: 36,000 keys took ~0.5 s of an import's
/// critical path, the lookup itself ~0.1 s. Runs on the connection handle, so it sees the connection's open transaction.
/// </summary>
internal sealed class IngestKeyLookup : IIngestKeyLookup
{
    /// <summary>Keys per statement: below SQLite's historical limit of 999 host parameters.</summary>
    public const int KeysPerQuery = 500;

    private readonly sqlite3 _db;
    private readonly int _schemaVersion;
    private sqlite3_stmt? _inSession;
    private sqlite3_stmt? _elsewhere;

    public IngestKeyLookup(SqliteConnection connection, int schemaVersion)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The catalog connection is not open.");
        _schemaVersion = schemaVersion;
    }

    /// <summary>The lookup's SQL for <paramref name="count"/> keys (?2 to ?count+1; ?1 is the session), for a catalog of
    /// <paramref name="schemaVersion"/>: from migration 16 on, the index is keyed by each key's tail (<see cref="Migrations.IngestKeyTailSql"/>),
    /// before by the key and the session.</summary>
    public static string Sql(int count, bool elsewhere, int schemaVersion)
    {
        var numbers = Enumerable.Range(2, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var places = string.Join(", ", numbers.Select(n => "?" + n));
        var tails = schemaVersion >= 16
            ? $"{Migrations.IngestKeyTailSql} IN ({string.Join(", ", numbers.Select(n => Migrations.IngestKeyTailSql.Replace("ingest_key", "?" + n, StringComparison.Ordinal)))}) AND "
            : "";
        return $"""
            SELECT DISTINCT ingest_key FROM events INDEXED BY ix_events_ingest_key
            WHERE ingest_key IS NOT NULL AND {tails}ingest_key IN ({places}) AND session_id {(elsewhere ? "<>" : "=")} ?1
            """;
    }

    public Task<HashSet<string>> FindAsync(string sessionId, IEnumerable<string> keys, bool elsewhere, CancellationToken cancellationToken) =>
        Task.FromResult(Find(sessionId, keys, elsewhere, cancellationToken));

    /// <summary>Which of <paramref name="keys"/> events of <paramref name="sessionId"/> (or, <paramref name="elsewhere"/>, of any
    /// other session) hold.</summary>
    public HashSet<string> Find(string sessionId, IEnumerable<string> keys, bool elsewhere, CancellationToken cancellationToken)
    {
        var statement = elsewhere ? _elsewhere ??= Prepare(true) : _inSession ??= Prepare(false);
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in keys.Distinct(StringComparer.Ordinal).Chunk(KeysPerQuery))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Check(raw.sqlite3_bind_text(statement, 1, sessionId));
                for (var i = 0; i < KeysPerQuery; i++)
                    Check(i < chunk.Length ? raw.sqlite3_bind_text(statement, i + 2, chunk[i]) : raw.sqlite3_bind_null(statement, i + 2));
                int rc;
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW) found.Add(raw.sqlite3_column_text(statement, 0).utf8_to_string());
                if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, _db);
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }
        }
        return found;
    }

    public void Dispose()
    {
        _inSession?.Dispose();
        _elsewhere?.Dispose();
    }

    private sqlite3_stmt Prepare(bool elsewhere)
    {
        Check(raw.sqlite3_prepare_v2(_db, Sql(KeysPerQuery, elsewhere, _schemaVersion), out var statement));
        return statement;
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }
}

/// <summary>The key lookups of an import, on either provider.</summary>
internal interface IIngestKeyLookup : IDisposable
{
    /// <summary>Which of <paramref name="keys"/> events of <paramref name="sessionId"/> (or, <paramref name="elsewhere"/>, of any
    /// other session) hold.</summary>
    Task<HashSet<string>> FindAsync(string sessionId, IEnumerable<string> keys, bool elsewhere, CancellationToken cancellationToken);
}

/// <summary>PostgreSQL: one statement per chunk of keys, passed as one text[] parameter (= ANY), answered by ix_events_ingest_key.
/// Joins the connection's open transaction, as Npgsql commands do.</summary>
internal sealed class PostgresIngestKeyLookup(Npgsql.NpgsqlConnection connection) : IIngestKeyLookup
{
    private const int KeysPerQuery = 5000;

    public async Task<HashSet<string>> FindAsync(string sessionId, IEnumerable<string> keys, bool elsewhere, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in keys.Distinct(StringComparer.Ordinal).Chunk(KeysPerQuery))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT DISTINCT ingest_key FROM events WHERE ingest_key = ANY(@keys) AND session_id {(elsewhere ? "<>" : "=")} @session";
            command.Parameters.AddWithValue("keys", chunk);
            command.Parameters.AddWithValue("session", sessionId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) found.Add(reader.GetString(0));
        }
        return found;
    }

    public void Dispose() { }
}
