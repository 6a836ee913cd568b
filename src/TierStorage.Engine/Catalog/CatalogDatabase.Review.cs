using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using TierStorage.Engine.Workspace;
using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog;

public sealed partial class CatalogDatabase
{
    /// <summary>
    /// Brings a session's events back into the catalog from its analytics_snapshot.db (a session backup's share of the
    /// catalog), for a catalog rebuilt from the tiers, which knows the session but none of its events. The session's
    /// event count and indexed log offset are taken over with them, so restoring its log later indexes nothing twice.
    /// Idempotent: a session that already has events here is left alone (returns 0). ErrorIds.CatalogCorrupt when the
    /// file is not a catalog extract.
    /// </summary>
    public async Task<long> ImportSessionEventsAsync(string analyticsPath, string sessionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(analyticsPath);
        if (!_dialect.IsSqlite) return await ImportSessionEventsIntoPostgresAsync(analyticsPath, sessionId, cancellationToken).ConfigureAwait(false);
        var attached = false;
        try
        {
            // A file read back from a tier is untrusted (ARCHITECTURE invariant 8): garbage fails the attach itself.
            await using (var attach = Command("ATTACH DATABASE $path AS extract;", ("$path", analyticsPath)))
                await attach.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            attached = true;
            return await ImportAttachedAsync(analyticsPath, sessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                $"'{analyticsPath}' is not a usable SQLite database ({ex.Message}).", analyticsPath, ex);
        }
        finally
        {
            if (attached)
            {
                await using var detach = Command("DETACH DATABASE extract;");
                await detach.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task<long> ImportAttachedAsync(string analyticsPath, string sessionId, CancellationToken cancellationToken)
    {
        // Only plain tables are read: a view (a recursive one ran the review forever) or a trigger could make a read do
        // anything, and a table of another shape would read as "no events" without a word.
        foreach (var table in new[] { "events", "sessions" })
        {
            await using var kind = Command("SELECT type FROM extract.sqlite_master WHERE name = $name COLLATE NOCASE;", ("$name", table));
            if (await kind.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not "table")
                throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                    $"'{analyticsPath}' has no '{table}' table (a view or nothing by that name): it is not an analytics snapshot of this catalog.", analyticsPath);
        }
        var theirs = CatalogExtract.Columns(Connection, null, "events", "extract");
        var sessionColumns = CatalogExtract.Columns(Connection, null, "sessions", "extract");
        var required = new List<string>();
        await using (var notNull = Command("""SELECT name FROM pragma_table_info('events', 'main') WHERE "notnull" = 1 AND dflt_value IS NULL AND pk = 0;"""))
        await using (var reader = await notNull.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) required.Add(reader.GetString(0));
        var missing = required.Where(c => !theirs.Contains(c)).ToList();
        if (missing.Count > 0 || !sessionColumns.Contains("log_indexed_bytes"))
            throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                $"'{analyticsPath}' is not an analytics snapshot of this catalog: its events table lacks {(missing.Count > 0 ? string.Join(", ", missing) : "nothing")}{(sessionColumns.Contains("log_indexed_bytes") ? "" : " and its sessions table lacks log_indexed_bytes")}.", analyticsPath);
        // Columns are only ever added by migrations: an older extract supplies the ones it has, the rest stay NULL.
        // ingest_key is derived from type and data (IngestKeys), computed here rather than taken from the untrusted file: a wrong
        // key would let a later import store an event twice or skip one.
        var shared = CatalogExtract.Columns(Connection, null, "events", "main").Where(c => c is not ("event_id" or "ingest_key") && theirs.Contains(c)).ToList();
        var columns = string.Join(", ", shared.Select(c => $"\"{c}\""));
        var (keyColumn, keyValue) = SchemaVersion >= 14 ? (", ingest_key", $", {IngestKeys.Sql()}") : ("", "");

        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        await using (var existing = Command("SELECT EXISTS (SELECT 1 FROM events WHERE session_id = $id)", ("$id", sessionId)))
        {
            existing.Transaction = transaction;
            if (Convert.ToInt64(await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) != 0)
                return 0;
        }
        long added;
        await using (var copy = Command($"INSERT INTO main.events ({columns}{keyColumn}) SELECT {columns}{keyValue} FROM extract.events WHERE session_id = $id ORDER BY event_id;", ("$id", sessionId)))
        {
            copy.Transaction = transaction;
            added = await copy.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        // Lines its log had that were not events (migration 9): an extract made before that knows none.
        var rejected = sessionColumns.Contains("rejected_lines")
            ? "rejected_lines = rejected_lines + COALESCE((SELECT rejected_lines FROM extract.sessions WHERE session_id = $id), 0),"
            : "";
        await using (var update = Command($"""
            UPDATE sessions SET event_count = $added, {rejected}
                log_indexed_bytes = COALESCE((SELECT log_indexed_bytes FROM extract.sessions WHERE session_id = $id), log_indexed_bytes),
                started_at = COALESCE((SELECT started_at FROM extract.sessions WHERE session_id = $id), started_at),
                ended_at = COALESCE((SELECT ended_at FROM extract.sessions WHERE session_id = $id), ended_at)
            WHERE session_id = $id
            """, ("$added", added), ("$id", sessionId)))
        {
            update.Transaction = transaction;
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0) throw SessionNotFound(sessionId);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>What a session's events are now, as session_rollups records what its rollup was folded from: their count,
    /// largest and summed event_id. Read from ix_events_session_ts alone (event_id is the rowid every index carries).</summary>
    internal readonly record struct RollupKey(long EventCount, long MaxEventId, long IdSum);

    /// <summary>A stored rollup: the key and price fingerprint it was built with, and its body.</summary>
    internal sealed record StoredRollup(int Format, RollupKey Key, string Prices, byte[] Body);

    internal static async Task<RollupKey> ReadRollupKeyAsync(CatalogReader connection, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(
            "SELECT COUNT(*), COALESCE(MAX(event_id), 0), CAST(COALESCE(SUM(event_id), 0) AS BIGINT) FROM events INDEXED BY ix_events_session_ts WHERE session_id = $s",
            ("$s", sessionId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new RollupKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    internal static async Task<StoredRollup?> ReadRollupAsync(CatalogReader connection, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Command("SELECT format, event_count, max_event_id, id_sum, prices, body FROM session_rollups WHERE session_id = $s",
            ("$s", sessionId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StoredRollup(reader.GetInt32(0), new RollupKey(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)), reader.GetString(4),
            (byte[])reader.GetValue(5));
    }

    /// <summary>Stores a session's rollup, replacing the one it had. Nothing when the session is gone from the catalog.</summary>
    internal async Task SaveRollupAsync(string sessionId, int format, RollupKey key, string prices, byte[] body, DateTimeOffset builtAt, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            INSERT INTO session_rollups (session_id, format, event_count, max_event_id, id_sum, prices, built_at, body)
            SELECT $s, $format, $count, $max, $sum, $prices, $at, $body WHERE EXISTS (SELECT 1 FROM sessions WHERE session_id = $s)
            ON CONFLICT (session_id) DO UPDATE SET format = excluded.format, event_count = excluded.event_count, max_event_id = excluded.max_event_id,
                id_sum = excluded.id_sum, prices = excluded.prices, built_at = excluded.built_at, body = excluded.body
            """, ("$s", sessionId), ("$format", format), ("$count", key.EventCount), ("$max", key.MaxEventId), ("$sum", key.IdSum),
            ("$prices", prices), ("$at", builtAt.ToUnixTimeMilliseconds()), ("$body", body));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A digest of what <see cref="ExportPhaseAsync"/> would write for the phase, read without touching its events: every row
    /// of every exported table but the events (sessions with their event_count, snapshots, objects, runs, ingest state; the
    /// phases row without reviewed_at, which each review moves; the rollups by key and build time). Appends move a session's
    /// event_count, and a delete or an update of an event drops its session's rollup (migration 13), which the review builds
    /// again with a new build time, so the digest moves with the events. Null when the phase has an active session (its
    /// events move by the minute): the file is then always written.
    /// </summary>
    public async Task<string?> PhaseShareDigestAsync(int phase, CancellationToken cancellationToken)
    {
        // On a shared catalog other machines write the phase's rows at any time: the file is always written again.
        if (!_dialect.IsSqlite) return null;
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(System.Text.Encoding.UTF8.GetBytes(text + "\u0001"));
        var tables = new List<string>();
        await using (var list = Command("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) tables.Add(reader.GetString(0));
        await using (var version = Command("PRAGMA user_version"))
            Add("v" + Convert.ToString(await version.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture));
        foreach (var table in tables.Where(t => !CatalogExtract.IsMachineLocal(t) && t != "events"))
        {
            var columns = CatalogExtract.Columns(Connection, null, table, "main");
            var where = table == "phases" && columns.Contains("number") ? " WHERE number = $phase" : CatalogExtract.PhaseFilter(columns, "main") ?? "";
            var select = string.Join(", ", columns.Where(c => !(table == "phases" && c == "reviewed_at") && !(table == "session_rollups" && c == "body"))
                .Order(StringComparer.Ordinal).Select(c => $"\"{c}\""));
            Add("table " + table);
            await using var command = Command($"SELECT {select} FROM main.\"{table}\"{where} ORDER BY rowid", ("$phase", phase));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    Add(value switch
                    {
                        DBNull => "n",
                        byte[] bytes => "b" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)),
                        IFormattable number => "i" + number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                        _ => "s" + value,
                    });
                }
                if (table == "sessions" && reader["state"] is "Active") return null;
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>phase_analytics.db: the phase's share of the catalog (<see cref="CatalogExtract.WritePhase"/>), written to a
    /// temporary file and moved into place.</summary>
    public async Task ExportPhaseAsync(int phase, string target, CancellationToken cancellationToken)
    {
        var temp = target + ".tmp";
        Workspace.AtomicFile.TryDelete(temp);
        try
        {
            if (_dialect.IsSqlite) await Task.Run(() => CatalogExtract.WritePhase(Path, temp, phase), cancellationToken).ConfigureAwait(false);
            else await CatalogExtract.WritePhaseAsync(this, temp, phase, cancellationToken).ConfigureAwait(false);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            Workspace.AtomicFile.TryDelete(temp);
        }
    }

    /// <summary>A connection of its own for reading beside the catalog's writes, in one snapshot transaction (SQLite: a WAL read
    /// transaction on a read-only connection; PostgreSQL: REPEATABLE READ READ ONLY), so that what it reads together (a rollup
    /// key and the events it stands for) is one state.</summary>
    internal async Task<CatalogReader> OpenReaderAsync(CancellationToken cancellationToken)
    {
        DbConnection connection;
        if (_dialect.IsSqlite)
        {
            SqliteNative.EnsureInitialized();
            connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        }
        else connection = new NpgsqlConnection(Location.OpenString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (_dialect.IsSqlite) await MigrationRunner.ExecuteAsync(connection, null, "PRAGMA busy_timeout = 10000;", cancellationToken).ConfigureAwait(false);
            var transaction = await connection.BeginTransactionAsync(_dialect.IsSqlite ? IsolationLevel.Serializable : IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            if (!_dialect.IsSqlite) await MigrationRunner.ExecuteAsync(connection, transaction, "SET TRANSACTION READ ONLY;", cancellationToken).ConfigureAwait(false);
            return new CatalogReader(connection, transaction, _dialect);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// <see cref="ImportSessionEventsAsync"/> into a PostgreSQL catalog: the extract (an SQLite file from a tier, untrusted) is
    /// opened read-only on a connection of its own and held to the same checks, and its rows are inserted in one transaction,
    /// each with its ingest key computed here, never taken from the file.
    /// </summary>
    private async Task<long> ImportSessionEventsIntoPostgresAsync(string analyticsPath, string sessionId, CancellationToken cancellationToken)
    {
        SqliteNative.EnsureInitialized();
        await using var extract = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = analyticsPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            await extract.OpenAsync(cancellationToken).ConfigureAwait(false);
            foreach (var table in new[] { "events", "sessions" })
            {
                await using var kind = extract.CreateCommand();
                kind.CommandText = "SELECT type FROM sqlite_master WHERE name = $name COLLATE NOCASE;";
                kind.Parameters.AddWithValue("$name", table);
                if (await kind.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not "table")
                    throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                        $"'{analyticsPath}' has no '{table}' table (a view or nothing by that name): it is not an analytics snapshot of this catalog.", analyticsPath);
            }
            var theirs = CatalogExtract.Columns(extract, null, "events", "main");
            var sessionColumns = CatalogExtract.Columns(extract, null, "sessions", "main");
            string[] required = ["session_id", "ts", "type"];
            var missing = required.Where(c => !theirs.Contains(c)).ToList();
            if (missing.Count > 0 || !sessionColumns.Contains("log_indexed_bytes"))
                throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                    $"'{analyticsPath}' is not an analytics snapshot of this catalog: its events table lacks {(missing.Count > 0 ? string.Join(", ", missing) : "nothing")}{(sessionColumns.Contains("log_indexed_bytes") ? "" : " and its sessions table lacks log_indexed_bytes")}.", analyticsPath);

            await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
            await using (var existing = _dialect.Command(_connection, transaction, "SELECT EXISTS (SELECT 1 FROM events WHERE session_id = $id)", ("$id", sessionId)))
                if (CatalogDialect.ToInt64(await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) != 0) return 0;

            var shared = EventCopyColumns.Where(theirs.Contains).ToList();
            var rows = new List<EncodedEvent>();
            await using (var read = extract.CreateCommand())
            {
                read.CommandText = $"SELECT {string.Join(", ", shared.Select(c => $"\"{c}\""))} FROM events WHERE session_id = $id ORDER BY event_id";
                read.Parameters.AddWithValue("$id", sessionId);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) rows.Add(ExtractedEvent(reader, shared, analyticsPath));
            }
            var ids = await new PostgresEventInserter((NpgsqlConnection)_connection).InsertAsync(sessionId, rows, transaction, cancellationToken).ConfigureAwait(false);
            long added = ids.Count(id => id != 0);

            long? indexed = null, rejected = null, started = null, ended = null;
            await using (var read = extract.CreateCommand())
            {
                read.CommandText = $"SELECT log_indexed_bytes, {(sessionColumns.Contains("rejected_lines") ? "rejected_lines" : "0")}, started_at, ended_at FROM sessions WHERE session_id = $id";
                read.Parameters.AddWithValue("$id", sessionId);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    long? Read(int i) => reader.IsDBNull(i) ? null : reader.GetValue(i) is long v ? v : throw ExtractCorrupt(analyticsPath, "sessions");
                    (indexed, rejected, started, ended) = (Read(0), Read(1), Read(2), Read(3));
                }
            }
            await using (var update = _dialect.Command(_connection, transaction, """
                UPDATE sessions SET event_count = $added, rejected_lines = rejected_lines + COALESCE($rejected, 0),
                    log_indexed_bytes = COALESCE($indexed, log_indexed_bytes), started_at = COALESCE($started, started_at), ended_at = COALESCE($ended, ended_at)
                WHERE session_id = $id
                """, ("$added", added), ("$rejected", rejected), ("$indexed", indexed), ("$started", started), ("$ended", ended), ("$id", sessionId)))
            {
                foreach (DbParameter parameter in update.Parameters)
                    if (parameter.Value is DBNull) ((NpgsqlParameter)parameter).NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint;
                if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0) throw SessionNotFound(sessionId);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return added;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                $"'{analyticsPath}' is not a usable SQLite database ({ex.Message}).", analyticsPath, ex);
        }
    }

    private static readonly string[] EventCopyColumns =
        ["session_id", "ts", "type", "agent", "tool", "task", "duration_ms", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
         "model", "success", "error_type", "file", "data", "event_key"];

    /// <summary>One events row of an extract as the event it stands for, each value checked for its type (the file is untrusted).</summary>
    private static EncodedEvent ExtractedEvent(DbDataReader reader, List<string> columns, string path)
    {
        object? Value(string column) => columns.IndexOf(column) is var i and >= 0 && !reader.IsDBNull(i) ? reader.GetValue(i) : null;
        string? Text(string column) => Value(column) switch { null => null, string s => s, _ => throw ExtractCorrupt(path, "events." + column) };
        long? Long(string column) => Value(column) switch { null => null, long l => l, _ => throw ExtractCorrupt(path, "events." + column) };
        var type = Text("type") ?? throw ExtractCorrupt(path, "events.type");
        if (!EventJson.TryParseType(type, out var parsed)) throw ExtractCorrupt(path, "events.type");
        var data = Text("data");
        var e = new SessionEvent
        {
            SessionId = Text("session_id") ?? "",
            Timestamp = FromUnixMs(Long("ts") ?? throw ExtractCorrupt(path, "events.ts")),
            Type = parsed,
            Agent = Text("agent"),
            Tool = Text("tool"),
            Task = Text("task"),
            DurationMs = Long("duration_ms"),
            Tokens = Long("input_tokens") is { } input ? new TokenUsage { Input = input, Output = Long("output_tokens") ?? 0, CacheRead = Long("cache_read_tokens") ?? 0, CacheWrite = Long("cache_write_tokens") ?? 0 } : null,
            Model = Text("model"),
            Success = Long("success") is { } success ? success != 0 : null,
            ErrorType = Text("error_type"),
            File = Text("file"),
            Data = data is null ? null : EventJson.ParseData(data),
            Id = Text("event_key"),
        };
        return EncodedEvent.Stored(e, data);
    }

    private static TierStorageException ExtractCorrupt(string path, string field) =>
        new(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData, $"'{path}' is not an analytics snapshot of this catalog: {field} holds a value of the wrong type.", path);
}

/// <summary>A read connection of the catalog's (<see cref="CatalogDatabase.OpenReaderAsync"/>) with its open snapshot transaction.</summary>
internal sealed class CatalogReader(DbConnection connection, DbTransaction transaction, CatalogDialect dialect) : IAsyncDisposable
{
    public CatalogDialect Dialect => dialect;

    public DbCommand Command(string sql, params (string Name, object? Value)[] parameters) => dialect.Command(connection, transaction, sql, parameters);

    /// <summary>The columns of <paramref name="table"/> (case-insensitive names).</summary>
    public async Task<HashSet<string>> ColumnsAsync(string table, CancellationToken cancellationToken)
    {
        await using var command = dialect.IsSqlite
            ? Command("SELECT name FROM pragma_table_info($table)", ("$table", table))
            : Command("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $table", ("$table", table));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) columns.Add(reader.GetString(0));
        return columns;
    }

    public async ValueTask DisposeAsync()
    {
        try { await transaction.CommitAsync().ConfigureAwait(false); }
        catch (InvalidOperationException) { }
        await transaction.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
