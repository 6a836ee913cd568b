using System.Data.Common;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>
/// Writes rows into one table of the target catalog in batches, each batch one transaction: a copy killed at any point
/// loses at most the open batch, and the rerun goes on from what was committed. Keyed tables are upserted (ON CONFLICT
/// (key) DO UPDATE), per-session ones inserted without their surrogate id (the target assigns it). PostgreSQL gets one
/// INSERT ... SELECT FROM unnest(arrays) per batch (one round trip, one parameter per column); SQLite one prepared
/// statement run per row inside the transaction.
/// </summary>
internal sealed class RowWriter : IAsyncDisposable
{
    public const int DefaultBatchRows = 5_000;

    private readonly DbConnection _target;
    private readonly CatalogTable _table;
    private readonly IReadOnlyList<string> _columns;
    private readonly IReadOnlyDictionary<string, string> _targetTypes;
    private readonly bool _postgres;
    private readonly int _batchRows;
    private readonly Func<long, CancellationToken, Task>? _committed;
    private readonly List<object?[]> _buffer = [];
    private DbCommand? _sqliteInsert;

    public RowWriter(DbConnection target, CatalogTable table, IReadOnlyList<string> columns, IReadOnlyDictionary<string, string> targetTypes,
        int batchRows, Func<long, CancellationToken, Task>? committed)
    {
        _target = target;
        _table = table;
        _columns = columns;
        _targetTypes = targetTypes;
        _postgres = CatalogConnections.KindOf(target) == CatalogProviderKind.Postgres;
        _batchRows = batchRows;
        _committed = committed;
    }

    /// <summary>Rows committed so far.</summary>
    public long Written { get; private set; }

