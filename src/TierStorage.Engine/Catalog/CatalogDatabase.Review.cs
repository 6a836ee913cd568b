using Microsoft.Data.Sqlite;
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
        var theirs = CatalogExtract.Columns(_connection, null, "events", "extract");
        var sessionColumns = CatalogExtract.Columns(_connection, null, "sessions", "extract");
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
        var shared = CatalogExtract.Columns(_connection, null, "events", "main").Where(c => c is not ("event_id" or "ingest_key") && theirs.Contains(c)).ToList();
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

    internal static async Task<RollupKey> ReadRollupKeyAsync(SqliteConnection connection, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(MAX(event_id), 0), COALESCE(SUM(event_id), 0) FROM events INDEXED BY ix_events_session_ts WHERE session_id = $s";
        command.Parameters.AddWithValue("$s", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new RollupKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    internal static async Task<StoredRollup?> ReadRollupAsync(SqliteConnection connection, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT format, event_count, max_event_id, id_sum, prices, body FROM session_rollups WHERE session_id = $s";
        command.Parameters.AddWithValue("$s", sessionId);
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
            var columns = CatalogExtract.Columns(_connection, null, table, "main");
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
            await Task.Run(() => CatalogExtract.WritePhase(Path, temp, phase), cancellationToken).ConfigureAwait(false);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            Workspace.AtomicFile.TryDelete(temp);
        }
    }
}
