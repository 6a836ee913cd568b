using System.Text;
using System.Text.Json;
using Xunit;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Ingest.Fixtures;

namespace TierStorage.Tests.Ingest;

/// <summary>Issue 12: import claude reads lines as UTF-8 bytes (TranscriptLines) and parses them there; everything it gives must be
/// what the string path (ActivityLog.ReadLines, ParseLine(string)) gave, line for line, for every kind of line.</summary>
public sealed class TranscriptBytesTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "ts-bytes-" + Guid.NewGuid().ToString("N") + ".jsonl");

    public void Dispose() => File.Delete(_path);

    /// <summary>A byte order mark, CRLF and bare CR endings, blank and whitespace lines, invalid UTF-8, a BOM inside, a line far
    /// longer than the read buffer, non-ASCII text, and a last line without its newline.</summary>
    private static byte[] Tricky()
    {
        var bytes = new List<byte>([0xEF, 0xBB, 0xBF]);
        void Add(string text) => bytes.AddRange(Encoding.UTF8.GetBytes(text));
        foreach (var line in ClaudeFixtures.Main) Add(line + "\n");
        Add(ClaudeFixtures.Main[0] + "\r\n");
        Add("\n   \n\r\n\r\r\n");
        Add("\u00a0\u2028\n");
        Add("{not json\n[1,2]\n\"text\"\n");
        bytes.AddRange([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}', (byte)'\n']);
        bytes.AddRange([0xEF, 0xBB, 0xBF]);
        Add(ClaudeFixtures.Main[1] + "\n");
        var big = ClaudeFixtures.Main[2].Replace("\"role\":\"assistant\"", "\"role\":\"assistant\",\"pad\":\"" + new string('é', 400_000) + "\"", StringComparison.Ordinal);
        Assert.NotEqual(ClaudeFixtures.Main[2], big);
        Add(big + "\n");
        Add("{\"type\":\"user\",\"timestamp\":\"2026-11-20T10:00:00Z\",\"message\":{\"content\":\"h\u00e9llo \u4e16\u754c\"}}\n");
        Add(ClaudeFixtures.Main[2]);
        return [.. bytes];
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    public void Lines_and_end_offsets_are_those_of_the_string_reader(int from)
    {
        File.WriteAllBytes(_path, Tricky());
        var expected = ActivityLog.ReadLines(_path, from).Select(l => (l.Line, l.EndOffset)).ToList();
        var actual = TranscriptLines.Read(_path, from).Select(l => (Encoding.UTF8.GetString(l.Utf8.Span), l.EndOffset)).ToList();
        Assert.True(expected.Count > 10);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Parsing_the_bytes_gives_the_events_and_bad_lines_of_parsing_the_strings()
    {
        File.WriteAllBytes(_path, Tricky());
        var byString = new ClaudeTranscriptParser();
        var byBytes = new ClaudeTranscriptParser();
        var fromStrings = new List<string>();
        var fromBytes = new List<string>();
        long n = 0;
        foreach (var (line, end) in ActivityLog.ReadLines(_path, 0))
            fromStrings.AddRange(byString.ParseLine(line, ++n, end - Encoding.UTF8.GetByteCount(line) - 1).Select(e => JsonSerializer.Serialize(e)));
        n = 0;
        foreach (var line in TranscriptLines.Read(_path, 0))
            fromBytes.AddRange(byBytes.ParseLine(line.Utf8, ++n, line.EndOffset - line.Utf8.Length - 1).Select(e => JsonSerializer.Serialize(e)));

        Assert.NotEmpty(fromStrings);
        Assert.Equal(fromStrings, fromBytes);
        Assert.True(byString.Malformed.Count >= 4);
        Assert.Equal(byString.Malformed, byBytes.Malformed);
        Assert.Equal((byString.LinesParsed, byString.DuplicatesSkipped, byString.ClaudeSessionId, byString.FirstTimestamp, byString.LastTimestamp),
            (byBytes.LinesParsed, byBytes.DuplicatesSkipped, byBytes.ClaudeSessionId, byBytes.FirstTimestamp, byBytes.LastTimestamp));
        Assert.Equal(byString.Complete().Select(e => JsonSerializer.Serialize(e)), byBytes.Complete().Select(e => JsonSerializer.Serialize(e)));
    }

    [Fact]
    public void Redactor_past_its_memory_of_clean_texts_still_redacts_and_still_returns_clean_texts_as_they_are()
    {
        var redactor = new Redactor(new TierStorage.Contracts.RedactionPolicy());
        for (var i = 0; i < 20_000; i++)
        {
            var clean = "msg_01" + i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Same(clean, redactor.Redact(clean));
        }
        Assert.Equal("key [REDACTED:anthropic_api_key]", redactor.Redact("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz"));
        var again = "msg_01" + 5.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Same(again, redactor.Redact(again));
    }
}
