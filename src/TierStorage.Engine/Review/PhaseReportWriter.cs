using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Review;

/// <summary>
/// Writes phase_insights.md, phase_insights.html (the same sections as HTML plus inline SVG charts) and
/// phase_metadata.json. Both documents are rendered from one list of sections, so they cannot drift apart.
/// </summary>
public static class PhaseReportWriter
{
    public const string MarkdownFile = "phase_insights.md";
    public const string HtmlFile = "phase_insights.html";
    public const string MetadataFile = "phase_metadata.json";

    /// <summary>Section titles in the order of the issue's list; the Markdown and the HTML both use them.</summary>
    public static readonly IReadOnlyList<string> SectionTitles =
    [
        "Data Warnings", "Latency", "Tokens and Cost", "Budget Adherence", "Agent Performance", "Error Analysis", "Bottlenecks",
        "Tool Usage Effectiveness", "Success Metrics", "Executive Summary", "Recommendations",
    ];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    internal sealed record Section(string Title, IReadOnlyList<string> Paragraphs, IReadOnlyList<string>? Headers = null,
        IReadOnlyList<IReadOnlyList<string>>? Rows = null, IReadOnlyList<string>? Bullets = null);

    /// <summary>Writes the three files into <paramref name="directory"/> and returns the review with ReportPaths set.</summary>
    public static async Task<PhaseReview> WriteAsync(PhaseReview review, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(review);
        Directory.CreateDirectory(directory);
        var md = Path.Combine(directory, MarkdownFile);
        var html = Path.Combine(directory, HtmlFile);
        var json = Path.Combine(directory, MetadataFile);
        var result = review with { ReportPaths = [md, html, json] };
        await File.WriteAllTextAsync(md, RenderMarkdown(result), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(html, RenderHtml(result), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(json, RenderMetadata(result), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        return result;
    }

    public static string Title(PhaseReview review)
    {
        ArgumentNullException.ThrowIfNull(review);
        return review.PhaseName is null ? $"Phase {review.Phase} Insights" : $"Phase {review.Phase} Insights: {review.PhaseName}";
    }

    internal static IReadOnlyList<Section> BuildSections(PhaseReview r)
    {
        var none = "None.";
        string Mark(bool? met) => met switch { true => "✅", false => "⚠️", null => "—" };
        string Avg(double? ms) => ms is { } v ? ReviewNarrative.Ms(v) : "n/a";
        string N(long v) => v.ToString("#,0", Invariant);

        var sections = new List<Section>
        {
            new(SectionTitles[0], r.Warnings.Count == 0 ? [none] : [], Bullets: r.Warnings),
            new(SectionTitles[1], r.Latency.Count == 0 ? ["No timed operations."] : ["Percentiles are nearest-rank over every duration; targets (review.latency_targets_ms in the policy) apply to p95."],
                ["Operation", "Count", "Average", "P50", "P95", "P99", "Target", "Status"],
                r.Latency.Select(l => (IReadOnlyList<string>)[l.Operation, N(l.EventCount), ReviewNarrative.Ms(l.AverageMs), ReviewNarrative.Ms(l.P50Ms),
                    ReviewNarrative.Ms(l.P95Ms), ReviewNarrative.Ms(l.P99Ms), l.TargetMs is { } t ? ReviewNarrative.Ms(t) : "—", Mark(l.Met)]).ToList()),
            new(SectionTitles[2],
                [r.CostPerTask is { } perTask ? $"Cost per task: {ReviewNarrative.Usd(perTask)} over {r.TaskCount} tasks." : "Cost per task: n/a (no tasks recorded)."],
                ["Model", "Calls", "Input", "Output", "Cache write", "Cache read", "Cost (USD)"],
                r.Tokens.Append(r.Total).Select(m => (IReadOnlyList<string>)[m.Model + (m.Priced ? "" : " (unpriced)"), N(m.Calls), N(m.InputTokens),
                    N(m.OutputTokens), N(m.CacheWriteTokens), N(m.CacheReadTokens), ReviewNarrative.Usd(m.CostUsd)]).ToList()),
            new(SectionTitles[3], BudgetNotes(r),
                ["Budget", "Limit", "Actual", "Status"],
                r.Budget.Select(b => (IReadOnlyList<string>)[b.Budget, ReviewNarrative.Usd(b.LimitUsd), b.ActualUsd is { } a ? ReviewNarrative.Usd(a) : "n/a", Mark(b.Within)]).ToList()),
            new(SectionTitles[4], r.Agents.Count == 0 ? ["No agent activity."] : [],
                ["Agent", "Tasks", "Avg duration", "Success rate", "Tokens/task"],
                r.Agents.Select(a => (IReadOnlyList<string>)[a.Agent, N(a.Tasks), Avg(a.AverageDurationMs), ReviewNarrative.Percent(a.SuccessRate),
                    a.TokensPerTask is { } tpt ? tpt.ToString("#,0", Invariant) : "n/a"]).ToList()),
            new(SectionTitles[5], [$"{N(r.ErrorCount)} error(s) in total; top {r.Errors.Count} by occurrences. Fix rate: the same task or tool later succeeding on the same file."],
                ["Error", "Count", "Files", "Fix success rate"],
                r.Errors.Select(e => (IReadOnlyList<string>)[e.ErrorType, N(e.Occurrences), e.Files.Count == 0 ? "—" : string.Join(", ", e.Files),
                    ReviewNarrative.Percent(e.FixSuccessRate)]).ToList()),
            new(SectionTitles[6],
                [r.BottleneckThresholdMs is { } th ? $"Slowest 20% of operations: {ReviewNarrative.Ms(th)} and above." : "No timed operations."],
                ["Operation", "Tool", "Count", "Average", "P95"],
                r.Bottlenecks.Select(b => (IReadOnlyList<string>)[b.Operation, b.Tool ?? "—", N(b.EventCount), ReviewNarrative.Ms(b.AverageMs), ReviewNarrative.Ms(b.P95Ms)]).ToList()),
            new(SectionTitles[7], r.Tools.Count == 0 ? ["No tool calls."] : [],
                ["Tool", "Count", "Avg duration", "Success rate"],
                r.Tools.Select(t => (IReadOnlyList<string>)[t.Tool, N(t.Calls), Avg(t.AverageDurationMs), ReviewNarrative.Percent(t.SuccessRate)]).ToList()),
            new(SectionTitles[8], [],
                ["Metric", "Value"],
                [
                    ["Sessions", N(r.Sessions)], ["Events", N(r.EventCount)], ["Success rate", ReviewNarrative.Percent(r.SuccessRate)],
                    ["Errors", N(r.ErrorCount)], ["Tasks", N(r.TaskCount)], ["Total cost", ReviewNarrative.Usd(r.Total.CostUsd)],
                ]),
            new(SectionTitles[9], [r.ExecutiveSummary]),
            new(SectionTitles[10], r.Recommendations.Count == 0 ? ["No figure crossed a threshold."] : [], Bullets: r.Recommendations),
        };
        return sections;
    }

    private static IReadOnlyList<string> BudgetNotes(PhaseReview r)
    {
        if (r.Budget.Count == 0) return ["No budget is set (review.budget in the policy)."];
        var notes = new List<string> { "Limits from review.budget in the policy; the task figure is the phase's cost divided by its tasks; days are UTC." };
        if (!r.Total.Priced) notes.Add("Models without a price are not counted, so the actual spend is higher than shown.");
        return notes;
    }

    public static string RenderMarkdown(PhaseReview review)
    {
        // Every text below may carry names from events, transcripts or the policy: each is escaped, so the file stays
        // the report it claims to be (the HTML report is escaped the same way by HtmlEncode).
        var md = new StringBuilder().Append("# ").Append(MarkdownText.Escape(Title(review))).Append("\n\n");
        foreach (var section in BuildSections(review))
        {
            md.Append("## ").Append(section.Title).Append("\n\n");
            foreach (var p in section.Paragraphs) md.Append(MarkdownText.Escape(p)).Append("\n\n");
            if (section.Headers is { } headers && section.Rows is { Count: > 0 } rows)
            {
                md.Append("| ").Append(string.Join(" | ", headers.Select(Cell))).Append(" |\n");
                md.Append('|').Append(string.Concat(headers.Select(_ => " --- |"))).Append('\n');
                foreach (var row in rows) md.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
                md.Append('\n');
            }
            if (section.Bullets is { Count: > 0 } bullets)
            {
                foreach (var b in bullets) md.Append("- ").Append(MarkdownText.Escape(b)).Append('\n');
                md.Append('\n');
            }
        }
        return md.ToString();
    }

    private static string Cell(string text) => MarkdownText.Escape(text);

    public static string RenderHtml(PhaseReview review)
    {
        static string E(string s) => WebUtility.HtmlEncode(MarkdownText.WithoutControlCharacters(s));
        var html = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(Title(review))).Append("</title>")
            .Append("<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style>")
            .Append("</head><body>\n<h1>").Append(E(Title(review))).Append("</h1>\n");
        var charts = Charts(review);
        foreach (var section in BuildSections(review))
        {
            html.Append("<section><h2>").Append(E(section.Title)).Append("</h2>\n");
            foreach (var p in section.Paragraphs) html.Append("<p>").Append(E(p)).Append("</p>\n");
            if (section.Headers is { } headers && section.Rows is { Count: > 0 } rows)
            {
                html.Append("<table><tr>").Append(string.Concat(headers.Select(h => $"<th>{E(h)}</th>"))).Append("</tr>\n");
                foreach (var row in rows) html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{E(c)}</td>"))).Append("</tr>\n");
                html.Append("</table>\n");
            }
            if (section.Bullets is { Count: > 0 } bullets)
                html.Append("<ul>").Append(string.Concat(bullets.Select(b => $"<li>{E(b)}</li>"))).Append("</ul>\n");
            if (charts.TryGetValue(section.Title, out var svgs)) foreach (var svg in svgs) html.Append("<figure>").Append(svg).Append("</figure>\n");
            html.Append("</section>\n");
        }
        return html.Append("</body></html>\n").ToString();
    }

    private static Dictionary<string, List<string>> Charts(PhaseReview r)
    {
        var buckets = r.LatencyHistogram.Select((b, i) => (b.UpperMs == long.MaxValue
            ? $">{(i > 0 ? r.LatencyHistogram[i - 1].UpperMs : 0).ToString("#,0", Invariant)} ms"
            : $"≤{b.UpperMs.ToString("#,0", Invariant)} ms", b.EventCount)).ToList();
        return new Dictionary<string, List<string>>(StringComparer.Ordinal)
        {
            [SectionTitles[1]] = [SvgChart.Histogram("Latency histogram (all operations)", buckets)],
            [SectionTitles[2]] =
            [
                SvgChart.BarChart("Tokens per day", r.Daily.Select(d => (d.Day.ToString("yyyy-MM-dd", Invariant), (double)d.Tokens)).ToList()),
                SvgChart.BarChart("Cost per day (USD)", r.Daily.Select(d => (d.Day.ToString("yyyy-MM-dd", Invariant), (double)d.CostUsd)).ToList(),
                    v => "$" + v.ToString("#,0.00", Invariant)),
            ],
            [SectionTitles[4]] = [SvgChart.BarChart("Agent success rate (%)", r.Agents.Select(a => (a.Agent, (a.SuccessRate ?? 0) * 100)).ToList(), v => v.ToString("0.#", Invariant) + "%")],
            [SectionTitles[7]] = [SvgChart.BarChart("Tool usage (calls)", r.Tools.Select(t => (t.Tool, (double)t.Calls)).ToList())],
        };
    }

    /// <summary>phase_metadata.json: the review in snake_case, indented, by a source-generated serializer (the same text as
    /// the reflection one's; issue 12: that one built its accessors at run time in every review, and a NativeAOT build
    /// cannot run it).</summary>
    public static string RenderMetadata(PhaseReview review) => JsonSerializer.Serialize(review, PhaseMetadataJson.Default.PhaseReview);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PhaseReview))]
internal sealed partial class PhaseMetadataJson : JsonSerializerContext;
