using System.Collections;
using System.Reflection;
using System.Xml.Linq;
using TierStorage.Contracts;
using TierStorage.Tests.PowerShell;
using Xunit;

namespace TierStorage.Tests.Contracts;

/// <summary>What PowerShell users read: sizes, durations, nested records and lists as short text (Format-List, Export-Csv),
/// record properties that member enumeration does not shadow, and table views that fit 80 columns.</summary>
public sealed class ReadableTextTests
{
    private static readonly Type[] Records = typeof(SessionInfo).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsGenericType: false, Namespace: "TierStorage.Contracts" }
            && !typeof(Exception).IsAssignableFrom(t) && !typeof(IEnumerable).IsAssignableFrom(t) && !t.IsAbstract)
        .ToArray();

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(812L, "812 B")]
    [InlineData(1024L, "1.0 KB")]
    [InlineData(12_897_485L, "12.3 MB")]
    [InlineData(1_048_575L, "1.0 MB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0 GB")]
    public void Bytes_read_in_binary_units_with_one_decimal(long bytes, string expected) => Assert.Equal(expected, Readable.Bytes(bytes));

    [Theory]
    [InlineData(850, "850 ms")]
    [InlineData(4_200, "4.2s")]
    [InlineData(185_000, "3m 05s")]
    [InlineData(7_620_000, "2h 07m")]
    public void Durations_read_short(long milliseconds, string expected) =>
        Assert.Equal(expected, Readable.Duration(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Token_usage_reads_as_its_counts() =>
        Assert.Equal("in 1200 / out 340 / cache r 0 w 0", new TokenUsage { Input = 1200, Output = 340 }.ToString());

    [Fact]
    public void Lists_of_records_read_as_their_items_not_their_type()
    {
        var result = new BackupResult
        {
            Files = [new BackupFile { Name = "activity.jsonl.gz", SizeBytes = 2048, Verified = true }, new BackupFile { Name = "handoff.md", SizeBytes = 10 }],
            PrunedSessions = new List<string> { "session_a", "session_b" },
        };
        Assert.Equal("activity.jsonl.gz 2.0 KB verified; handoff.md 10 B unverified", result.Files.ToString());
        Assert.Equal("session_a; session_b", result.PrunedSessions.ToString());
        Assert.Equal("", new BackupResult().Files.ToString());
    }

    [Fact]
    public void Event_data_reads_as_compact_json()
    {
        var e = new SessionEvent { Data = new Dictionary<string, object?> { ["lines"] = 12L, ["hunks"] = new List<object?> { 1L, 2L }, ["note"] = null } };
        Assert.Equal("""{"lines":12,"hunks":[1,2],"note":null}""", e.Data!.ToString());
        Assert.IsAssignableFrom<IDictionary>(e.Data);
    }

    [Fact]
    public void Every_record_reads_as_text_where_another_record_holds_it()
    {
        // A record held by another (a property, or the items of a list property) shows its ToString in Format-List and
        // Export-Csv; the compiler's "TypeName { A = 1, ... }" is noise there.
        var nested = Records.SelectMany(r => r.GetProperties()).Select(p => p.PropertyType)
            .Select(t => t.IsGenericType && typeof(IEnumerable).IsAssignableFrom(t) ? t.GetGenericArguments()[^1] : t)
            .Select(t => Nullable.GetUnderlyingType(t) ?? t)
            .Where(t => Records.Contains(t)).Distinct();
        Assert.Empty(nested.Where(t => t.GetMethod(nameof(ToString), Type.EmptyTypes)!.DeclaringType != t)
            .Select(t => $"{t.Name} is held by another record but has no ToString of its own"));
    }

    [Fact]
    public void No_record_property_is_shadowed_by_a_collection_member()
    {
        // (records | Where-Object ...).Item is PowerShell's IList.Item, not each record's Item: member enumeration loses.
        string[] shadowed = ["Item", "Count", "Length", "Keys", "Values", "Rank", "SyncRoot"];
        Assert.Empty(Records.SelectMany(r => r.GetProperties().Where(p => shadowed.Contains(p.Name)).Select(p => $"{r.Name}.{p.Name}")));
    }

    [Fact]
    public void Every_table_view_fits_80_columns()
    {
        var formats = XDocument.Load(Path.Combine(ModulePaths.RepoRoot, "module", "TierStorage.format.ps1xml"));
        var problems = new List<string>();
        foreach (var view in formats.Descendants("View").Where(v => v.Element("TableControl") is not null))
        {
            var name = view.Element("Name")!.Value;
            var headers = view.Descendants("TableColumnHeader").ToList();
            var items = view.Descendants("TableColumnItems").Single().Elements("TableColumnItem").Count();
            if (items != headers.Count) problems.Add($"{name}: {headers.Count} headers for {items} items");
            var widths = headers.Select(h => (int?)h.Element("Width") ?? 0).ToList();
            if (widths.SkipLast(1).Any(w => w == 0)) problems.Add($"{name}: a column before the last has no width");
            var last = widths[^1] > 0 ? widths[^1] : headers[^1].Element("Label")!.Value.Length;
            var total = widths.SkipLast(1).Sum() + headers.Count - 1 + last;
            if (total > 80) problems.Add($"{name}: {total} columns");
        }
        Assert.Empty(problems);
    }
}
