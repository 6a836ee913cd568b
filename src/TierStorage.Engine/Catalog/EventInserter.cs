using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// The bulk path of AddEventsAsync: one statement prepared once per connection, its values rebound by position
/// for every row. It goes below SqliteCommand because that API re-resolves every parameter by name and builds a
/// data reader on each execution, which cost as much as the insert itself; the statement runs on the same
/// connection handle, so it joins whatever transaction the connection has open.
/// </summary>
internal sealed class EventInserter : IEventInserter
{
    private const string Sql = """
        INSERT INTO events(session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens,
                           cache_read_tokens, cache_write_tokens, model, success, error_type, file, data, event_key, ingest_key)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
        ON CONFLICT (session_id, event_key) WHERE event_key IS NOT NULL DO NOTHING
        """;

    /// <summary>A catalog opened below migration 14 (tests of older schemas) has no ingest_key column: its keys are computed
    /// by its expression indexes.</summary>
    private const string SqlBefore14 = """
        INSERT INTO events(session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens,
                           cache_read_tokens, cache_write_tokens, model, success, error_type, file, data, event_key)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
        ON CONFLICT (session_id, event_key) WHERE event_key IS NOT NULL DO NOTHING
        """;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly bool _ingestKey;

    public EventInserter(SqliteConnection connection, int schemaVersion)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The catalog connection is not open.");
        _ingestKey = schemaVersion >= 14;
        Check(raw.sqlite3_prepare_v2(_db, _ingestKey ? Sql : SqlBefore14, out _statement));
    }

    public Task<long[]> InsertAsync(string sessionId, IReadOnlyList<EncodedEvent> events, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var ids = new long[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ids[i] = Insert(sessionId, events[i]);
        }
        return Task.FromResult(ids);
    }

    /// <summary>Inserts one event and returns its event_id, or 0 (nothing inserted) when the session already holds an event
    /// with its Id: the unique index is the one place that decides what was sent before.</summary>
    public long Insert(string sessionId, EncodedEvent encoded)
    {
        var s = _statement;
        var e = encoded.Event;
        Check(raw.sqlite3_bind_text(s, 1, sessionId));
        Check(raw.sqlite3_bind_int64(s, 2, e.Timestamp.ToUnixTimeMilliseconds()));
        Check(raw.sqlite3_bind_text(s, 3, EventJson.ToWireName(e.Type)));
        BindText(4, e.Agent);
        BindText(5, e.Tool);
        BindText(6, e.Task);
        BindInt64(7, e.DurationMs);
        BindInt64(8, e.Tokens?.Input);
        BindInt64(9, e.Tokens?.Output);
        BindInt64(10, e.Tokens?.CacheRead);
        BindInt64(11, e.Tokens?.CacheWrite);
        BindText(12, e.Model);
        BindInt64(13, e.Success is { } success ? (success ? 1 : 0) : null);
        BindText(14, e.ErrorType);
        BindText(15, e.File);
        BindText(16, encoded.Data);
        BindText(17, e.Id);
        if (_ingestKey) BindText(18, encoded.IngestKey);
        var rc = raw.sqlite3_step(s);
        // Reset even on failure so the statement can be reused by the next batch; the step's error wins.
        var resetRc = raw.sqlite3_reset(s);
        if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(resetRc != raw.SQLITE_OK ? resetRc : rc, _db);
        return raw.sqlite3_changes(_db) == 0 ? 0 : raw.sqlite3_last_insert_rowid(_db);
    }

    public void Dispose() => _statement.Dispose();

    private void BindText(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value));

    private void BindInt64(int index, long? value) =>
        Check(value is { } v ? raw.sqlite3_bind_int64(_statement, index, v) : raw.sqlite3_bind_null(_statement, index));

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }
}

/// <summary>The append path of AddEventsAsync, on either provider: inserts a batch inside the caller's transaction, leaving out
/// each event whose Id the session already holds.</summary>
internal interface IEventInserter : IDisposable
{
    /// <returns>Each event's event_id in the order given; 0 for one left out.</returns>
    Task<long[]> InsertAsync(string sessionId, IReadOnlyList<EncodedEvent> events, DbTransaction transaction, CancellationToken cancellationToken);
}

/// <summary>
/// PostgreSQL: the batch goes as one round trip per <see cref="RowsPerRoundTrip"/> single-row inserts (an NpgsqlBatch of one
/// prepared statement), each <c>ON CONFLICT DO NOTHING RETURNING event_id</c>, which returns no row for an event the session
/// already holds: its id is 0, as on SQLite. An event of a session that is not in the catalog fails the batch with the events'
/// foreign-key violation (23503), which AddEventsAsync reports as SessionNotFound.
/// </summary>
internal sealed class PostgresEventInserter(Npgsql.NpgsqlConnection connection) : IEventInserter
{
    private const int RowsPerRoundTrip = 500;

    private const string Sql = """
        INSERT INTO events(session_id, ts, type, agent, tool, task, duration_ms, input_tokens, output_tokens,
                           cache_read_tokens, cache_write_tokens, model, success, error_type, file, data, event_key, ingest_key)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
        ON CONFLICT (session_id, event_key) WHERE event_key IS NOT NULL DO NOTHING
        RETURNING event_id
        """;

    public async Task<long[]> InsertAsync(string sessionId, IReadOnlyList<EncodedEvent> events, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var ids = new long[events.Count];
        for (var start = 0; start < events.Count; start += RowsPerRoundTrip)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(RowsPerRoundTrip, events.Count - start);
            await using var batch = new Npgsql.NpgsqlBatch(connection, (Npgsql.NpgsqlTransaction)transaction);
            for (var i = 0; i < count; i++) batch.BatchCommands.Add(Row(sessionId, events[start + i]));
            // The insert is prepared on the connection once (the batch's rows share it, and a later batch finds it by its
            // text without a round trip): the server then binds and runs it, instead of parsing and planning every row.
            await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ids[start + i] = reader.GetInt64(0);
                if (i < count - 1) await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        return ids;
    }

    private static Npgsql.NpgsqlBatchCommand Row(string sessionId, EncodedEvent encoded)
    {
        var e = encoded.Event;
        var command = new Npgsql.NpgsqlBatchCommand(Sql);
        var p = command.Parameters;
        Text(p, sessionId);
        Int64(p, e.Timestamp.ToUnixTimeMilliseconds());
        Text(p, EventJson.ToWireName(e.Type));
        Text(p, e.Agent);
        Text(p, e.Tool);
        Text(p, e.Task);
        Int64(p, e.DurationMs);
        Int64(p, e.Tokens?.Input);
        Int64(p, e.Tokens?.Output);
        Int64(p, e.Tokens?.CacheRead);
        Int64(p, e.Tokens?.CacheWrite);
        Text(p, e.Model);
        Int64(p, e.Success is { } success ? (success ? 1 : 0) : null);
        Text(p, e.ErrorType);
        Text(p, e.File);
        Text(p, encoded.Data);
        Text(p, e.Id);
        Text(p, encoded.IngestKey);
        return command;
    }

    private static void Text(Npgsql.NpgsqlParameterCollection parameters, string? value) =>
        parameters.Add(new Npgsql.NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value });

    private static void Int64(Npgsql.NpgsqlParameterCollection parameters, long? value) =>
        parameters.Add(new Npgsql.NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint, Value = (object?)value ?? DBNull.Value });

    public void Dispose() { }
}
