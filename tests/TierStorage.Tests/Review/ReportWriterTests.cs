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
        foreach (var r in written.Recommendations) Assert.Contains("- " + MarkdownText.Escape(r), md, StringComparison.Ordinal);

        var html = await File.ReadAllTextAsync(Path.Combine(outDir, PhaseReportWriter.HtmlFile));
        Assert.Equal(5, CountOf(html, "<svg "));
        foreach (var t in PhaseReportWriter.SectionTitles) Assert.Contains("<h2>" + t + "</h2>", html, StringComparison.Ordinal);
        foreach (var start in AllIndexes(html, "<svg "))
            XDocument.Parse(html[start..(html.IndexOf("</svg>", start, StringComparison.Ordinal) + 6)]);

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, PhaseReportWriter.MetadataFile)));
        Assert.Equal(1, json.RootElement.GetProperty("phase").GetInt32());
        Assert.Equal(19, json.RootElement.GetProperty("event_count").GetInt64());
    }

    [Fact]
    public void Names_from_events_are_literal_text_in_the_markdown_report_and_carry_no_control_characters()
    {
        // Issue 11 #16: raw <script>, javascript: links, remote images, a heading injected through a newline and NUL
        // bytes all reached phase_insights.md (the HTML was escaped already; it loses the NULs here).
        string[] hostile =
        [
            "<script>alert(1)</script>", "[click](javascript:alert(1))", "![x](https://evil.example/p.png)",
            "model\n# Injected heading", "nul\0byte", "<https://evil.example>", "`code` & *bold*",
        ];
        var review = new TierStorage.Contracts.PhaseReview
        {
            Phase = 2,
            PhaseName = "build\n# Owned",
            Tokens = hostile.Select(h => new TierStorage.Contracts.ModelCostRow { Model = h, Calls = 1 }).ToList(),
            Tools = [new TierStorage.Contracts.ToolRow { Tool = "<img src=x onerror=alert(1)>", Calls = 1 }],
            Warnings = ["- [see](javascript:void(0))"],
            Recommendations = ["# Heading <b>bold</b>"],
            ExecutiveSummary = "1. not a list <i>",
        };

        var md = PhaseReportWriter.RenderMarkdown(review);
        var html = PhaseReportWriter.RenderHtml(review);

        // No tag, autolink, link, image or code span can open: each of < [ ] ` is escaped wherever it appears.
        Assert.Empty(System.Text.RegularExpressions.Regex.Matches(md, @"(?<!\\)[<\[\]`]"));
        foreach (var raw in new[] { "\n# Injected", "\n# Owned", "\n# Heading", "\0" })
            Assert.DoesNotContain(raw, md, StringComparison.Ordinal);
        Assert.Contains("\\<script\\>alert(1)\\</script\\>", md, StringComparison.Ordinal);
        Assert.Contains("- \\- \\[see\\](javascript:void(0))", md, StringComparison.Ordinal);
        Assert.Contains("\n1\\. not a list", md, StringComparison.Ordinal);
        Assert.Single(md.Split('\n'), line => line.StartsWith("# ", StringComparison.Ordinal));
        Assert.DoesNotContain("\0", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value) => AllIndexes(text, value).Count();

    private static IEnumerable<int> AllIndexes(string text, string value)
    {
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal)) yield return i;
    }
}
