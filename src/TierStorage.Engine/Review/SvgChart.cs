using System.Globalization;
using System.Net;
using System.Text;

namespace TierStorage.Engine.Review;

/// <summary>
/// A minimal SVG writer for the insights page (no chart library is reachable). Every chart is a standalone &lt;svg&gt;
/// with a viewBox so it scales with the page; every text is XML-escaped. Each bar is one &lt;rect class="bar"&gt;.
/// </summary>
public static class SvgChart
{
    private const int Width = 640;
    private const int BarHeight = 22;
    private const int LabelWidth = 180;
    private const int Top = 30;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Horizontal bars, one per label, scaled to the largest value; the value is printed after each bar.</summary>
    public static string BarChart(string title, IReadOnlyList<(string Label, double Value)> bars, Func<double, string>? format = null)
    {
        ArgumentNullException.ThrowIfNull(bars);
        format ??= v => v.ToString("#,0.##", Invariant);
        var height = Top + Math.Max(1, bars.Count) * (BarHeight + 6) + 10;
        var max = bars.Count == 0 ? 0 : bars.Max(b => Math.Max(0, b.Value));
        var scale = max <= 0 ? 0 : (Width - LabelWidth - 90) / max;
        var svg = Open(title, Width, height);
        if (bars.Count == 0) svg.Append(Invariant, $"<text x=\"10\" y=\"{Top + 15}\">{Escape("no data")}</text>");
        for (var i = 0; i < bars.Count; i++)
        {
            var y = Top + i * (BarHeight + 6);
            var w = Math.Max(0, bars[i].Value) * scale;
            svg.Append(Invariant, $"<text x=\"{LabelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\">{Escape(bars[i].Label)}</text>");
            svg.Append(Invariant, $"<rect class=\"bar\" x=\"{LabelWidth}\" y=\"{y}\" width=\"{w:0.##}\" height=\"{BarHeight}\" fill=\"#4e79a7\"><title>{Escape(bars[i].Label)}: {Escape(format(bars[i].Value))}</title></rect>");
            svg.Append(Invariant, $"<text x=\"{LabelWidth + w + 4:0.##}\" y=\"{y + 15}\">{Escape(format(bars[i].Value))}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Vertical bars of bucket counts, labelled under each bucket (e.g. "≤500 ms").</summary>
    public static string Histogram(string title, IReadOnlyList<(string Label, long Count)> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        const int height = 260, chartHeight = 180, bottom = Top + chartHeight;
        var slot = buckets.Count == 0 ? Width : (double)(Width - 20) / buckets.Count;
        var max = buckets.Count == 0 ? 0 : buckets.Max(b => b.Count);
        var svg = Open(title, Width, height);
        if (buckets.Count == 0 || max == 0) svg.Append(Invariant, $"<text x=\"10\" y=\"{Top + 15}\">{Escape("no data")}</text>");
        for (var i = 0; i < buckets.Count; i++)
        {
            var h = max == 0 ? 0 : (double)buckets[i].Count / max * (chartHeight - 15);
            var x = 10 + i * slot;
            svg.Append(Invariant, $"<rect class=\"bar\" x=\"{x + 2:0.##}\" y=\"{bottom - h:0.##}\" width=\"{slot - 4:0.##}\" height=\"{h:0.##}\" fill=\"#59a14f\"><title>{Escape(buckets[i].Label)}: {buckets[i].Count}</title></rect>");
            svg.Append(Invariant, $"<text x=\"{x + slot / 2:0.##}\" y=\"{bottom - h - 3:0.##}\" text-anchor=\"middle\">{buckets[i].Count}</text>");
            svg.Append(Invariant, $"<text x=\"{x + slot / 2:0.##}\" y=\"{bottom + 16}\" text-anchor=\"middle\" font-size=\"10\">{Escape(buckets[i].Label)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Escapes &amp;, &lt;, &gt;, quotes and apostrophes so any label is safe in text and attributes.</summary>
    public static string Escape(string text) => WebUtility.HtmlEncode(text ?? "");

    private static StringBuilder Open(string title, int width, int height) => new StringBuilder()
        .Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">")
        .Append(Invariant, $"<title>{Escape(title)}</title><text x=\"10\" y=\"18\" font-weight=\"bold\" font-size=\"14\">{Escape(title)}</text>");
}
