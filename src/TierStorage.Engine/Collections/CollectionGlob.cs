using System.Text;
using System.Text.RegularExpressions;

namespace TierStorage.Engine.Collections;

/// <summary>
/// One include or exclude glob of a collection, matched against paths relative to the collection's folder with '/'
/// between segments: <c>*</c> any run of characters but '/', <c>?</c> one such character, <c>[abc]</c> / <c>[a-z]</c> /
/// <c>[!abc]</c> a class, <c>**</c> any number of whole segments. A glob without '/' matches a name at any depth
/// (<c>*.log</c>, <c>node_modules</c>), as in .gitignore; one with '/' is anchored at the collection's folder (a
/// leading '/' may say so). A glob that matches a folder matches everything under it.
/// </summary>
public sealed class CollectionGlob
{
    private const int MaxLength = 1024;
    private readonly Regex _regex;

    private CollectionGlob(string text, Regex regex)
    {
        Text = text;
        _regex = regex;
    }

    public string Text { get; }

    /// <summary>Case-insensitive where the file system usually is (Windows, macOS), as the user sees their names there.</summary>
    public static bool IgnoreCaseByDefault => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS();

    /// <summary>The glob, or null with <paramref name="error"/> saying what is wrong with it.</summary>
    public static CollectionGlob? TryParse(string text, bool ignoreCase, out string? error)
    {
        error = Validate(text);
        if (error is not null) return null;
        var anchored = text.Contains('/', StringComparison.Ordinal);
        var body = text.TrimStart('/').TrimEnd('/');
        var pattern = new StringBuilder("^");
        if (!anchored) pattern.Append("(?:.*/)?");
        var i = 0;
        while (i < body.Length)
        {
            var c = body[i];
            if (c == '*' && i + 1 < body.Length && body[i + 1] == '*')
            {
                var atSegmentStart = i == 0 || body[i - 1] == '/';
                var atSegmentEnd = i + 2 == body.Length || body[i + 2] == '/';
                if (atSegmentStart && atSegmentEnd)
                {
                    // "**/" is zero or more whole segments; a trailing "**" everything below.
                    if (i + 2 == body.Length) pattern.Append(".*");
                    else pattern.Append("(?:[^/]*/)*");
                    i += i + 2 == body.Length ? 2 : 3;
                    continue;
                }
                pattern.Append("[^/]*");
                i += 2;
                continue;
            }
            switch (c)
            {
                case '*': pattern.Append("[^/]*"); break;
                case '?': pattern.Append("[^/]"); break;
                case '[':
                    var end = body.IndexOf(']', i + 2);
                    var negate = body[i + 1] is '!' or '^';
                    var members = body[(i + (negate ? 2 : 1))..end];
                    pattern.Append(negate ? "[^/" : "[");
                    foreach (var m in members) pattern.Append(m is '\\' or '[' or '^' ? "\\" + m : m.ToString());
                    pattern.Append(']');
                    i = end;
                    break;
                default: pattern.Append(Regex.Escape(c.ToString())); break;
            }
            i++;
        }
        // A folder that matches takes everything under it.
        pattern.Append("(?:/.*)?$");
        var options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        return new CollectionGlob(text, new Regex(pattern.ToString(), options));
    }

    public static CollectionGlob Parse(string text, bool ignoreCase) =>
        TryParse(text, ignoreCase, out var error) ?? throw new ArgumentException(error, nameof(text));

    /// <summary>Whether the relative path (or a folder it is under) matches.</summary>
    public bool IsMatch(string relativePath) => _regex.IsMatch(relativePath);

    public override string ToString() => Text;

    private static string? Validate(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return "A glob may not be empty.";
        if (text.Length > MaxLength) return $"A glob may be at most {MaxLength} characters.";
        if (text.Contains('\\', StringComparison.Ordinal)) return "Globs use '/' between folders, not '\\'.";
        if (text.Any(char.IsControl)) return "A glob may not contain control characters.";
        if (text.Trim('/').Length == 0) return "A glob must name something below the collection's folder.";
        foreach (var segment in text.Trim('/').Split('/'))
        {
            if (segment.Length == 0) return "A glob may not contain '//'.";
            if (segment is "." or "..") return "A glob may not contain '.' or '..' segments: it matches inside the collection's folder only.";
            if (segment.Contains("**", StringComparison.Ordinal) && segment != "**") return "'**' must be a whole segment ('a/**/b'); use '*' inside a name.";
        }
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '[') continue;
            var end = text.IndexOf(']', i + 1);
            var negate = i + 1 < text.Length && text[i + 1] is '!' or '^';
            if (end < 0 || end <= i + (negate ? 2 : 1)) return $"The class opened by '[' at position {i + 1} is not closed by ']' or is empty.";
            if (text.AsSpan(i + 1, end - i - 1).Contains('/')) return "A character class may not contain '/'.";
            i = end;
        }
        return null;
    }
}

/// <summary>A collection's include and exclude globs together: a file is kept when some include matches (or there are
/// none) and no exclude matches it or a folder above it.</summary>
public sealed class CollectionFilter
{
    private readonly IReadOnlyList<CollectionGlob> _include;
    private readonly IReadOnlyList<CollectionGlob> _exclude;

    public CollectionFilter(IEnumerable<string> include, IEnumerable<string> exclude, bool ignoreCase)
    {
        _include = include.Select(g => CollectionGlob.Parse(g, ignoreCase)).ToList();
        _exclude = exclude.Select(g => CollectionGlob.Parse(g, ignoreCase)).ToList();
    }

    public static CollectionFilter For(Contracts.CollectionDefinition collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var exclude = collection.DefaultExcludes ? Contracts.CollectionDefaults.Excludes.Concat(collection.Exclude) : collection.Exclude;
        return new CollectionFilter(collection.Include, exclude, CollectionGlob.IgnoreCaseByDefault);
    }

    /// <summary>A folder whose contents are all excluded is not walked at all.</summary>
    public bool ExcludesFolder(string relativePath) => _exclude.Any(g => g.IsMatch(relativePath));

    public bool Includes(string relativePath) =>
        (_include.Count == 0 || _include.Any(g => g.IsMatch(relativePath))) && !_exclude.Any(g => g.IsMatch(relativePath));
}
