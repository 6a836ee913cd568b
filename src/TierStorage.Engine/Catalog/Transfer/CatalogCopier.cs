using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>How a catalog copy runs.</summary>
public sealed record CatalogCopyOptions
{
    /// <summary>Rows per transaction in the target: a copy killed at any point loses at most this many, and the rerun resumes.</summary>
    public int BatchRows { get; init; } = RowWriter.DefaultBatchRows;
    /// <summary>A sync after each command: sessions whose events count the same on both sides are taken as equal without
    /// reading their events (a full copy checks every session's events already there against the source's).</summary>
    public bool Quick { get; init; }
    /// <summary>Deletes target rows of keyed tables that the source no longer has (a dequeued backup, a finished upload):
    /// only when both catalogs carry the same workspace identity, so another workspace's rows are never touched.</summary>
    public bool MirrorDeletes { get; init; }
    public IProgress<CatalogCopyProgress>? Progress { get; init; }
}

/// <summary>
/// Copies every catalog table from one catalog to another, in any direction (SQLite to PostgreSQL, PostgreSQL back to
/// an SQLite file, SQLite to SQLite), idempotently: keyed tables are upserted by their natural key and only rows that
/// differ are written; events and backup runs, whose ids are surrogates each database assigns, are matched per session
/// by position (the target holding k events of a session holds the source's first k, which is checked by hash), so an
/// interrupted copy resumes, a rerun writes nothing, and a rerun after new events carries just those. The target's rows
/// that disagree with the source in a way a copy must not settle (another machine's session under the same id, events
/// that are not the source's) are left alone and reported as conflicts. session_rollups is not copied: it is a cache
/// keyed by event ids, which differ in the target; the next review there rebuilds it.
/// </summary>
public static class CatalogCopier
{
    /// <summary>Copies <paramref name="source"/> into <paramref name="target"/>; both open and at the same schema version.</summary>
    /// <param name="sourceName">Names the source in messages and results (never a password).</param>
    public static async Task<CatalogCopyResult> CopyAsync(DbConnection source, string sourceName, DbConnection target, string targetName,
        CatalogCopyOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        await ThrowIfVersionsDifferAsync(source, sourceName, target, targetName, cancellationToken).ConfigureAwait(false);
        CatalogTables.ThrowIfUnknownTables(await CatalogConnections.TablesAsync(source, cancellationToken).ConfigureAwait(false), sourceName);

        var conflicts = new List<CatalogConflict>();
        var excluded = await ConflictingSessionsAsync(source, target, conflicts, cancellationToken).ConfigureAwait(false);
        var mirror = options.MirrorDeletes && await SameIdentityAsync(source, target, cancellationToken).ConfigureAwait(false);

        var tables = CatalogTables.Transferred.ToList();
        var results = new List<CatalogTableCopy>();
        for (var index = 0; index < tables.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var table = tables[index];
            var sourceColumns = await CatalogConnections.ColumnsAsync(source, table.Name, cancellationToken).ConfigureAwait(false);
            var targetColumns = await CatalogConnections.ColumnsAsync(target, table.Name, cancellationToken).ConfigureAwait(false);
            var columns = CatalogTables.SharedColumns(table, sourceColumns, targetColumns);
            var total = await CountAsync(source, table, cancellationToken).ConfigureAwait(false);
            var tableIndex = index;
            void Report(long done) => options.Progress?.Report(new CatalogCopyProgress(table.Name, done, total, tableIndex, tables.Count));
            Report(0);
            await using var writer = new RowWriter(target, table, columns, targetColumns, options.BatchRows, (done, _) =>
            {
                Report(done);
                return Task.CompletedTask;
            });
            var copy = table.Match == TableMatch.Key
                ? await CopyKeyedAsync(source, target, table, columns, writer, excluded, mirror, conflicts, cancellationToken).ConfigureAwait(false)
                : await CopyPerSessionAsync(source, target, table, columns, writer, excluded, options.Quick, conflicts, cancellationToken).ConfigureAwait(false);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            results.Add(copy with { SourceRows = total, RowsWritten = writer.Written });
            Report(total);
        }
        results.AddRange(CatalogTables.All.Where(t => t.Match == TableMatch.Skip && t.Name != "schema_migrations")
            .Select(t => new CatalogTableCopy { Table = t.Name, Skipped = true }));
        return new CatalogCopyResult { Source = sourceName, Target = targetName, Tables = results, Conflicts = conflicts, Duration = clock.Elapsed };
    }

