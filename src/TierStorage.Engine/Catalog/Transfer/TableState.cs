using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>One row of a keyed table as a transfer sees it: its key, the hash of its content, the session it belongs to.</summary>
internal sealed record KeyedRow(string Key, byte[] Hash, object?[] KeyValues, string? Session, object?[] Values);

/// <summary>One session's rows of a per-session table (events, backup runs): how many, and the hash of their content in id order.</summary>
internal sealed record SessionRows(long Count, byte[] Hash);

/// <summary>Reads the state of a catalog table that copies and comparisons work from.</summary>
internal static class TableState
{
    /// <summary>Every row of a keyed table by key (keys as <see cref="RowEncoding.KeyText"/>), hashed over <paramref name="columns"/>.</summary>
    public static async IAsyncEnumerable<KeyedRow> ReadKeyedAsync(DbConnection connection, CatalogTable table, IReadOnlyList<string> columns,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keyIndexes = table.Key.Select(k => IndexOf(columns, k, table)).ToArray();
        var sessionIndex = table.SessionColumn is { } s ? IndexOf(columns, s, table) : -1;
        var sql = $"SELECT {CatalogTables.ColumnList(columns)} FROM {table.Name}";
        await foreach (var row in RowReader.ReadAsync(connection, sql, [], cancellationToken).ConfigureAwait(false))
        {
            var keyValues = keyIndexes.Select(i => row[i]).ToArray();
            yield return new KeyedRow(RowEncoding.KeyText(table.Key, keyValues), RowEncoding.HashRow(row), keyValues,
                sessionIndex >= 0 ? row[sessionIndex] as string : null, row);
        }
    }

    public static async Task<Dictionary<string, KeyedRow>> ReadKeyedMapAsync(DbConnection connection, CatalogTable table, IReadOnlyList<string> columns, CancellationToken cancellationToken)
    {
        var map = new Dictionary<string, KeyedRow>(StringComparer.Ordinal);
        await foreach (var row in ReadKeyedAsync(connection, table, columns, cancellationToken).ConfigureAwait(false)) map[row.Key] = row;
        return map;
    }

    /// <summary>Rows per session of a per-session table.</summary>
    public static async Task<Dictionary<string, long>> CountPerSessionAsync(DbConnection connection, CatalogTable table, IReadOnlyCollection<string>? onlySessions, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var session = CatalogTables.Quote(table.SessionColumn!);
        var sql = $"SELECT {session}, count(*) FROM {table.Name} GROUP BY {session}";
        IReadOnlyList<(string, object?)> parameters = [];
        if (onlySessions is not null)
        {
            if (onlySessions.Count == 0) return counts;
            // PostgreSQL: one array parameter, so the index answers per session; SQLite scans its index once either way.
            if (CatalogConnections.KindOf(connection) == CatalogProviderKind.Postgres)
            {
                sql = $"SELECT {session}, count(*) FROM {table.Name} WHERE {session} = ANY(@sessions) GROUP BY {session}";
                parameters = [("@sessions", onlySessions.ToArray())];
            }
        }
        await foreach (var row in RowReader.ReadAsync(connection, sql, parameters, cancellationToken).ConfigureAwait(false))
            counts[(string)row[0]!] = Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
        return counts;
    }

    /// <summary>Count and content hash of every session's rows (or of those in <paramref name="onlySessions"/>), in id order.</summary>
    public static async Task<Dictionary<string, SessionRows>> HashPerSessionAsync(DbConnection connection, CatalogTable table, IReadOnlyList<string> columns,
        IReadOnlySet<string>? onlySessions, CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<string, (long Count, IncrementalHash Hash)>(StringComparer.Ordinal);
        try
        {
            var sessionIndex = IndexOf(columns, table.SessionColumn!, table);
            var sql = $"SELECT {CatalogTables.ColumnList(columns)} FROM {table.Name} ORDER BY {CatalogTables.Quote(table.Id!)}";
            IReadOnlyList<(string, object?)> parameters = [];
            // A team's catalog holds every machine's events: one machine's comparison reads its own sessions' by the session
            // index (one array parameter) rather than the whole table.
            if (onlySessions is not null && CatalogConnections.KindOf(connection) == CatalogProviderKind.Postgres)
            {
                sql = $"SELECT {CatalogTables.ColumnList(columns)} FROM {table.Name} WHERE {CatalogTables.Quote(table.SessionColumn!)} = ANY(@sessions) ORDER BY {CatalogTables.Quote(table.Id!)}";
                parameters = [("@sessions", onlySessions.ToArray())];
            }
            await foreach (var row in RowReader.ReadAsync(connection, sql, parameters, cancellationToken).ConfigureAwait(false))
            {
                var session = (string)row[sessionIndex]!;
                if (onlySessions is not null && !onlySessions.Contains(session)) continue;
                if (!hashes.TryGetValue(session, out var state)) state = (0, IncrementalHash.CreateHash(HashAlgorithmName.SHA256));
                RowEncoding.AppendRow(state.Hash, row);
                hashes[session] = (state.Count + 1, state.Hash);
            }
            return hashes.ToDictionary(h => h.Key, h => new SessionRows(h.Value.Count, h.Value.Hash.GetHashAndReset()), StringComparer.Ordinal);
        }
        finally
        {
            foreach (var (_, state) in hashes) state.Hash.Dispose();
        }
    }

    /// <summary>The hash of the first <paramref name="count"/> rows of one session, in id order (the same encoding as
    /// <see cref="HashPerSessionAsync"/>).</summary>
    public static async Task<byte[]> HashPrefixAsync(DbConnection connection, CatalogTable table, IReadOnlyList<string> columns, string session, long count, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await foreach (var row in ReadSessionAsync(connection, table, columns, session, 0, count, cancellationToken).ConfigureAwait(false))
            RowEncoding.AppendRow(hash, row);
        return hash.GetHashAndReset();
    }

    /// <summary>One session's rows in id order from ordinal <paramref name="skip"/> (0-based), at most <paramref name="take"/> (null: all).</summary>
    public static IAsyncEnumerable<object?[]> ReadSessionAsync(DbConnection connection, CatalogTable table, IReadOnlyList<string> columns, string session, long skip, long? take, CancellationToken cancellationToken)
    {
        var postgres = CatalogConnections.KindOf(connection) == CatalogProviderKind.Postgres;
        var limit = (take, postgres) switch
        {
            (null, true) => " OFFSET @skip",
            (null, false) => " LIMIT -1 OFFSET @skip",
            _ => " LIMIT @take OFFSET @skip",
        };
        var sql = $"SELECT {CatalogTables.ColumnList(columns)} FROM {table.Name} WHERE {CatalogTables.Quote(table.SessionColumn!)} = @session ORDER BY {CatalogTables.Quote(table.Id!)}{limit}";
        List<(string, object?)> parameters = [("@session", session), ("@skip", skip)];
        if (take is { } t) parameters.Add(("@take", t));
        return RowReader.ReadAsync(connection, sql, parameters, cancellationToken);
    }

    /// <summary>The table's hash: SHA-256 over the row (or per-session) hashes in ordinal key order.</summary>
    public static string TableHash(IEnumerable<(string Key, byte[] Hash)> entries)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, rowHash) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            RowEncoding.Append(hash, key);
            hash.AppendData(rowHash);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    private static int IndexOf(IReadOnlyList<string> columns, string column, CatalogTable table)
    {
        for (var i = 0; i < columns.Count; i++) if (columns[i] == column) return i;
        throw new InvalidOperationException($"The catalog table {table.Name} has no column {column} on both sides.");
    }
}
