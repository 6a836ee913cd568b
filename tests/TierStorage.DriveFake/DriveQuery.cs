using System.Text;

namespace TierStorage.DriveFake;

/// <summary>
/// The subset of Drive's files.list query language the client uses: <c>name</c> / <c>mimeType</c> with <c>=</c>,
/// <c>!=</c> or <c>contains</c>, <c>'id' in parents</c>, <c>trashed = true|false</c>, <c>and</c>, <c>or</c>, <c>not</c>
/// and parentheses; string literals in single quotes with <c>\'</c> and <c>\\</c> escapes, as Drive documents.
/// Anything else is a <see cref="FormatException"/>, which the server answers with Drive's 400 invalid q.
/// </summary>
internal static class DriveQuery
{
    public static Func<FakeFile, bool> Parse(string? q)
    {
        if (string.IsNullOrWhiteSpace(q)) return _ => true;
        var parser = new Parser(Tokenize(q));
        var predicate = parser.ParseOr();
        if (!parser.AtEnd) throw new FormatException("Unexpected text after the query.");
        return predicate;
    }

    private sealed record Token(string Text, bool IsString);

    private static List<Token> Tokenize(string q)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < q.Length)
        {
            var c = q[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '\'')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= q.Length) throw new FormatException("Unterminated string.");
                    if (q[i] == '\\' && i + 1 < q.Length) { text.Append(q[i + 1]); i += 2; continue; }
                    if (q[i] == '\'') { i++; break; }
                    text.Append(q[i++]);
                }
                tokens.Add(new Token(text.ToString(), true));
                continue;
            }
            if (c is '(' or ')' or '=') { tokens.Add(new Token(c.ToString(), false)); i++; continue; }
            if (c == '!' && i + 1 < q.Length && q[i + 1] == '=') { tokens.Add(new Token("!=", false)); i += 2; continue; }
            var start = i;
            while (i < q.Length && (char.IsLetterOrDigit(q[i]) || q[i] is '_' or '.')) i++;
            if (start == i) throw new FormatException($"Unexpected character '{c}'.");
            tokens.Add(new Token(q[start..i], false));
        }
        return tokens;
    }

    private sealed class Parser(List<Token> tokens)
    {
        private int _position;

        public bool AtEnd => _position >= tokens.Count;

        public Func<FakeFile, bool> ParseOr()
        {
            var left = ParseAnd();
            while (PeekWord("or"))
            {
                _position++;
                var right = ParseAnd();
                var l = left;
                left = f => l(f) || right(f);
            }
            return left;
        }

        private Func<FakeFile, bool> ParseAnd()
        {
            var left = ParseUnary();
            while (PeekWord("and"))
            {
                _position++;
                var right = ParseUnary();
                var l = left;
                left = f => l(f) && right(f);
            }
            return left;
        }

        private Func<FakeFile, bool> ParseUnary()
        {
            if (PeekWord("not"))
            {
                _position++;
                var inner = ParseUnary();
                return f => !inner(f);
            }
            if (Peek() is { IsString: false, Text: "(" })
            {
                _position++;
                var inner = ParseOr();
                Expect(")");
                return inner;
            }
            return ParseComparison();
        }

        private Func<FakeFile, bool> ParseComparison()
        {
            var first = Next();
            if (first.IsString)
            {
                if (!PeekWord("in")) throw new FormatException("Expected 'in' after a string.");
                _position++;
                var field = Next();
                if (field.IsString || field.Text != "parents") throw new FormatException("Only 'parents' supports 'in'.");
                var parent = first.Text;
                return f => f.Parents.Contains(parent);
            }
            var op = Next();
            var value = Next();
            return (first.Text, op.Text) switch
            {
                ("name", _) => Text(f => f.Name, op.Text, Literal(value)),
                ("mimeType", _) => Text(f => f.MimeType, op.Text, Literal(value)),
                ("trashed", "=") => Trashed(Bool(value), equal: true),
                ("trashed", "!=") => Trashed(Bool(value), equal: false),
                _ => throw new FormatException($"Unsupported query term '{first.Text} {op.Text}'."),
            };
        }

        private static Func<FakeFile, bool> Text(Func<FakeFile, string> field, string op, string value) => op switch
        {
            "=" => f => string.Equals(field(f), value, StringComparison.Ordinal),
            "!=" => f => !string.Equals(field(f), value, StringComparison.Ordinal),
            "contains" => f => field(f).Contains(value, StringComparison.OrdinalIgnoreCase),
            _ => throw new FormatException($"Unsupported operator '{op}'."),
        };

        private static Func<FakeFile, bool> Trashed(bool value, bool equal) => f => (f.Trashed == value) == equal;

        private static string Literal(Token token) =>
            token.IsString ? token.Text : throw new FormatException($"Expected a quoted string, found '{token.Text}'.");

        private static bool Bool(Token token) => token is { IsString: false, Text: "true" or "false" }
            ? token.Text == "true"
            : throw new FormatException("Expected true or false.");

        private Token? Peek() => _position < tokens.Count ? tokens[_position] : null;

        private bool PeekWord(string word) => Peek() is { IsString: false } t && string.Equals(t.Text, word, StringComparison.OrdinalIgnoreCase);

        private Token Next() => _position < tokens.Count ? tokens[_position++] : throw new FormatException("Unexpected end of query.");

        private void Expect(string text)
        {
            if (Next() is not { IsString: false } t || t.Text != text) throw new FormatException($"Expected '{text}'.");
        }
    }
}
