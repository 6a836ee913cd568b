namespace TierStorage.Cli.Output;

public enum ColumnAlignment
{
    Left,
    Right,
}

/// <summary>A table column. <paramref name="Width"/> caps a buffered table and fixes a streamed one (right-aligned cells overflow rather than cut).</summary>
public sealed record TableColumn(string Header, ColumnAlignment Alignment = ColumnAlignment.Left, int? Width = null);

/// <summary>
/// Aligned text tables for human output. <see cref="Write"/> sizes columns from the content;
/// <see cref="WriteHeader"/> and <see cref="WriteRow"/> use fixed widths so long listings stream row by row.
/// </summary>
public sealed class TableFormatter
{
    private const string Gap = "  ";
    private const char Ellipsis = '…';
    private readonly IReadOnlyList<TableColumn> _columns;

    public TableFormatter(params TableColumn[] columns)
    {
        if (columns.Length == 0) throw new ArgumentException("A table needs at least one column.", nameof(columns));
        _columns = columns;
    }

    public void Write(TextWriter writer, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var cells = rows.Select(Normalize).ToList();
        var widths = new int[_columns.Count];
        for (var i = 0; i < widths.Length; i++)
        {
            var widest = cells.Select(r => r[i].Length).Prepend(_columns[i].Header.Length).Max();
            widths[i] = _columns[i].Width is { } cap ? Math.Min(widest, Math.Max(cap, _columns[i].Header.Length)) : widest;
        }

        WriteLines(writer, widths, cells);
    }

    public void WriteHeader(TextWriter writer) => WriteLines(writer, FixedWidths(), []);

    public void WriteRow(TextWriter writer, IReadOnlyList<string?> row) => writer.WriteLine(FormatLine(Normalize(row), FixedWidths()));

    private int[] FixedWidths() => _columns.Select(c => Math.Max(c.Width ?? 0, c.Header.Length)).ToArray();

    private void WriteLines(TextWriter writer, int[] widths, List<string[]> rows)
    {
        writer.WriteLine(FormatLine(_columns.Select(c => c.Header).ToArray(), widths));
        writer.WriteLine(FormatLine(widths.Select(w => new string('-', w)).ToArray(), widths));
        foreach (var row in rows) writer.WriteLine(FormatLine(row, widths));
    }

    private string FormatLine(string[] cells, int[] widths)
    {
        var parts = new string[cells.Length];
        for (var i = 0; i < cells.Length; i++)
        {
            // Never cut the last column (free text people read in full) or a right-aligned one (a cut number lies);
            // they overflow instead.
            var rightAligned = _columns[i].Alignment == ColumnAlignment.Right;
            var mayCut = i < cells.Length - 1 && !rightAligned;
            var text = mayCut && cells[i].Length > widths[i] ? cells[i][..(widths[i] - 1)] + Ellipsis : cells[i];
            parts[i] = rightAligned ? text.PadLeft(widths[i]) : text.PadRight(widths[i]);
        }

        return string.Join(Gap, parts).TrimEnd();
    }

    private string[] Normalize(IReadOnlyList<string?> row)
    {
        if (row.Count != _columns.Count)
            throw new ArgumentException($"Row has {row.Count} cells; the table has {_columns.Count} columns.", nameof(row));

        // A line break or tab inside a cell would tear the row apart.
        return row.Select(c => (c ?? "").ReplaceLineEndings(" ").Replace('\t', ' ')).ToArray();
    }
}
