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
/// <param name="Team">Rows of the whole catalog rather than of a machine (its identity, its phases): when a workspace joins
/// another's catalog (a team's), the target's row of a key is kept and the source's is not written over it.</param>
internal sealed record CatalogTable(string Name, TableMatch Match, string[] Key, string? SessionColumn, string? Id = null, string? Why = null, bool Team = false);

/// <summary>Every table of the catalog (Migrations.cs) and how a transfer treats it, parents before children (foreign keys).</summary>
internal static class CatalogTables
{
    public static readonly IReadOnlyList<CatalogTable> All =
    [
        new("workspace_identity", TableMatch.Key, ["singleton"], null, Team: true),
        new("phases", TableMatch.Key, ["number"], null, Team: true),
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
    // One growable buffer per thread: a row is encoded into it and hashed with one call (a million-event comparison
    // made 50 million small AppendData calls and as many arrays otherwise).
    [ThreadStatic] private static byte[]? t_buffer;

    public static void Append(IncrementalHash hash, object? value) => AppendRow(hash, [value]);

    /// <summary>Appends the encoding of every value of <paramref name="row"/> to <paramref name="hash"/>.</summary>
    public static void AppendRow(IncrementalHash hash, object?[] row)
    {
        var buffer = t_buffer ??= new byte[4096];
        var length = 0;
        foreach (var value in row) length = Encode(ref buffer, length, value);
        t_buffer = buffer;
        hash.AppendData(buffer, 0, length);
    }

    public static byte[] HashRow(object?[] row)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendRow(hash, row);
        return hash.GetHashAndReset();
    }

    private static int Encode(ref byte[] buffer, int at, object? value)
    {
        switch (value)
        {
            case null or DBNull:
                return Put(ref buffer, at, (byte)'N', []);
            case bool b:
                return Put(ref buffer, at, (byte)'I', b ? "1"u8 : "0"u8);
            case long or int or short or byte or sbyte or ushort or uint:
            {
                Span<byte> digits = stackalloc byte[24];
                Convert.ToInt64(value, CultureInfo.InvariantCulture).TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
                return Put(ref buffer, at, (byte)'I', digits[..written]);
            }
            case decimal d when d == decimal.Truncate(d):
                return Put(ref buffer, at, (byte)'I', Encoding.ASCII.GetBytes(d.ToString("0", CultureInfo.InvariantCulture)));
            case double or float or decimal:
                return Put(ref buffer, at, (byte)'R', Encoding.ASCII.GetBytes(Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)));
            case string s:
            {
                var size = Encoding.UTF8.GetByteCount(s);
                Ensure(ref buffer, at + 5 + size);
                buffer[at] = (byte)'T';
                BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(at + 1), size);
                Encoding.UTF8.GetBytes(s, buffer.AsSpan(at + 5));
                return at + 5 + size;
            }
            case byte[] bytes:
                return Put(ref buffer, at, (byte)'B', Encoding.ASCII.GetBytes(Convert.ToHexString(bytes)));
            default:
                return Put(ref buffer, at, (byte)'T', Encoding.UTF8.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
        }
    }

    /// <summary>tag, big-endian length, bytes.</summary>
    private static int Put(ref byte[] buffer, int at, byte tag, ReadOnlySpan<byte> bytes)
    {
        Ensure(ref buffer, at + 5 + bytes.Length);
        buffer[at] = tag;
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(at + 1), bytes.Length);
        bytes.CopyTo(buffer.AsSpan(at + 5));
        return at + 5 + bytes.Length;
    }

    private static void Ensure(ref byte[] buffer, int size)
    {
        if (size > buffer.Length) Array.Resize(ref buffer, Math.Max(size, buffer.Length * 2));
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
