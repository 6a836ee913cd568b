using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// A self-contained SQLite file holding one session's or one phase's share of the catalog, with the catalog's schema
/// (tables, user_version, and for a phase the indexes of its tables but events): analytics_snapshot.db in a session backup, phase_analytics.db
/// beside a phase review.
/// Read in one transaction, so it is a consistent state while the workspace keeps writing. Machine-local state (upload
/// sessions — a capability URL —, the backup queue, thaw requests) never leaves the machine.
/// </summary>
public static class CatalogExtract
{
    private static readonly HashSet<string> MachineLocalTables = new(StringComparer.OrdinalIgnoreCase) { "upload_states", "backup_queue", "thaw_requests" };

    /// <summary>One session: every table with a session_id column cut to it, the phases table to its phase.</summary>
    /// <param name="scratch">The target is a scratch file that is thrown away unless the whole extract completes (the
    /// packager gzips it into the package, checksummed): it is written without a rollback journal and without fsyncs,
    /// which took most of a backup's time (issue 12). A crash leaves only a scratch file that the next run replaces.
    /// The catalog's secondary indexes are left out: the snapshot holds one session, and what reads it (a catalog bringing
    /// the session's events back, <see cref="CatalogDatabase.ImportSessionEventsAsync"/>) scans its tables whole. Building
    /// them was the longest step of a session backup, and they were a third of the snapshot's bytes (issue 12). The
    /// constraints the tables declare (primary keys, UNIQUE columns) stay, being part of the tables.</param>
    public static void WriteSession(string source, string target, string sessionId, int phase, bool scratch = false) =>
        Write(source, target, phase, columns => columns.Contains("session_id") ? " WHERE session_id = $session" : null, sessionId, scratch, indexesOf: _ => false);

    /// <summary>One phase: rows with a phase column of that phase, rows of its sessions, its phases row. Without the
    /// indexes of the events table (issue 12): nothing in TierStorage reads this file back (it is for the user's sqlite3),
    /// and building the eight event indexes, two of them JSON expressions, took ~5x the time of copying the phase's events
    /// and added ~60 % to the file (258 MB instead of 163 MB for 489,000 events). A query on one phase's events scans them.</summary>
    public static void WritePhase(string source, string target, int phase) =>
        Write(source, target, phase, columns => PhaseFilter(columns, "src"), null, scratch: false, indexesOf: table => !table.Equals("events", StringComparison.OrdinalIgnoreCase));

    /// <summary>The rows of a table (given its columns) that are the phase's share ($phase), in schema <paramref name="schema"/>.</summary>
    internal static string? PhaseFilter(HashSet<string> columns, string? schema) =>
        columns.Contains("phase") ? " WHERE phase = $phase"
        : columns.Contains("session_id") ? $" WHERE session_id IN (SELECT session_id FROM {(schema is null ? "" : schema + ".")}sessions WHERE phase = $phase)"
        : null;

    /// <summary><see cref="WriteSession"/> from a catalog that is not an SQLite file (PostgreSQL): the extract is a new SQLite
    /// file with the catalog's schema, filled with the session's rows read through the provider.</summary>
    internal static Task WriteSessionAsync(CatalogDatabase source, string target, string sessionId, int phase, CancellationToken cancellationToken) =>
        WriteFromAsync(source, target, phase, columns => columns.Contains("session_id") ? " WHERE session_id = $session" : null, sessionId, cancellationToken);

    /// <summary><see cref="WritePhase"/> from a catalog that is not an SQLite file (PostgreSQL).</summary>
    internal static Task WritePhaseAsync(CatalogDatabase source, string target, int phase, CancellationToken cancellationToken) =>
        WriteFromAsync(source, target, phase, columns => PhaseFilter(columns, null), null, cancellationToken);

