using System.Globalization;

namespace TierStorage.Contracts;

/// <summary>How one table of a catalog compares between two catalogs (Test-TierCatalog, Copy-TierCatalog).</summary>
public sealed record CatalogTableComparison
{
    public string Table { get; init; } = "";
    /// <summary>Where the rows come from: the workspace's catalog (a file path, or postgres://user@host:port/db).</summary>
    public string Source { get; init; } = "";
    /// <summary>The catalog compared with it.</summary>
    public string Target { get; init; } = "";
    public long SourceRows { get; init; }
    public long TargetRows { get; init; }
    /// <summary>SHA-256 over the canonical encoding of the source's rows, ordered by key (events and backup runs per
    /// session in id order, without the id).</summary>
    public string SourceHash { get; init; } = "";
    public string TargetHash { get; init; } = "";
    /// <summary>Same rows, same content, on both sides; when <see cref="Shared"/>, every row of the source is in the target, the same.</summary>
    public bool Match { get; init; }
    /// <summary>The target is shared with other machines (a team's catalog: another workspace's, which this one joins, or
    /// one that holds sessions of machines the source has none of): rows only the target has are theirs, not differences;
    /// joining, its identity and phases are the team's (a phase counts as there when the team has its number).
    /// TargetRows and TargetHash then cover only the target's rows of the source's keys and sessions.</summary>
    public bool Shared { get; init; }
    /// <summary>The first few rows that differ (at most <see cref="CatalogDifference.Limit"/> per table).</summary>
    public IReadOnlyList<CatalogDifference> Differences { get; init; } = [];
    /// <summary>More rows differ than <see cref="Differences"/> lists.</summary>
    public bool MoreDifferences { get; init; }

    public override string ToString() => Match ? (Shared ? $"{Table}: match ({SourceRows} rows, in a shared catalog)" : $"{Table}: match ({SourceRows} rows)") : $"{Table}: {SourceRows} vs {TargetRows} rows, {Differences.Count}{(MoreDifferences ? "+" : "")} differences";
}

/// <summary>What differs about one row between two catalogs.</summary>
public enum CatalogDifferenceKind
{
    /// <summary>In the source, not in the target.</summary>
    Missing,
    /// <summary>In the target, not in the source.</summary>
    Extra,
    /// <summary>On both sides, with different values.</summary>
    Changed,
}

/// <summary>One differing row: its table, its key (for events and backup runs: session and ordinal), and how.</summary>
public sealed record CatalogDifference
{
    /// <summary>How many differences a comparison lists per table.</summary>
    public const int Limit = 5;

    public string Table { get; init; } = "";
    /// <summary>column=value pairs of the key, or session_id=...,#n (the n-th, from 1) for events and backup runs.</summary>
    public string Key { get; init; } = "";
    public CatalogDifferenceKind Kind { get; init; }

    public override string ToString() => $"{Kind} {Table} {Key}";
}

/// <summary>Rows the copy did not write because the target already holds them differently; never overwritten.</summary>
public sealed record CatalogConflict
{
    public string Table { get; init; } = "";
    /// <summary>The session (or key) concerned.</summary>
    public string Key { get; init; } = "";
    /// <summary>What differs and what to do about it.</summary>
    public string Reason { get; init; } = "";

    public override string ToString() => $"{Table} {Key}: {Reason}";
}

/// <summary>What a copy of one table wrote.</summary>
public sealed record CatalogTableCopy
{
    public string Table { get; init; } = "";
    public long SourceRows { get; init; }
    /// <summary>Rows inserted or updated in the target.</summary>
    public long RowsWritten { get; init; }
    /// <summary>Target rows removed because the source no longer has them (a mirror sync only).</summary>
    public long RowsDeleted { get; init; }
    /// <summary>Left out: the table was the same on both sides, or the table is a cache the target rebuilds.</summary>
    public bool Skipped { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Table}: {RowsWritten} written of {SourceRows}");
}

/// <summary>The result of a catalog copy or sync: what each table wrote, and the rows left alone as conflicts.</summary>
public sealed record CatalogCopyResult
{
    public string Source { get; init; } = "";
    public string Target { get; init; } = "";
    public IReadOnlyList<CatalogTableCopy> Tables { get; init; } = [];
    public IReadOnlyList<CatalogConflict> Conflicts { get; init; } = [];
    /// <summary>The target's identity when it was another workspace's (a team's catalog, which this workspace joins as one
    /// more machine): kept, with the target's phases; null when the target was empty or this workspace's own.</summary>
    public string? Joined { get; init; }
    /// <summary>Rows of the team's catalog kept over this workspace's different ones (a phase of the same number): warnings, not conflicts.</summary>
    public IReadOnlyList<CatalogConflict> Kept { get; init; } = [];
    public long RowsWritten => Tables.Sum(t => t.RowsWritten);
    public TimeSpan Duration { get; init; }
}

/// <summary>Progress of a catalog copy: the table being copied and its rows done so far.</summary>
public sealed record CatalogCopyProgress(string Table, long RowsDone, long RowsTotal, int TableIndex, int TableCount);
