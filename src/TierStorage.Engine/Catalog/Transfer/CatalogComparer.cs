using System.Data.Common;
using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>
/// Compares two catalogs table by table (Test-TierCatalog): row counts and a SHA-256 over a canonical encoding of the
/// rows (<see cref="RowEncoding"/>) over the columns both sides have, keyed tables in key order, events and backup runs
/// per session in id order without their ids (each database assigns its own). Where the hashes differ, per-key (per
/// session, then per position) hashes name the first rows that differ.
/// </summary>
public static class CatalogComparer
{
    public static async Task<IReadOnlyList<CatalogTableComparison>> CompareAsync(DbConnection source, string sourceName, DbConnection target, string targetName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        await CatalogCopier.ThrowIfVersionsDifferAsync(source, sourceName, target, targetName, cancellationToken).ConfigureAwait(false);
        var results = new List<CatalogTableComparison>();
        foreach (var table in CatalogTables.Transferred)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var columns = CatalogTables.SharedColumns(table,
                await CatalogConnections.ColumnsAsync(source, table.Name, cancellationToken).ConfigureAwait(false),
                await CatalogConnections.ColumnsAsync(target, table.Name, cancellationToken).ConfigureAwait(false));
            var comparison = table.Match == TableMatch.Key
                ? await CompareKeyedAsync(source, target, table, columns, cancellationToken).ConfigureAwait(false)
                : await ComparePerSessionAsync(source, target, table, columns, cancellationToken).ConfigureAwait(false);
            results.Add(comparison with { Source = sourceName, Target = targetName });
        }
        return results;
    }

    private static async Task<CatalogTableComparison> CompareKeyedAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, CancellationToken cancellationToken)
    {
        var ours = await TableState.ReadKeyedMapAsync(source, table, columns, cancellationToken).ConfigureAwait(false);
        var theirs = await TableState.ReadKeyedMapAsync(target, table, columns, cancellationToken).ConfigureAwait(false);
        var differences = new List<CatalogDifference>();
        foreach (var key in ours.Keys.Union(theirs.Keys).Order(StringComparer.Ordinal))
        {
            var kind = (ours.TryGetValue(key, out var a), theirs.TryGetValue(key, out var b)) switch
            {
                (true, false) => CatalogDifferenceKind.Missing,
                (false, true) => CatalogDifferenceKind.Extra,
                _ when a!.Hash.AsSpan().SequenceEqual(b!.Hash) => (CatalogDifferenceKind?)null,
                _ => CatalogDifferenceKind.Changed,
            };
            if (kind is { } k) differences.Add(new CatalogDifference { Table = table.Name, Key = key, Kind = k });
        }
        var sourceHash = TableState.TableHash(ours.Values.Select(r => (r.Key, r.Hash)));
        var targetHash = TableState.TableHash(theirs.Values.Select(r => (r.Key, r.Hash)));
        return Result(table, ours.Count, theirs.Count, sourceHash, targetHash, differences);
    }

    private static async Task<CatalogTableComparison> ComparePerSessionAsync(DbConnection source, DbConnection target, CatalogTable table, List<string> columns, CancellationToken cancellationToken)
    {
        var ours = await TableState.HashPerSessionAsync(source, table, columns, null, cancellationToken).ConfigureAwait(false);
        var theirs = await TableState.HashPerSessionAsync(target, table, columns, null, cancellationToken).ConfigureAwait(false);
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
        return Result(table, ours.Values.Sum(s => s.Count), theirs.Values.Sum(s => s.Count), sourceHash, targetHash, differences);
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

    private static CatalogTableComparison Result(CatalogTable table, long sourceRows, long targetRows, string sourceHash, string targetHash, List<CatalogDifference> differences) => new()
    {
        Table = table.Name,
        SourceRows = sourceRows,
        TargetRows = targetRows,
        SourceHash = sourceHash,
        TargetHash = targetHash,
        Match = sourceRows == targetRows && sourceHash == targetHash && differences.Count == 0,
        Differences = differences.Take(CatalogDifference.Limit).ToList(),
        MoreDifferences = differences.Count > CatalogDifference.Limit,
    };
}
