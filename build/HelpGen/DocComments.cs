using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace TierStorage.HelpGen;

/// <summary>The compiler's XML documentation file, keyed by member id (T:Namespace.Type, P:Namespace.Type.Property).</summary>
internal sealed partial class DocComments
{
    private readonly Dictionary<string, XElement> _members;

    private DocComments(Dictionary<string, XElement> members) => _members = members;

    public static DocComments Load(string path)
    {
        var members = XDocument.Load(path).Descendants("member")
            .Where(m => m.Attribute("name") is not null)
            .GroupBy(m => m.Attribute("name")!.Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return new DocComments(members);
    }

    public XElement? Find(string memberId) => _members.GetValueOrDefault(memberId);

    /// <summary>The paragraphs of a doc element: &lt;para&gt; and &lt;code&gt; start new ones, inline tags become their text.</summary>
    public static IReadOnlyList<string> Paragraphs(XElement? element)
    {
        var paragraphs = new List<string>();
        if (element is null)
        {
            return paragraphs;
        }

        var current = new StringBuilder();
        void Flush()
        {
            var text = Whitespace().Replace(current.ToString(), " ").Trim();
            if (text.Length > 0)
            {
                paragraphs.Add(text);
            }

            current.Clear();
        }

        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XText text:
                    current.Append(text.Value);
                    break;
                case XElement { Name.LocalName: "para" } para:
                    Flush();
                    paragraphs.AddRange(Paragraphs(para));
                    break;
                case XElement { Name.LocalName: "code" } code:
                    Flush();
                    paragraphs.Add(Code(code));
                    break;
                case XElement { Name.LocalName: "list" } list:
                    Flush();
                    paragraphs.AddRange(list.Elements("item").Select(item => "- " + string.Join(" ", Paragraphs(item))));
                    break;
                case XElement inline:
                    current.Append(InlineText(inline));
                    break;
            }
        }

        Flush();
        return paragraphs;
    }

    /// <summary>One line of text (a synopsis, a default value).</summary>
    public static string Text(XElement? element) => string.Join(" ", Paragraphs(element));

    /// <summary>A code block as written, without the indentation the doc comment gave all of its lines.</summary>
    public static string Code(XElement code)
    {
        var lines = code.Value.Replace("\r\n", "\n").Split('\n').ToList();
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[0])) lines.RemoveAt(0);
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1])) lines.RemoveAt(lines.Count - 1);
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..].TrimEnd() : l.Trim()));
    }

    private static string InlineText(XElement element)
    {
        if (element.Attribute("langword") is { } langword) return langword.Value;
        if (element.Attribute("cref") is { } cref) return element.Value.Length > 0 ? element.Value : ShortName(cref.Value);
        if (element.Attribute("href") is { } href) return element.Value.Length > 0 ? element.Value : href.Value;
        if (element.Name.LocalName is "paramref" or "typeparamref") return element.Attribute("name")?.Value ?? "";
        return string.Concat(element.Nodes().Select(n => n is XElement e ? InlineText(e) : ((XText)n).Value));
    }

    /// <summary>"T:TierStorage.Contracts.SessionInfo" → "SessionInfo"; "M:A.B.Run(System.String)" → "Run".</summary>
    private static string ShortName(string cref)
    {
        var name = cref.Contains(':') ? cref[(cref.IndexOf(':') + 1)..] : cref;
        var parenthesis = name.IndexOf('(');
        if (parenthesis >= 0) name = name[..parenthesis];
        return name[(name.LastIndexOf('.') + 1)..];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