    /// <summary>The cheap copy to run after every command that changed the source (dual-write): small tables compared
    /// row by row by hash and only changed rows written, events and backup runs compared by count per session, rows the
    /// source dropped dropped from the target (same workspace identity only).</summary>
    public static Task<CatalogCopyResult> SyncAsync(DbConnection source, string sourceName, DbConnection target, string targetName, CancellationToken cancellationToken) =>
        CopyAsync(source, sourceName, target, targetName, new CatalogCopyOptions { Quick = true, MirrorDeletes = true }, cancellationToken);

    internal static async Task ThrowIfVersionsDifferAsync(DbConnection source, string sourceName, DbConnection target, string targetName, CancellationToken cancellationToken)
    {
        var from = await CatalogConnections.SchemaVersionAsync(source, cancellationToken).ConfigureAwait(false);
        var to = await CatalogConnections.SchemaVersionAsync(target, cancellationToken).ConfigureAwait(false);
        if (from != to)
            throw new TierStorageException(ErrorIds.CatalogMismatch, TierErrorKind.InvalidOperation, string.Create(CultureInfo.InvariantCulture,
                $"The catalogs are at different schema versions ({sourceName}: {from}, {targetName}: {to}); nothing was copied. Open both with the same TierStorage (it migrates them) and copy again."));
    }