    public async Task AddAsync(object?[] row, CancellationToken cancellationToken)
    {
        _buffer.Add(row);
        if (_buffer.Count >= _batchRows) await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Count == 0) return;
        await using (var transaction = await _target.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_postgres) await WritePostgresAsync(transaction, cancellationToken).ConfigureAwait(false);
            else await WriteSqliteAsync(transaction, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        Written += _buffer.Count;
        _buffer.Clear();
        if (_committed is not null) await _committed(Written, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes rows by key (a mirror sync: rows the source no longer has), table after table in the order given
    /// (children before their parents), all in one transaction; returns the rows each table lost.</summary>
    public static async Task<Dictionary<string, long>> DeleteAsync(DbConnection target, IReadOnlyList<(CatalogTable Table, IReadOnlyList<object?[]> Keys)> deletions,
        CancellationToken cancellationToken)
    {
        var deleted = new Dictionary<string, long>(StringComparer.Ordinal);
        if (deletions.All(d => d.Keys.Count == 0)) return deleted;
        await using var transaction = await target.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (table, keys) in deletions)
        {
            if (keys.Count == 0) continue;
            await using var command = target.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"DELETE FROM {table.Name} WHERE " + string.Join(" AND ", table.Key.Select((k, i) => $"{CatalogTables.Quote(k)} = @k{i}"));
            var parameters = table.Key.Select((_, i) => AddParameter(command, "@k" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
            long count = 0;
            foreach (var key in keys)
            {
                for (var i = 0; i < parameters.Length; i++) parameters[i].Value = key[i] ?? DBNull.Value;
                count += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            deleted[table.Name] = deleted.GetValueOrDefault(table.Name) + count;
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    private string ConflictClause()
    {
        if (_table.Match != TableMatch.Key) return "";
        var others = _columns.Where(c => !_table.Key.Contains(c)).ToList();
        var target = CatalogTables.ColumnList(_table.Key);
        return others.Count == 0 ? $" ON CONFLICT ({target}) DO NOTHING"
            : $" ON CONFLICT ({target}) DO UPDATE SET " + string.Join(", ", others.Select(c => $"{CatalogTables.Quote(c)} = excluded.{CatalogTables.Quote(c)}"));
    }

    private async Task WriteSqliteAsync(DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (_sqliteInsert is null)
        {
            _sqliteInsert = _target.CreateCommand();
            _sqliteInsert.CommandText = $"INSERT INTO {_table.Name} ({CatalogTables.ColumnList(_columns)}) VALUES ({string.Join(", ", _columns.Select((_, i) => "@p" + i.ToString(CultureInfo.InvariantCulture)))}){ConflictClause()}";
            for (var i = 0; i < _columns.Count; i++) AddParameter(_sqliteInsert, "@p" + i.ToString(CultureInfo.InvariantCulture));
        }
        _sqliteInsert.Transaction = transaction;
        foreach (var row in _buffer)
        {
            for (var i = 0; i < row.Length; i++) _sqliteInsert.Parameters[i].Value = row[i] is bool b ? (b ? 1L : 0L) : row[i] ?? DBNull.Value;
            await _sqliteInsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WritePostgresAsync(DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = (NpgsqlCommand)_target.CreateCommand();
        command.Transaction = (NpgsqlTransaction)transaction;
        var arrays = new List<string>();
        for (var i = 0; i < _columns.Count; i++)
        {
            var (type, cast, values) = ColumnArray(i);
            var name = "p" + i.ToString(CultureInfo.InvariantCulture);
            command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values });
            arrays.Add($"@{name}::{cast}[]");
        }
        command.CommandText = $"INSERT INTO {_table.Name} ({CatalogTables.ColumnList(_columns)}) SELECT * FROM unnest({string.Join(", ", arrays)}){ConflictClause()}";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The batch's values of one column as a typed array for the target column's PostgreSQL type.</summary>
    private (NpgsqlDbType Type, string Cast, Array Values) ColumnArray(int column)
    {
        var type = _targetTypes.TryGetValue(_columns[column], out var t) ? t : "text";
        var count = _buffer.Count;
        switch (type)
        {
            case "int8":
            {
                var values = new long?[count];
                for (var r = 0; r < count; r++) values[r] = _buffer[r][column] is { } v ? ToInt64(v, column) : null;
                return (NpgsqlDbType.Bigint, "bigint", values);
            }
            case "int4":
            case "int2":
            {
                var values = new int?[count];
                for (var r = 0; r < count; r++) values[r] = _buffer[r][column] is { } v ? checked((int)ToInt64(v, column)) : null;
                return (NpgsqlDbType.Integer, "integer", values);
            }
            case "float8":
            case "float4":
            case "numeric":
            {
                var values = new double?[count];
                for (var r = 0; r < count; r++) values[r] = _buffer[r][column] is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : null;
                return (NpgsqlDbType.Double, "double precision", values);
            }
            case "bool":
            {
                var values = new bool?[count];
                for (var r = 0; r < count; r++) values[r] = _buffer[r][column] is { } v ? ToInt64(v, column) != 0 : null;
                return (NpgsqlDbType.Boolean, "boolean", values);
            }
            case "bytea":
            {
                var values = new byte[]?[count];
                for (var r = 0; r < count; r++) values[r] = _buffer[r][column] as byte[];
                return (NpgsqlDbType.Bytea, "bytea", values);
            }
            default:
            {
                // text, citext, varchar: sent as text; the column's assignment cast makes citext of it.
                var values = new string?[count];
                for (var r = 0; r < count; r++) values[r] = _buffer[r][column] is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
                return (NpgsqlDbType.Text, "text", values);
            }
        }
    }

    private long ToInt64(object value, int column) => value switch
    {
        long l => l,
        int i => i,
        short s => s,
        bool b => b ? 1 : 0,
        _ => long.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
            : throw new InvalidDataException($"The catalog table {_table.Name} holds '{value}' in its integer column {_columns[column]}."),
    };

    private static DbParameter AddParameter(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }

    public async ValueTask DisposeAsync()
    {
        if (_sqliteInsert is not null) await _sqliteInsert.DisposeAsync().ConfigureAwait(false);
    }
}
