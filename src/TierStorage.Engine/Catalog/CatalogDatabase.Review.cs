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
        var shared = CatalogExtract.Columns(_connection, null, "events", "main").Where(c => c != "event_id" && theirs.Contains(c)).ToList();
        var columns = string.Join(", ", shared.Select(c => $"\"{c}\""));

        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        await using (var existing = Command("SELECT EXISTS (SELECT 1 FROM events WHERE session_id = $id)", ("$id", sessionId)))
        {
            existing.Transaction = transaction;
            if (Convert.ToInt64(await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) != 0)
                return 0;
        }
        long added;
        await using (var copy = Command($"INSERT INTO main.events ({columns}) SELECT {columns} FROM extract.events WHERE session_id = $id ORDER BY event_id;", ("$id", sessionId)))
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
