using System.Text.Json;
using System.Xml.Linq;
using TierStorage.Engine.Review;
using Xunit;

namespace TierStorage.Tests.Review;

public sealed class ReportWriterTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly ReviewFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Bar_chart_is_well_formed_with_one_bar_per_label_and_escaped_text()
    {
        var svg = SvgChart.BarChart("Tools <&> \"quoted\"", [("Read", 6), ("<script>&'", 2), ("Edit", 0)]);
        var doc = XDocument.Parse(svg);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.NotNull(doc.Root.Attribute("viewBox"));
        Assert.Equal(3, doc.Descendants(Svg + "rect").Count(r => (string?)r.Attribute("class") == "bar"));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "<script>&'");
        Assert.DoesNotContain("<script>", svg, StringComparison.Ordinal);
        Assert.Equal("Tools <&> \"quoted\"", doc.Root.Element(Svg + "title")!.Value);
    }

    [Fact]
    public void Histogram_has_one_bar_per_bucket_scaled_to_the_largest()
    {
        var doc = XDocument.Parse(SvgChart.Histogram("Latency", [("≤100 ms", 4), ("≤250 ms", 2), (">250 ms", 0)]));
        var bars = doc.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "bar").ToList();
        Assert.Equal(3, bars.Count);
        var heights = bars.Select(b => double.Parse((string)b.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(heights[0] / 2, heights[1], 2);
        Assert.Equal(0, heights[2]);
    }

    [Fact]
    public async Task Reports_have_every_section_in_order_and_the_html_has_the_charts()
    {
        TierStorage.Contracts.PhaseReview review;
        await using (var db = await _fixture.BuildAsync())
            review = await PhaseReviewer.ReviewAsync(db, ReviewFixture.Policy(), 1, CancellationToken.None);
        var outDir = Path.Combine(_fixture.Directory, "insights");
        var written = await PhaseReportWriter.WriteAsync(review, outDir, CancellationToken.None);
        Assert.Equal(3, written.ReportPaths.Count);
        Assert.All(written.ReportPaths, p => Assert.True(File.Exists(p), p));

        var md = await File.ReadAllTextAsync(Path.Combine(outDir, PhaseReportWriter.MarkdownFile));
        Assert.StartsWith("# Phase 1 Insights: Build", md, StringComparison.Ordinal);
        var positions = PhaseReportWriter.SectionTitles.Select(t => md.IndexOf("## " + t + "\n", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(-1, positions);
        Assert.Equal(positions.Order(), positions);
        Assert.Contains("| tool_call | 8 |", md, StringComparison.Ordinal);
        Assert.Contains("⚠️", md, StringComparison.Ordinal);
        Assert.Contains("✅", md, StringComparison.Ordinal);
        Assert.Contains("| Total (unpriced) | 4 | 161,100 | 3,500 | 1,400 | 62,000 | $0.9931 |", md, StringComparison.Ordinal);
        foreach (var r in written.Recommendations) Assert.Contains("- " + r, md, StringComparison.Ordinal);

        var html = await File.ReadAllTextAsync(Path.Combine(outDir, PhaseReportWriter.HtmlFile));
        Assert.Equal(5, CountOf(html, "<svg "));
        foreach (var t in PhaseReportWriter.SectionTitles) Assert.Contains("<h2>" + t + "</h2>", html, StringComparison.Ordinal);
        foreach (var start in AllIndexes(html, "<svg "))
            XDocument.Parse(html[start..(html.IndexOf("</svg>", start, StringComparison.Ordinal) + 6)]);

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, PhaseReportWriter.MetadataFile)));
        Assert.Equal(1, json.RootElement.GetProperty("phase").GetInt32());
        Assert.Equal(19, json.RootElement.GetProperty("event_count").GetInt64());
    }

    private static int CountOf(string text, string value) => AllIndexes(text, value).Count();

    private static IEnumerable<int> AllIndexes(string text, string value)
    {
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal)) yield return i;
    }
}
