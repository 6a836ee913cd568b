using System.Text;
using System.Text.RegularExpressions;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// A session id as a user types it to select sessions: a literal id, or a wildcard pattern with PowerShell's
/// characters (<c>*</c> any run, <c>?</c> one character, <c>[abc]</c> / <c>[0-9]</c> one of a set), matched
/// case-insensitively like PowerShell's own wildcards. A literal that matches nothing is an error for the caller;
/// a pattern that matches nothing is not.
/// </summary>
public sealed class SessionIdPattern
{
    private readonly Regex? _regex;

    private SessionIdPattern(string text, Regex? regex)
    {
        Text = text;
        _regex = regex;
    }

    public string Text { get; }

    /// <summary>True when the text holds wildcard characters.</summary>
    public bool IsWildcard => _regex is not null;

    public static bool ContainsWildcard(string text) => text.AsSpan().IndexOfAny("*?[") >= 0;

    public static SessionIdPattern Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new SessionIdPattern(text, ContainsWildcard(text) ? ToRegex(text) : null);
    }

    public bool Matches(string sessionId) =>
        _regex?.IsMatch(sessionId) ?? string.Equals(sessionId, Text, StringComparison.Ordinal);

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*') regex.Append(".*");
            else if (c == '?') regex.Append('.');
            else if (c == '[' && pattern.IndexOf(']', i + 1) is var close and > 0 && close > i + 1)
            {
                var set = pattern[(i + 1)..close];
                // Only letters, digits, '_', '.' and ranges with '-' can occur in a session id: anything else is taken literally.
                regex.Append('[').Append(Regex.Escape(set).Replace("\\-", "-", StringComparison.Ordinal)).Append(']');
                i = close;
            }
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
