using System.Buffers;

namespace TierStorage.Engine.Ingest;

/// <summary>
/// The complete lines of a transcript from an offset, as UTF-8 bytes in a reused buffer: what ActivityLog.ReadLines yields
/// (a partial last line is never returned, a byte order mark at the start of the file is not part of the first line, trailing
/// '\r's are cut), without decoding each line into a string that the JSON parser would encode back to UTF-8.
/// </summary>
internal static class TranscriptLines
{
    /// <summary>One line: its bytes (valid until the next line is read) and where it ends (just past its '\n').</summary>
    internal readonly record struct Line(ReadOnlyMemory<byte> Utf8, long EndOffset);

    private const int ChunkSize = 1 << 16;

    public static IEnumerable<Line> Read(string path, long fromOffset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var end = stream.Length;
        if (fromOffset >= end) yield break;
        if (fromOffset == 0 && end >= 3)
        {
            Span<byte> bom = stackalloc byte[3];
            stream.ReadExactly(bom);
            if (bom.SequenceEqual((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) fromOffset = 3;
        }
        stream.Seek(fromOffset, SeekOrigin.Begin);
        // buffer[0..filled) holds unread bytes; [start..filled) is the current partial line. Grows for a line longer than it.
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize * 4);
        try
        {
            var position = fromOffset; // file offset of buffer[0]
            int start = 0, filled = 0;
            while (position + filled < end)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                    position += start;
                    filled -= start;
                    start = 0;
                }
                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, larger, 0, filled);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = stream.Read(buffer, filled, (int)Math.Min(buffer.Length - filled, end - position - filled));
                if (read == 0) break;
                var scanFrom = filled;
                filled += read;
                while (true)
                {
                    var newline = Array.IndexOf(buffer, (byte)'\n', scanFrom, filled - scanFrom);
                    if (newline < 0) break;
                    var length = newline - start;
                    while (length > 0 && buffer[start + length - 1] == (byte)'\r') length--;
                    yield return new Line(new ReadOnlyMemory<byte>(buffer, start, length), position + newline + 1);
                    start = newline + 1;
                    scanFrom = start;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
