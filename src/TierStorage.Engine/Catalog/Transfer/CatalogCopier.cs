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
    /// only when both catalogs carry the same workspace identity, so another workspace's rows are never touched, and never
    /// when the source lacks a session of this machine that the target holds (see CopyAsync).</summary>
    public bool MirrorDeletes { get; init; }
    /// <summary>Who runs the copy: sessions of no recorded origin in an SQLite source copied into PostgreSQL are stamped
    /// with it (on both sides) first, as they were recorded here.</summary>
    public CatalogOrigin? Origin { get; init; }
    /// <summary>The source workspace's local tier (its objects are files in the workspace, in no namespace): every other
    /// tier's objects lie under the workspace's namespace, which decides whether the source can join another's catalog.</summary>
    public string LocalTier { get; init; } = "local";
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

        var identities = await IdentitiesAsync(source, target, cancellationToken).ConfigureAwait(false);
        if (identities.Joins) await ThrowIfStrandedAsync(source, targetName, options.LocalTier, identities, cancellationToken).ConfigureAwait(false);
        if (options.Origin is { } origin && CatalogConnections.KindOf(source) == CatalogProviderKind.Sqlite && CatalogConnections.KindOf(target) == CatalogProviderKind.Postgres)
            await StampOriginAsync(source, origin, cancellationToken).ConfigureAwait(false);

        var conflicts = new List<CatalogConflict>();
        var kept = new List<CatalogConflict>();
        var scope = await SessionScopeAsync(source, target, conflicts, options.Origin?.Machine, cancellationToken).ConfigureAwait(false);
        var mirror = options.MirrorDeletes && identities.Source == identities.Target;
        if (mirror && scope.Missing.Count > 0)
        {
            // Nothing in TierStorage drops a session from a workspace's catalog while keeping its identity: a catalog that
            // lacks sessions its copy holds was created empty again, restored from an older copy or rebuilt without
            // -FromTier. Mirroring it would empty the copy, the one place those sessions are still recorded (invariant:
            // never lose data), so this copy deletes nothing and says what the catalog lacks.
            conflicts.Add(new CatalogConflict
            {
                Table = "sessions",
                Key = scope.Missing[0],
                Reason = string.Create(CultureInfo.InvariantCulture,
                    $"the target holds {scope.Missing.Count} session(s) of this machine that this catalog does not ({string.Join(", ", scope.Missing.Take(3))}{(scope.Missing.Count > 3 ? ", ..." : "")}); ") +
                    "they and every row of theirs were kept, and nothing was deleted from the target in this copy: a catalog that lost sessions (created empty again, restored from an older copy, " +
                    "rebuilt without -FromTier) must not empty its copy. Bring them back with Update-TierCatalog -FromTier <tier> (tierstorage catalog rebuild --from-tier <tier>), which reads the tiers' copies.",
            });
            mirror = false;
        }

        var tables = CatalogTables.Transferred.ToList();
        var results = new List<CatalogTableCopy>();
        var deletions = new List<(CatalogTable Table, IReadOnlyList<object?[]> Keys)>();
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
                ? await CopyKeyedAsync(source, target, table, columns, writer, scope, identities.Joins, mirror, conflicts, kept, deletions, cancellationToken).ConfigureAwait(false)
                : await CopyPerSessionAsync(source, target, table, columns, writer, scope.Excluded, options.Quick, conflicts, cancellationToken).ConfigureAwait(false);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            results.Add(copy with { SourceRows = total, RowsWritten = writer.Written });
            Report(total);
        }
        if (deletions.Count > 0)
        {
            // Rows the source dropped go after every table is copied, in one transaction, children before parents.
            var order = tables.Select(t => t.Name).ToList();
            var deleted = await RowWriter.DeleteAsync(target, deletions.OrderByDescending(d => order.IndexOf(d.Table.Name)).ToList(), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < results.Count; i++)
                results[i] = results[i] with { RowsDeleted = deleted.GetValueOrDefault(results[i].Table) };
        }
        results.AddRange(CatalogTables.All.Where(t => t.Match == TableMatch.Skip && t.Name != "schema_migrations")
            .Select(t => new CatalogTableCopy { Table = t.Name, Skipped = true }));
        return new CatalogCopyResult
        {
            Source = sourceName, Target = targetName, Tables = results, Conflicts = conflicts, Kept = kept, Duration = clock.Elapsed,
            Joined = identities.Joins ? identities.Target : null,
        };
    }

    /// <summary>The cheap copy to run after every command that changed the source (dual-write): small tables compared
    /// row by row by hash and only changed rows written, events and backup runs compared by count per session, rows the
    /// source dropped dropped from the target (same workspace identity only).</summary>
    public static Task<CatalogCopyResult> SyncAsync(DbConnection source, string sourceName, DbConnection target, string targetName, CancellationToken cancellationToken) =>
        SyncAsync(source, sourceName, target, targetName, null, cancellationToken);

    /// <inheritdoc cref="SyncAsync(DbConnection, string, DbConnection, string, CancellationToken)"/>
    /// <param name="workspace">Who syncs (Origin) and the workspace's local tier (LocalTier); the rest is the sync's own.</param>
    public static Task<CatalogCopyResult> SyncAsync(DbConnection source, string sourceName, DbConnection target, string targetName, CatalogCopyOptions? workspace, CancellationToken cancellationToken) =>
        CopyAsync(source, sourceName, target, targetName, (workspace ?? new CatalogCopyOptions()) with { Quick = true, MirrorDeletes = true }, cancellationToken);

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

    /// <summary>The sessions a copy may touch. <c>Excluded</c>: ids the target holds with another start (another machine's
    /// session under the same id), whose rows are not touched. <c>Others</c>: the target's sessions recorded on machines that
    /// neither the source's sessions nor the copy's origin were recorded on (the other machines of a team's catalog): a
    /// mirror never deletes their rows, nor, while there are any, rows that belong to no session (upload states, thaw
    /// requests), which say nothing of whose they are. <c>Missing</c>: the target's sessions of this machine (or of no
    /// recorded machine) that the source lacks, in id order: a mirror deletes nothing while there is one.</summary>
    private sealed record SessionScope(HashSet<string> Excluded, HashSet<string> Others, List<string> Missing);

    private static async Task<SessionScope> SessionScopeAsync(DbConnection source, DbConnection target, List<CatalogConflict> conflicts, string? origin, CancellationToken cancellationToken)
    {
        const string Sql = "SELECT session_id, started_at, machine FROM sessions";
        var theirs = new Dictionary<string, (long Started, string? Machine)>(StringComparer.Ordinal);
        await foreach (var row in RowReader.ReadAsync(target, Sql, [], cancellationToken).ConfigureAwait(false))
            theirs[(string)row[0]!] = (Convert.ToInt64(row[1], CultureInfo.InvariantCulture), row[2] as string);
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        var ours = new HashSet<string>(StringComparer.Ordinal);
        var ourMachines = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await foreach (var row in RowReader.ReadAsync(source, Sql, [], cancellationToken).ConfigureAwait(false))
        {
            var id = (string)row[0]!;
            ours.Add(id);
            var started = Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
            var machine = row[2] as string;
            if (machine is not null) ourMachines.Add(machine);
            // Ids are the start second: two machines' sessions of one second share an id, told apart by start and origin.
            if (theirs.TryGetValue(id, out var other)
                && (other.Started != started || (other.Machine is not null && machine is not null && !string.Equals(other.Machine, machine, StringComparison.OrdinalIgnoreCase))))
            {
                excluded.Add(id);
                conflicts.Add(new CatalogConflict
                {
                    Table = "sessions",
                    Key = id,
                    Reason = $"the target holds another session with this id (started {DateTimeOffset.FromUnixTimeMilliseconds(other.Started):u}{(other.Machine is null ? "" : " on " + other.Machine)}, " +
                        $"this one {DateTimeOffset.FromUnixTimeMilliseconds(started):u}{(machine is null ? "" : " on " + machine)}), " +
                        "from another machine or workspace; none of this session's rows were copied. Copy this workspace into a database of its own, " +
                        "or remove the other session from the target if it is a leftover, then copy again.",
                });
            }
        }
        if (origin is not null) ourMachines.Add(origin);
        var others = theirs.Where(t => !ours.Contains(t.Key) && t.Value.Machine is { } m && !ourMachines.Contains(m)).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        var missing = theirs.Keys.Where(id => !ours.Contains(id) && !others.Contains(id)).Order(StringComparer.Ordinal).ToList();
        return new SessionScope(excluded, others, missing);
    }

    /// <summary>The workspace identities of both catalogs. <c>Joins</c>: both have one and they differ, so the source joins
    /// the target as one more of its machines: the target's identity and phases are kept, nothing of it is deleted.</summary>
    internal sealed record Identities(string? Source, string? Target, string? SourceNamespace, string? TargetNamespace)
    {
        public bool Joins => Source is not null && Target is not null && Source != Target;
    }

    internal static async Task<Identities> IdentitiesAsync(DbConnection source, DbConnection target, CancellationToken cancellationToken)
    {
        var ours = await IdentityAsync(source, cancellationToken).ConfigureAwait(false);
        var theirs = await IdentityAsync(target, cancellationToken).ConfigureAwait(false);
        return new(ours.Id, theirs.Id, ours.Namespace, theirs.Namespace);
    }

    internal static async Task<(string? Id, string? Namespace)> IdentityAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await foreach (var row in RowReader.ReadAsync(connection, "SELECT id, namespace FROM workspace_identity", [], cancellationToken).ConfigureAwait(false))
            return (row[0] as string, row[1] as string);
        return (null, null);
    }

    /// <summary>
    /// A workspace joins a team's catalog under the team's namespace (invariant 7: a catalog's object keys are relative to
    /// its one namespace). What the source stored on its tiers under a namespace of its own could not be found through the
    /// team's catalog, so such a source is refused before anything is written, and says what it holds and what to do.
    /// </summary>
    private static async Task ThrowIfStrandedAsync(DbConnection source, string targetName, string localTier, Identities identities, CancellationToken cancellationToken)
    {
        if (identities.SourceNamespace == identities.TargetNamespace) return;
        var counts = new List<string>();
        await foreach (var row in RowReader.ReadAsync(source,
            "SELECT 'objects on tier ' || tier, count(*) FROM objects WHERE lower(tier) <> lower(@local) GROUP BY lower(tier), tier " +
            "UNION ALL SELECT 'uploads in flight', count(*) FROM upload_states HAVING count(*) > 0 " +
            "UNION ALL SELECT 'thaw requests', count(*) FROM thaw_requests HAVING count(*) > 0",
            [("@local", localTier)], cancellationToken).ConfigureAwait(false))
            counts.Add(string.Create(CultureInfo.InvariantCulture, $"{Convert.ToInt64(row[1], CultureInfo.InvariantCulture)} {row[0]}"));
        if (counts.Count == 0) return;
        throw new TierStorageException(ErrorIds.CatalogConflict, TierErrorKind.InvalidOperation,
            $"{targetName} is another workspace's catalog (a team's, workspace {identities.Target}, namespace '{identities.TargetNamespace}'), and this workspace " +
            $"stored on its tiers under its own namespace '{identities.SourceNamespace}' ({string.Join(", ", counts)}). Joined to the team's catalog, it would look for them " +
            "under the team's namespace and not find them, so nothing was copied. Keep this workspace on a catalog of its own (copy it into its own database), " +
            "or point only new work at the team's catalog: its history stays in this catalog, where it stays readable with this policy.", targetName);
    }

    /// <summary>Sessions recorded before catalogs knew their origin (migration 15) were recorded on this machine by this
    /// user: a copy into a shared catalog says so, in the source too, so that both sides agree and the sessions stay this
    /// machine's there (a session of no origin would be nobody's to back up).</summary>
    private static async Task StampOriginAsync(DbConnection source, CatalogOrigin origin, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand();
        command.CommandText = "UPDATE sessions SET machine = coalesce(machine, @machine), user_name = coalesce(user_name, @user) WHERE machine IS NULL OR user_name IS NULL";
        foreach (var (name, value) in new[] { ("@machine", origin.Machine), ("@user", origin.User) })
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<CatalogTableCopy> CopyKeyedAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, RowWriter writer,
        SessionScope scope, bool joins, bool mirror, List<CatalogConflict> conflicts, List<CatalogConflict> kept,
        List<(CatalogTable Table, IReadOnlyList<object?[]> Keys)> deletions, CancellationToken cancellationToken)
    {
        var theirs = await TableState.ReadKeyedMapAsync(target, table, columns, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var idColumn = columns.IndexOf("id");
        await foreach (var row in TableState.ReadKeyedAsync(source, table, columns, cancellationToken).ConfigureAwait(false))
        {
            seen.Add(row.Key);
            if (row.Session is { } session && scope.Excluded.Contains(session)) continue;
            if (theirs.TryGetValue(row.Key, out var existing))
            {
                if (existing.Hash.AsSpan().SequenceEqual(row.Hash)) continue;
                if (table.Team && joins)
                {
                    // Joining a team's catalog: its identity is the one every machine adopts, and its phase of a number is the
                    // team's phase, which this machine's sessions of that number now count in. A phase the two named
                    // differently is said; one they only started at other times is the team's without a word.
                    var name = columns.IndexOf("name");
                    if (table.Name == "phases" && existing.Values[name] is string theirName && row.Values[name] is string ourName && theirName != ourName)
                        kept.Add(new CatalogConflict
                        {
                            Table = table.Name,
                            Key = row.Key,
                            Reason = $"the team's catalog names this phase '{theirName}', this workspace '{ourName}'; the team's was kept, and this workspace's sessions of it count in '{theirName}' there.",
                        });
                    continue;
                }
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
        if (mirror && table.Name != "workspace_identity")
        {
            // Once other machines write to the target too, their sessions' rows are not this workspace's to remove.
            var gone = theirs.Values.Where(r => !seen.Contains(r.Key)
                    && (r.Session is { } s ? !scope.Excluded.Contains(s) && !scope.Others.Contains(s) : scope.Others.Count == 0))
                .Select(r => r.KeyValues).ToList();
            if (gone.Count > 0) deletions.Add((table, gone));
        }
        return new CatalogTableCopy { Table = table.Name };
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
