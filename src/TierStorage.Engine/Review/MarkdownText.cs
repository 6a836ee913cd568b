using System.Text;

namespace TierStorage.Engine.Review;

/// <summary>
/// Text from events, transcripts and the policy (model, agent, tool and phase names, error types, file paths) as it
/// may appear in phase_insights.md: literal text, never markup. A name cannot open an HTML tag, a link, an image or an
/// autolink (<c>&lt;</c>, <c>[</c>, <c>]</c>, <c>&amp;</c> and backticks are escaped), start a heading or another
/// block (one line only, and a leading block marker is escaped), or carry control characters such as NUL.
/// </summary>
internal static class MarkdownText
{
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '\r' or '\n' or '\t') result.Append(' ');
            else if (char.IsControl(c)) continue;
            else if (c is '\\' or '`' or '*' or '[' or ']' or '<' or '>' or '&' or '~' or '|') result.Append('\\').Append(c);
            else result.Append(c);
        }

        // At the start of a line these open a heading, a quote, a list or a thematic break.
        var start = 0;
        while (start < result.Length && result[start] == ' ') start++;
        if (start < result.Length && result[start] is '#' or '-' or '+' or '=') result.Insert(start, '\\');
        else
        {
            var digits = start;
            while (digits < result.Length && char.IsAsciiDigit(result[digits])) digits++;
            if (digits > start && digits < result.Length && result[digits] is '.' or ')') result.Insert(digits, '\\');
        }
        return result.ToString();
    }

    /// <summary>The text without NUL and other control characters (line breaks and tabs kept), for the HTML report.</summary>
    public static string WithoutControlCharacters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))) return text;
        return string.Concat(text.Where(c => !char.IsControl(c) || c is '\n' or '\r' or '\t'));
    }
}
