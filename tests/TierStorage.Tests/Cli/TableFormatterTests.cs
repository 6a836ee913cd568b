using TierStorage.Cli.Output;
using Xunit;

namespace TierStorage.Tests.Cli;

public class TableFormatterTests
{
    private static string Render(TableFormatter table, params string?[][] rows)
    {
        var writer = new StringWriter { NewLine = "\n" };
        table.Write(writer, rows);
        return writer.ToString();
    }

    [Fact]
    public void Columns_are_as_wide_as_their_widest_cell_or_header()
    {
        var text = Render(
            new TableFormatter(new TableColumn("SESSION"), new TableColumn("N", ColumnAlignment.Right), new TableColumn("NOTE")),
            ["session_20260101_100000", "7", "kept"],
            ["s2", "1234", null]);

        Assert.Equal(
            "SESSION                     N  NOTE\n" +
            "-----------------------  ----  ----\n" +
            "session_20260101_100000     7  kept\n" +
            "s2                       1234\n",
            text);
    }

    [Fact]
    public void Lines_have_no_trailing_spaces()
    {
        var text = Render(new TableFormatter(new TableColumn("A"), new TableColumn("B")), ["x", ""], ["longer", ""]);

        Assert.All(text.Split('\n'), line => Assert.Equal(line.TrimEnd(), line));
    }

    [Fact]
    public void A_capped_column_cuts_long_cells_with_an_ellipsis_but_the_last_column_never_cuts()
    {
        var text = Render(
            new TableFormatter(new TableColumn("NAME", Width: 6), new TableColumn("PATH", Width: 4)),
            ["abcdefghij", "/a/very/long/path"]);

        var row = text.Split('\n')[2];
        Assert.Equal("abcde…  /a/very/long/path", row);
    }

    [Fact]
    public void A_cap_narrower_than_the_header_keeps_the_header_whole()
    {
        var text = Render(new TableFormatter(new TableColumn("HEADER", Width: 2), new TableColumn("X")), ["abcdefgh", "1"]);

        Assert.StartsWith("HEADER  X\n------  -\nabcde…  1", text);
    }

    [Fact]
    public void Line_breaks_and_tabs_inside_a_cell_do_not_break_the_row()
    {
        var text = Render(new TableFormatter(new TableColumn("A"), new TableColumn("B")), ["one\ntwo", "x\ty"]);

        Assert.Equal(3, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("one two  x y", text);
    }

    [Fact]
    public void An_empty_table_still_has_its_header()
    {
        var text = Render(new TableFormatter(new TableColumn("ID"), new TableColumn("STATE")));

        Assert.Equal("ID  STATE\n--  -----\n", text);
    }

    [Fact]
    public void Streamed_rows_use_fixed_widths_so_each_row_prints_as_it_arrives()
    {
        var table = new TableFormatter(new TableColumn("TYPE", Width: 9), new TableColumn("MS", ColumnAlignment.Right, 5), new TableColumn("FILE"));
        var writer = new StringWriter { NewLine = "\n" };

        table.WriteHeader(writer);
        table.WriteRow(writer, ["tool_call", "12", "a.cs"]);
        table.WriteRow(writer, ["agent_invocation", "123456", "b.cs"]);

        Assert.Equal(
            "TYPE          MS  FILE\n" +
            "---------  -----  ----\n" +
            "tool_call     12  a.cs\n" +
            "agent_in…  123456  b.cs\n",
            writer.ToString());
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_cells_is_a_bug_and_throws()
    {
        var table = new TableFormatter(new TableColumn("A"), new TableColumn("B"));

        Assert.Throws<ArgumentException>(() => table.WriteRow(new StringWriter(), ["only one"]));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KB")]
    [InlineData(5L * 1024 * 1024, "5.0 MB")]
    [InlineData(3L * 1024 * 1024 * 1024 * 1024, "3.0 TB")]
    public void Sizes_read_in_binary_units(long bytes, string expected) => Assert.Equal(expected, Display.Bytes(bytes));

    [Theory]
    [InlineData(42, "42s")]
    [InlineData(125, "2m 5s")]
    [InlineData(3 * 3600 + 60 * 7, "3h 7m")]
    [InlineData(26 * 3600, "1d 2h 0m")]
    public void Durations_read_at_a_glance(int seconds, string expected) => Assert.Equal(expected, Display.Duration(TimeSpan.FromSeconds(seconds)));
}
