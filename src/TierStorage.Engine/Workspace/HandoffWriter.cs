using System.Globalization;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

/// <summary>Renders handoffs/&lt;session&gt;_handoff.md: what the next session (or person) needs to pick up the work.</summary>
public static class HandoffWriter
{
    public static string Render(SessionRecord session, SessionSummary summary)
    {
        var md = new StringBuilder();
        var ended = session.EndedAt ?? summary.LastEventAt ?? session.StartedAt;
        md.AppendLine($"# Handoff: {session.SessionId}").AppendLine();
        md.AppendLine($"- Phase: {session.Phase}");
        md.AppendLine($"- Started: {Time(session.StartedAt)}");
        md.AppendLine($"- Ended: {Time(ended)}");
        md.AppendLine($"- Duration: {Duration(ended - session.StartedAt)}");
        md.AppendLine($"- Events: {summary.EventCount:N0} ({summary.FailureCount:N0} failed or errors)");
        md.AppendLine($"- Tokens: {summary.Tokens.Total:N0} (input {summary.Tokens.Input:N0}, output {summary.Tokens.Output:N0}, cache read {summary.Tokens.CacheRead:N0}, cache write {summary.Tokens.CacheWrite:N0})");
        md.AppendLine();

        Table(md, "Tasks", "Task", summary.Tasks);
        Table(md, "Agents", "Agent", summary.Agents);
        Table(md, "Tools", "Tool", summary.Tools);
        Table(md, "Models", "Model", summary.Models);

        md.AppendLine("## Errors").AppendLine();
        if (summary.Errors.Count == 0)
        {
            md.AppendLine("No errors recorded.").AppendLine();
        }
        else
        {
            md.AppendLine("| Error type | Count | Files |").AppendLine("| --- | ---: | --- |");
            foreach (var error in summary.Errors)
                md.AppendLine($"| {Cell(error.ErrorType)} | {error.Count:N0} | {Cell(string.Join(", ", error.Files))} |");
            md.AppendLine();
        }

        if (summary.Decisions.Count > 0)
        {
            md.AppendLine("## Decisions").AppendLine();
            foreach (var decision in summary.Decisions) md.AppendLine($"- {decision.ReplaceLineEndings(" ")}");
            md.AppendLine();
        }

        if (summary.Files.Count > 0)
        {
            md.AppendLine("## Files touched").AppendLine();
            foreach (var file in summary.Files) md.AppendLine($"- `{file.Name}` ({file.Count:N0} events{(file.Failures > 0 ? $", {file.Failures:N0} failed" : "")})");
            md.AppendLine();
        }
        return md.ToString();
    }

    private static void Table(StringBuilder md, string title, string column, IReadOnlyList<NameCount> rows)
    {
        md.AppendLine($"## {title}").AppendLine();
        if (rows.Count == 0)
        {
            md.AppendLine($"No {title.ToLowerInvariant()} recorded.").AppendLine();
            return;
        }
        md.AppendLine($"| {column} | Events | Total duration | Failures |").AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var row in rows)
            md.AppendLine($"| {Cell(row.Name)} | {row.Count:N0} | {Duration(TimeSpan.FromMilliseconds(row.TotalDurationMs))} | {row.Failures:N0} |");
        md.AppendLine();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    internal static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        if (span.TotalSeconds < 1) return $"{span.TotalMilliseconds:0} ms";
        if (span.TotalMinutes < 1) return $"{span.TotalSeconds:0.#} s";
        if (span.TotalHours < 1) return $"{(int)span.TotalMinutes} min {span.Seconds} s";
        return $"{(int)span.TotalHours} h {span.Minutes:00} min";
    }
}