    private static async Task<long> CountAsync(DbConnection connection, CatalogTable table, CancellationToken cancellationToken) =>
        Convert.ToInt64(await ScalarAsync(connection, $"SELECT count(*) FROM {table.Name}", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Session ids the target holds with another start: another machine's sessions, whose rows are not touched.</summary>
    private static async Task<HashSet<string>> ConflictingSessionsAsync(DbConnection source, DbConnection target, List<CatalogConflict> conflicts, CancellationToken cancellationToken)
    {
        var theirs = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in RowReader.ReadAsync(target, "SELECT session_id, started_at FROM sessions", [], cancellationToken).ConfigureAwait(false))
            theirs[(string)row[0]!] = Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        if (theirs.Count == 0) return excluded;
        await foreach (var row in RowReader.ReadAsync(source, "SELECT session_id, started_at FROM sessions", [], cancellationToken).ConfigureAwait(false))
        {
            var id = (string)row[0]!;
            var started = Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
            if (theirs.TryGetValue(id, out var other) && other != started)
            {
                excluded.Add(id);
                conflicts.Add(new CatalogConflict
                {
                    Table = "sessions",
                    Key = id,
                    Reason = $"the target holds another session with this id (started {DateTimeOffset.FromUnixTimeMilliseconds(other):u}, this one {DateTimeOffset.FromUnixTimeMilliseconds(started):u}), " +
                        "from another machine or workspace; none of this session's rows were copied. Copy this workspace into a database of its own, " +
                        "or remove the other session from the target if it is a leftover, then copy again.",
                });
            }
        }
        return excluded;
    }

    private static async Task<bool> SameIdentityAsync(DbConnection source, DbConnection target, CancellationToken cancellationToken) =>
        Equals(await ScalarAsync(source, "SELECT id FROM workspace_identity", cancellationToken).ConfigureAwait(false) as string,
            await ScalarAsync(target, "SELECT id FROM workspace_identity", cancellationToken).ConfigureAwait(false) as string);

    private static async Task<CatalogTableCopy> CopyKeyedAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, RowWriter writer,
        HashSet<string> excluded, bool mirror, List<CatalogConflict> conflicts, CancellationToken cancellationToken)
    {
        var theirs = await TableState.ReadKeyedMapAsync(target, table, columns, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var idColumn = columns.IndexOf("id");
        await foreach (var row in TableState.ReadKeyedAsync(source, table, columns, cancellationToken).ConfigureAwait(false))
        {
            seen.Add(row.Key);
            if (row.Session is { } session && excluded.Contains(session)) continue;
            if (theirs.TryGetValue(row.Key, out var existing))
            {
                if (existing.Hash.AsSpan().SequenceEqual(row.Hash)) continue;
                // The identity names the workspace whose namespace the tiers hold: another workspace's is never replaced.
                if (table.Name == "workspace_identity" && !Equals(existing.Values[idColumn], row.Values[idColumn]))
                {
                    conflicts.Add(new CatalogConflict
                    {
                        Table = table.Name,
                        Key = row.Key,
                        Reason = $"the target belongs to another workspace (identity {existing.Values[idColumn]}, this one {row.Values[idColumn]}); its identity was kept, and this workspace cannot use the target as its catalog.",
                    });
                    continue;
                }
            }
            await writer.AddAsync(row.Values, cancellationToken).ConfigureAwait(false);
        }
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        long deleted = 0;
        if (mirror && table.Name != "workspace_identity")
        {
            var gone = theirs.Values.Where(r => !seen.Contains(r.Key) && !(r.Session is { } s && excluded.Contains(s))).Select(r => r.KeyValues).ToList();
            await writer.DeleteAsync(gone, cancellationToken).ConfigureAwait(false);
            deleted = gone.Count;
        }
        return new CatalogTableCopy { Table = table.Name, RowsDeleted = deleted };
    }

    private static async Task<CatalogTableCopy> CopyPerSessionAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, RowWriter writer,
        HashSet<string> excluded, bool quick, List<CatalogConflict> conflicts, CancellationToken cancellationToken)
    {
        var ours = await TableState.CountPerSessionAsync(source, table, null, cancellationToken).ConfigureAwait(false);
        var theirs = await TableState.CountPerSessionAsync(target, table, ours.Keys.ToList(), cancellationToken).ConfigureAwait(false);
        foreach (var (session, count) in ours.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (excluded.Contains(session)) continue;
            var there = theirs.GetValueOrDefault(session);
            if (there > count)
            {
                conflicts.Add(new CatalogConflict
                {
                    Table = table.Name,
                    Key = session,
                    Reason = string.Create(CultureInfo.InvariantCulture, $"the target holds {there} rows of this session, the source {count}; nothing was copied for it (Test-TierCatalog shows which differ)."),
                });
                continue;
            }
            if (there > 0 && !(quick && there == count))
            {
                var mine = await TableState.HashPrefixAsync(source, table, columns, session, there, cancellationToken).ConfigureAwait(false);
                var held = await TableState.HashPrefixAsync(target, table, columns, session, there, cancellationToken).ConfigureAwait(false);
                if (!mine.AsSpan().SequenceEqual(held))
                {
                    conflicts.Add(new CatalogConflict
                    {
                        Table = table.Name,
                        Key = session,
                        Reason = string.Create(CultureInfo.InvariantCulture, $"the target's {there} rows of this session are not the source's first {there}; nothing was copied for it (Test-TierCatalog shows the first that differs)."),
                    });
                    continue;
                }
            }
            if (there == count) continue;
            await foreach (var row in TableState.ReadSessionAsync(source, table, columns, session, there, null, cancellationToken).ConfigureAwait(false))
                await writer.AddAsync(row, cancellationToken).ConfigureAwait(false);
        }
        return new CatalogTableCopy { Table = table.Name };
    }
}
