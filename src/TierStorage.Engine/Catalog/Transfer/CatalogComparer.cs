using System.Data.Common;
using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>
/// Compares two catalogs table by table (Test-TierCatalog): row counts and a SHA-256 over a canonical encoding of the
/// rows (<see cref="RowEncoding"/>) over the columns both sides have, keyed tables in key order, events and backup runs
/// per session in id order without their ids (each database assigns its own). Where the hashes differ, per-key (per
/// session, then per position) hashes name the first rows that differ. Against a catalog shared with other machines (a
/// team's: another workspace's, <see cref="CatalogCopier.Identities.Joins"/>, or one holding sessions of machines the
/// source has none of) the question is whether every row of the source is there: rows only the target has are other
/// machines' and not differences; joining, a team row (the identity, a phase) counts as there when the target has its key,
/// since the copy keeps the team's.
/// </summary>
public static class CatalogComparer
{
    public static async Task<IReadOnlyList<CatalogTableComparison>> CompareAsync(DbConnection source, string sourceName, DbConnection target, string targetName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        await CatalogCopier.ThrowIfVersionsDifferAsync(source, sourceName, target, targetName, cancellationToken).ConfigureAwait(false);
        var joins = (await CatalogCopier.IdentitiesAsync(source, target, cancellationToken).ConfigureAwait(false)).Joins;
        var shared = joins || await HoldsOtherMachinesAsync(source, target, cancellationToken).ConfigureAwait(false);
        var results = new List<CatalogTableComparison>();
        foreach (var table in CatalogTables.Transferred)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var columns = CatalogTables.SharedColumns(table,
                await CatalogConnections.ColumnsAsync(source, table.Name, cancellationToken).ConfigureAwait(false),
                await CatalogConnections.ColumnsAsync(target, table.Name, cancellationToken).ConfigureAwait(false));
            var comparison = table.Match == TableMatch.Key
                ? await CompareKeyedAsync(source, target, table, columns, shared, joins && table.Team, cancellationToken).ConfigureAwait(false)
                : await ComparePerSessionAsync(source, target, table, columns, shared, cancellationToken).ConfigureAwait(false);
            results.Add(comparison with { Source = sourceName, Target = targetName, Shared = shared });
        }
        return results;
    }

    /// <summary>True when the target holds sessions recorded on a machine none of the source's sessions were recorded on.</summary>
    private static async Task<bool> HoldsOtherMachinesAsync(DbConnection source, DbConnection target, CancellationToken cancellationToken)
    {
        const string Sql = "SELECT DISTINCT lower(machine) FROM sessions WHERE machine IS NOT NULL";
        var ours = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in RowReader.ReadAsync(source, Sql, [], cancellationToken).ConfigureAwait(false)) ours.Add((string)row[0]!);
        await foreach (var row in RowReader.ReadAsync(target, Sql, [], cancellationToken).ConfigureAwait(false))
            if (!ours.Contains((string)row[0]!)) return true;
        return false;
    }

    /// <param name="shared">Only the source's keys count (the target is shared with other machines).</param>
    /// <param name="teamRows">The target's row of a key is the team's (joining): its presence is enough.</param>
    private static async Task<CatalogTableComparison> CompareKeyedAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns,
        bool shared, bool teamRows, CancellationToken cancellationToken)
    {
        var ours = await TableState.ReadKeyedMapAsync(source, table, columns, cancellationToken).ConfigureAwait(false);
        var theirs = await TableState.ReadKeyedMapAsync(target, table, columns, cancellationToken).ConfigureAwait(false);
        var differences = new List<CatalogDifference>();
        foreach (var key in (shared ? ours.Keys : ours.Keys.Union(theirs.Keys)).Order(StringComparer.Ordinal))
        {
            var kind = (ours.TryGetValue(key, out var a), theirs.TryGetValue(key, out var b)) switch
            {
                (true, false) => CatalogDifferenceKind.Missing,
                (false, true) => CatalogDifferenceKind.Extra,
                _ when teamRows => null,
                _ when a!.Hash.AsSpan().SequenceEqual(b!.Hash) => (CatalogDifferenceKind?)null,
                _ => CatalogDifferenceKind.Changed,
            };
            if (kind is { } k) differences.Add(new CatalogDifference { Table = table.Name, Key = key, Kind = k });
        }
        var held = shared ? theirs.Values.Where(r => ours.ContainsKey(r.Key)).ToList() : theirs.Values.ToList();
        var sourceHash = TableState.TableHash(ours.Values.Select(r => (r.Key, r.Hash)));
        var targetHash = TableState.TableHash(held.Select(r => (r.Key, r.Hash)));
        return Result(table, ours.Count, held.Count, sourceHash, targetHash, differences, shared);
    }

    private static async Task<CatalogTableComparison> ComparePerSessionAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, bool shared, CancellationToken cancellationToken)
    {
        var ours = await TableState.HashPerSessionAsync(source, table, columns, null, cancellationToken).ConfigureAwait(false);
        var theirs = await TableState.HashPerSessionAsync(target, table, columns, shared ? ours.Keys.ToHashSet(StringComparer.Ordinal) : null, cancellationToken).ConfigureAwait(false);
        var differences = new List<CatalogDifference>();
        foreach (var session in ours.Keys.Union(theirs.Keys).Order(StringComparer.Ordinal))
        {
            ours.TryGetValue(session, out var a);
            theirs.TryGetValue(session, out var b);
            if (a is not null && b is not null && a.Count == b.Count && a.Hash.AsSpan().SequenceEqual(b.Hash)) continue;
            if (differences.Count > CatalogDifference.Limit) break;
            differences.AddRange(await FirstDifferenceAsync(source, target, table, columns, session, cancellationToken).ConfigureAwait(false));
        }
        var sourceHash = TableState.TableHash(ours.Select(s => (s.Key, s.Value.Hash)));
        var targetHash = TableState.TableHash(theirs.Select(s => (s.Key, s.Value.Hash)));
        return Result(table, ours.Values.Sum(s => s.Count), theirs.Values.Sum(s => s.Count), sourceHash, targetHash, differences, shared);
    }

    /// <summary>The first position where one session's rows differ, and the rows one side has beyond the other's.</summary>
    private static async Task<IEnumerable<CatalogDifference>> FirstDifferenceAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, string session, CancellationToken cancellationToken)
    {
        var ours = TableState.ReadSessionAsync(source, table, columns, session, 0, null, cancellationToken).GetAsyncEnumerator(cancellationToken);
        // The target's side as row hashes first (32 bytes a row), then the source's streamed against it.
        var theirsRows = new List<byte[]>();
        await foreach (var row in TableState.ReadSessionAsync(target, table, columns, session, 0, null, cancellationToken).ConfigureAwait(false))
            theirsRows.Add(RowEncoding.HashRow(row));
        try
        {
            long position = 0;
            while (await ours.MoveNextAsync().ConfigureAwait(false))
            {
                var hash = RowEncoding.HashRow(ours.Current);
                if (position >= theirsRows.Count) return [Difference(table, session, position, CatalogDifferenceKind.Missing)];
                if (!hash.AsSpan().SequenceEqual(theirsRows[(int)position])) return [Difference(table, session, position, CatalogDifferenceKind.Changed)];
                position++;
            }
            return position < theirsRows.Count ? [Difference(table, session, position, CatalogDifferenceKind.Extra)] : [];
        }
        finally
        {
            await ours.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static CatalogDifference Difference(CatalogTable table, string session, long position, CatalogDifferenceKind kind) => new()
    {
        Table = table.Name,
        Key = string.Create(CultureInfo.InvariantCulture, $"{table.SessionColumn}={session},#{position + 1}"),
        Kind = kind,
    };

    /// <param name="shared">Only the source's rows count (the target is a team's): the hashes of team rows may differ.</param>
    private static CatalogTableComparison Result(CatalogTable table, long sourceRows, long targetRows, string sourceHash, string targetHash, List<CatalogDifference> differences, bool shared) => new()
    {
        Table = table.Name,
        SourceRows = sourceRows,
        TargetRows = targetRows,
        SourceHash = sourceHash,
        TargetHash = targetHash,
        Match = differences.Count == 0 && (shared || (sourceRows == targetRows && sourceHash == targetHash)),
        Differences = differences.Take(CatalogDifference.Limit).ToList(),
        MoreDifferences = differences.Count > CatalogDifference.Limit,
    };
}
