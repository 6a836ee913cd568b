using System.Buffers.Binary;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>How the rows of a catalog table are matched between two catalogs.</summary>
internal enum TableMatch
{
    /// <summary>By the table's natural primary key: upserted.</summary>
    Key,
    /// <summary>By position within their session in id order (the id is a surrogate each database assigns itself).</summary>
    SessionOrdinal,
    /// <summary>Not copied nor compared.</summary>
    Skip,
}

/// <param name="SessionColumn">The column naming the session a row belongs to: rows of a conflicting session are left alone.</param>
/// <param name="Id">SessionOrdinal: the surrogate id column, left out of copies and hashes.</param>
internal sealed record CatalogTable(string Name, TableMatch Match, string[] Key, string? SessionColumn, string? Id = null, string? Why = null);

/// <summary>Every table of the catalog (Migrations.cs) and how a transfer treats it, parents before children (foreign keys).</summary>
internal static class CatalogTables
{
    public static readonly IReadOnlyList<CatalogTable> All =
    [
        new("workspace_identity", TableMatch.Key, ["singleton"], null),
        new("phases", TableMatch.Key, ["number"], null),
        new("sessions", TableMatch.Key, ["session_id"], "session_id"),
        new("events", TableMatch.SessionOrdinal, [], "session_id", Id: "event_id"),
        new("snapshots", TableMatch.Key, ["session_id", "sequence"], "session_id"),
        new("objects", TableMatch.Key, ["tier", "key"], "session_id"),
        new("backup_runs", TableMatch.SessionOrdinal, [], "session_id", Id: "run_id"),
        new("upload_states", TableMatch.Key, ["tier", "key"], null),
        new("backup_queue", TableMatch.Key, ["session_id", "tier"], "session_id"),
        new("thaw_requests", TableMatch.Key, ["tier", "key"], null),
        new("ingest_offsets", TableMatch.Key, ["path"], "session_id"),
        new("ingest_pending", TableMatch.Key, ["path", "item"], "session_id"),
        new("ingest_agent_links", TableMatch.Key, ["session_id", "tool_use_id"], "session_id"),
        new("session_rollups", TableMatch.Skip, [], null, Why: "a cache keyed by event ids; the next review rebuilds it"),
        new("schema_migrations", TableMatch.Skip, [], null, Why: "each side's own history; the versions must be equal"),
    ];

    public static IEnumerable<CatalogTable> Transferred => All.Where(t => t.Match != TableMatch.Skip);

    /// <summary>Refuses a catalog with a table this TierStorage does not know how to transfer (it would be left behind).</summary>
    public static void ThrowIfUnknownTables(IEnumerable<string> tables, string catalog)
    {
        var unknown = tables.Where(t => All.All(k => k.Name != t)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new TierStorageException(ErrorIds.CatalogError, TierErrorKind.InvalidOperation,
                $"The catalog {catalog} has tables this TierStorage cannot copy ({string.Join(", ", unknown)}); nothing was copied. Update TierStorage.", catalog);
    }

    /// <summary>The columns both sides have, in ordinal order (the canonical order of hashes), without the surrogate id.</summary>
    public static List<string> SharedColumns(CatalogTable table, IReadOnlyDictionary<string, string> source, IReadOnlyDictionary<string, string> target) =>
        source.Keys.Where(target.ContainsKey).Where(c => c != table.Id).Order(StringComparer.Ordinal).ToList();

    /// <summary>A column name as SQL on both providers (offset is reserved in PostgreSQL).</summary>
    public static string Quote(string column) => "\"" + column.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string ColumnList(IEnumerable<string> columns) => string.Join(", ", columns.Select(Quote));
}

/// <summary>
/// The canonical encoding of a row for hashes: each value tagged by kind (N null, I integer as invariant text, R real
/// as round-trip text, T text as UTF-8, B bytes as hex), length-prefixed, so NULL differs from '' and 1 from '1'.
/// Booleans are the integers 0/1 (SQLite has no boolean), ints of any width the same integer.
/// </summary>
internal static class RowEncoding
{
    public static void Append(IncrementalHash hash, object? value)
    {
        Span<byte> length = stackalloc byte[4];
        (byte tag, byte[] encoded) = value switch
        {
            null or DBNull => ((byte)'N', []),
            bool b => ((byte)'I', Encoding.ASCII.GetBytes(b ? "1" : "0")),
            long or int or short or byte or sbyte or ushort or uint => ((byte)'I', Encoding.ASCII.GetBytes(Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture))),
            decimal d when d == decimal.Truncate(d) => ((byte)'I', Encoding.ASCII.GetBytes(d.ToString("0", CultureInfo.InvariantCulture))),
            double or float or decimal => ((byte)'R', Encoding.ASCII.GetBytes(Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture))),
            string s => ((byte)'T', Encoding.UTF8.GetBytes(s)),
            byte[] bytes => ((byte)'B', Encoding.ASCII.GetBytes(Convert.ToHexString(bytes))),
            _ => ((byte)'T', Encoding.UTF8.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")),
        };
        hash.AppendData([tag]);
        BinaryPrimitives.WriteInt32BigEndian(length, encoded.Length);
        hash.AppendData(length);
        hash.AppendData(encoded);
    }

    public static byte[] HashRow(object?[] row)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var value in row) Append(hash, value);
        return hash.GetHashAndReset();
    }

    /// <summary>A key as people read it: col=value,col=value.</summary>
    public static string KeyText(IReadOnlyList<string> columns, IReadOnlyList<object?> values) =>
        string.Join(",", columns.Select((c, i) => c + "=" + (values[i] is null or DBNull ? "NULL" : Convert.ToString(values[i], CultureInfo.InvariantCulture))));
}

/// <summary>Reads rows of a catalog table through a DbConnection.</summary>
internal static class RowReader
{
    public static async IAsyncEnumerable<object?[]> ReadAsync(DbConnection connection, string sql, IReadOnlyList<(string Name, object? Value)> parameters,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var count = reader.FieldCount;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = new object?[count];
            for (var i = 0; i < count; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            yield return row;
        }
    }
}