    /// <summary>Creates <paramref name="target"/> with the SQLite catalog's schema (its migrations) and copies into each of its
    /// tables (machine-local ones left out) the rows of the source's same table that <paramref name="filter"/> selects, in
    /// one snapshot of the source, the columns both have.</summary>
    private static async Task WriteFromAsync(CatalogDatabase source, string target, int phase, Func<HashSet<string>, string?> filter, string? sessionId,
        CancellationToken cancellationToken)
    {
        await using (await CatalogDatabase.OpenAsync(target, cancellationToken).ConfigureAwait(false)) { }
        SqliteNative.EnsureInitialized();
        await using var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        await to.OpenAsync(cancellationToken).ConfigureAwait(false);
        Execute(to, "PRAGMA journal_mode = DELETE; PRAGMA foreign_keys = OFF;");
        var tables = new List<string>();
        using (var list = to.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY rowid;";
            using var reader = list.ExecuteReader();
            while (reader.Read()) tables.Add(reader.GetString(0));
        }
        await using var from = await source.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = to.BeginTransaction();
        foreach (var table in tables.Where(t => !MachineLocalTables.Contains(t)))
        {
            var theirs = await from.ColumnsAsync(table, cancellationToken).ConfigureAwait(false);
            var columns = Columns(to, transaction, table, "main").Where(theirs.Contains).ToList();
            if (columns.Count == 0) continue;
            var set = new HashSet<string>(columns, StringComparer.OrdinalIgnoreCase);
            var where = table == "phases" ? " WHERE number = $phase" : filter(set) ?? "";
            var list = string.Join(", ", columns.Select(c => $"\"{c}\""));
            using var insert = to.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO main.\"{table}\" ({list}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i.ToString(CultureInfo.InvariantCulture)))});";
            var parameters = columns.Select((_, i) => insert.Parameters.Add(new SqliteParameter("$p" + i.ToString(CultureInfo.InvariantCulture), DBNull.Value))).ToArray();
            await using var read = from.Command($"SELECT {list} FROM \"{table}\"{where}", ("$session", sessionId), ("$phase", phase));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < parameters.Length; i++) parameters[i].Value = reader.IsDBNull(i) ? DBNull.Value : reader.GetValue(i);
                insert.ExecuteNonQuery();
            }
        }
        transaction.Commit();
    }

    internal static bool IsMachineLocal(string table) => MachineLocalTables.Contains(table);

    /// <param name="filter">The WHERE clause for a table given its columns; null copies the table whole (phases is always cut to the phase).</param>
    /// <param name="indexesOf">Whether the catalog's indexes on a table are created in the extract; null: on every table.</param>
    private static void Write(string source, string target, int phase, Func<HashSet<string>, string?> filter, string? sessionId, bool scratch, Func<string, bool>? indexesOf = null)
    {
        SqliteNative.EnsureInitialized();
        using var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        to.Open();
        Execute(to, scratch
            ? "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384;"
            : "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = DELETE;");
        using (var attach = to.CreateCommand())
        {
            attach.CommandText = "ATTACH DATABASE $path AS src;";
            attach.Parameters.AddWithValue("$path", source);
            attach.ExecuteNonQuery();
        }
        using (var transaction = to.BeginTransaction())
        {
            var objects = new List<(string Type, string Name, string Table, string Sql)>();
            using (var schema = to.CreateCommand())
            {
                schema.Transaction = transaction;
                schema.CommandText = "SELECT type, name, tbl_name, sql FROM src.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, rowid;";
                using var reader = schema.ExecuteReader();
                while (reader.Read()) objects.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
            foreach (var table in objects.Where(o => o.Type == "table" && !MachineLocalTables.Contains(o.Name)))
            {
                Execute(to, table.Sql, transaction);
                var columns = Columns(to, transaction, table.Name, "src");
                var where = table.Name == "phases" && columns.Contains("number") ? " WHERE number = $phase" : filter(columns) ?? "";
                using var copy = to.CreateCommand();
                copy.Transaction = transaction;
                copy.CommandText = $"INSERT INTO main.\"{table.Name}\" SELECT * FROM src.\"{table.Name}\"{where};";
                copy.Parameters.AddWithValue("$session", (object?)sessionId ?? DBNull.Value);
                copy.Parameters.AddWithValue("$phase", phase);
                copy.ExecuteNonQuery();
            }
            foreach (var index in objects.Where(o => o.Type == "index" && !MachineLocalTables.Contains(o.Table) && (indexesOf?.Invoke(o.Table) ?? true)))
                Execute(to, index.Sql, transaction);
            using (var version = to.CreateCommand())
            {
                version.Transaction = transaction;
                version.CommandText = "PRAGMA src.user_version;";
                var userVersion = Convert.ToInt64(version.ExecuteScalar(), CultureInfo.InvariantCulture);
                Execute(to, $"PRAGMA main.user_version = {userVersion.ToString(CultureInfo.InvariantCulture)};", transaction);
            }
            transaction.Commit();
        }
        Execute(to, "DETACH DATABASE src;");
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Column names of <paramref name="table"/> in the attached or main schema <paramref name="schema"/>.</summary>
    internal static HashSet<string> Columns(SqliteConnection connection, SqliteTransaction? transaction, string table, string schema)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT name FROM pragma_table_info($table, $schema);";
        command.Parameters.AddWithValue("$table", table);
        command.Parameters.AddWithValue("$schema", schema);
        using var reader = command.ExecuteReader();
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read()) columns.Add(reader.GetString(0));
        return columns;
    }
}
