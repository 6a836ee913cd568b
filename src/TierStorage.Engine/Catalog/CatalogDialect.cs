using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using System.Text.RegularExpressions;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// The one place where the catalog's SQL differs between its providers. The catalog's statements are written once, in
/// SQLite's words ($name parameters, TOTAL, instr, INDEXED BY, IS for null-safe equality); on PostgreSQL each text is
/// rewritten once per process (cached) into the equivalent: @name (an optional filter "@x IS NULL OR col = @x" turned
/// round, so that the server types @x from the column), COALESCE(SUM(..), 0)::float8 (TOTAL's float, 0.0
/// on no rows), strpos, no index hints, IS NOT DISTINCT FROM. Everything else the catalog writes is SQL both engines read
/// alike (ON CONFLICT with qualified columns in DO UPDATE, RETURNING, COUNT(*) FILTER, EXISTS, LIKE on keys written in
/// lower case). Statements that only one engine has (PRAGMA, ATTACH, sqlite_master) stay behind <see cref="IsSqlite"/>.
/// </summary>
internal sealed partial class CatalogDialect
{
    public static readonly CatalogDialect Sqlite = new(CatalogProviderKind.Sqlite);
    public static readonly CatalogDialect Postgres = new(CatalogProviderKind.Postgres);

    private readonly ConcurrentDictionary<string, string> _translated = new(StringComparer.Ordinal);

    private CatalogDialect(CatalogProviderKind kind) => Kind = kind;

    public CatalogProviderKind Kind { get; }

    public bool IsSqlite => Kind == CatalogProviderKind.Sqlite;

    public static CatalogDialect For(CatalogProviderKind kind) => kind == CatalogProviderKind.Sqlite ? Sqlite : Postgres;

    /// <summary>The statement as this provider reads it.</summary>
    public string Translate(string sql) => IsSqlite ? sql : _translated.GetOrAdd(sql, ToPostgres);

    /// <summary>A command on <paramref name="connection"/> with <paramref name="sql"/> translated and its parameters
    /// ($name, as the SQL names them) bound; null binds NULL.</summary>
    public DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = Translate(sql);
        command.Transaction = transaction;
        foreach (var (name, value) in parameters) Bind(command, name, value);
        return command;
    }

    /// <summary>Adds one parameter named as the SQL names it ($name).</summary>
    public void Bind(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = IsSqlite ? name : name.TrimStart('$', '@', ':');
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>A 64-bit integer from a scalar of either engine (SQLite's long, PostgreSQL's int/bigint/numeric/boolean).</summary>
    public static long ToInt64(object? value) => value switch
    {
        null or DBNull => 0,
        bool b => b ? 1 : 0,
        _ => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
    };

    internal static string ToPostgres(string sql)
    {
        var text = Parameter().Replace(sql, "@$1");
        text = NullSafeEquals().Replace(text, " IS NOT DISTINCT FROM @");
        // PostgreSQL types a parameter where it first meets it, and "@x IS NULL" alone cannot: the comparison goes first.
        text = OptionalFilter().Replace(text, "$2 = @$1 OR @$1 IS NULL");
        text = IndexHint().Replace(text, "");
        text = NoCase().Replace(text, "");
        text = Instr().Replace(text, "strpos(");
        return ReplaceTotal(text);
    }

    /// <summary>TOTAL(x) -> COALESCE(SUM(x), 0)::float8, with x's own parentheses balanced.</summary>
    private static string ReplaceTotal(string sql)
    {
        var result = new StringBuilder(sql.Length + 32);
        var at = 0;
        foreach (Match match in Total().Matches(sql))
        {
            if (match.Index < at) continue;
            var depth = 1;
            var end = match.Index + match.Length;
            while (end < sql.Length && depth > 0)
            {
                if (sql[end] == '(') depth++;
                else if (sql[end] == ')') depth--;
                end++;
            }
            if (depth != 0) throw new InvalidOperationException("Unbalanced TOTAL( in catalog SQL.");
            var inner = sql[(match.Index + match.Length)..(end - 1)];
            result.Append(sql, at, match.Index - at).Append("COALESCE(SUM(").Append(ReplaceTotal(inner)).Append("), 0)::float8");
            at = end;
        }
        return result.Append(sql, at, sql.Length - at).ToString();
    }

    [GeneratedRegex(@"\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Parameter();

    [GeneratedRegex(@"@([A-Za-z_][A-Za-z0-9_]*) IS NULL OR ([A-Za-z_][A-Za-z0-9_.]*) = @\1\b")]
    private static partial Regex OptionalFilter();

    [GeneratedRegex(@" IS @")]
    private static partial Regex NullSafeEquals();

    [GeneratedRegex(@"\s+INDEXED BY [A-Za-z0-9_]+", RegexOptions.IgnoreCase)]
    private static partial Regex IndexHint();

    [GeneratedRegex(@"\s+COLLATE NOCASE", RegexOptions.IgnoreCase)]
    private static partial Regex NoCase();

    [GeneratedRegex(@"\binstr\(", RegexOptions.IgnoreCase)]
    private static partial Regex Instr();

    [GeneratedRegex(@"\bTOTAL\(")]
    private static partial Regex Total();
}
