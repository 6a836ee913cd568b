using System.Text;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// An append-only JSON-lines file. Every method that writes must run under the workspace write lock:
/// that is what keeps lines from parallel writers whole and in order.
/// </summary>
public static class ActivityLog
{
    private const byte NewLine = (byte)'\n';
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Appends complete lines (each ending in '\n'). A partial last line left by a crashed writer is first moved to
    /// <paramref name="quarantineDirectory"/> (reported through <paramref name="warn"/>) so it never reaches a reader.
    /// On failure the file is cut back to where it was. Returns the file length after the append.
    /// </summary>
    public static long Append(string path, ReadOnlySpan<byte> lines, string quarantineDirectory, Action<string>? warn)
    {
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
        var start = QuarantinePartialTail(stream, path, quarantineDirectory, warn);
        try
        {
            stream.Seek(start, SeekOrigin.Begin);
            stream.Write(lines);
            stream.Flush();
            return start + lines.Length;
        }
        catch
        {
            TryTruncate(stream, start);
            throw;
        }
    }

    /// <summary>Quarantines a partial last line if there is one; returns the length of the complete part.</summary>
    public static long RepairTail(string path, string quarantineDirectory, Action<string>? warn)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
        return QuarantinePartialTail(stream, path, quarantineDirectory, warn);
    }

    private static long QuarantinePartialTail(FileStream stream, string path, string quarantineDirectory, Action<string>? warn)
    {
        var length = stream.Length;
        if (length == 0) return 0;
        var completeLength = CompleteLength(stream, length);
        if (completeLength == length) return length;

        var tail = new byte[length - completeLength];
        stream.Seek(completeLength, SeekOrigin.Begin);
        stream.ReadExactly(tail);
        Directory.CreateDirectory(quarantineDirectory);
        var quarantined = Path.Combine(quarantineDirectory,
            $"{Path.GetFileName(path)}.{DateTime.UtcNow:yyyyMMddTHHmmssfffZ}.{completeLength}.partial");
        File.WriteAllBytes(quarantined, tail);
        stream.SetLength(completeLength);
        stream.Flush();
        warn?.Invoke($"'{path}' ended with a partial line of {tail.Length} bytes (a writer stopped mid-line); it was moved to '{quarantined}' and is not an event.");
        return completeLength;
    }

    /// <summary>The last complete line (without its line end), or null when the file has none. Reads from the end, so
    /// the cost does not grow with the log.</summary>
    public static string? ReadLastLine(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        var end = CompleteLength(stream, stream.Length);
        if (end == 0) return null;
        var start = CompleteLength(stream, end - 1);
        var line = new byte[end - 1 - start];
        stream.Seek(start, SeekOrigin.Begin);
        stream.ReadExactly(line);
        return Encoding.UTF8.GetString(line).TrimEnd('\r');
    }

    /// <summary>Length up to and including the last '\n'.</summary>
    private static long CompleteLength(FileStream stream, long length)
    {
        var buffer = new byte[4096];
        var end = length;
        while (end > 0)
        {
            var count = (int)Math.Min(buffer.Length, end);
            stream.Seek(end - count, SeekOrigin.Begin);
            stream.ReadExactly(buffer, 0, count);
            var index = Array.LastIndexOf(buffer, NewLine, count - 1, count);
            if (index >= 0) return end - count + index + 1;
            end -= count;
        }
        return 0;
    }

    private static void TryTruncate(FileStream stream, long length)
    {
        try
        {
            stream.SetLength(length);
        }
        catch (IOException)
        {
            // The device refused even the truncate (e.g. still full); the partial bytes have no newline
            // and are quarantined by the next append, so no reader ever sees them as an event.
        }
    }

    /// <summary>The complete lines between two offsets, with the offset just past each line. A partial last line is never returned.</summary>
    public static IEnumerable<(string Line, long EndOffset)> ReadLines(string path, long fromOffset, long toOffset = long.MaxValue)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var end = Math.Min(stream.Length, toOffset);
        if (fromOffset >= end) yield break;
        // Editors and Windows PowerShell 5 write a UTF-8 byte order mark; it is not part of the first line.
        if (fromOffset == 0 && end >= 3)
        {
            Span<byte> bom = stackalloc byte[3];
            stream.ReadExactly(bom);
            if (bom.SequenceEqual(Utf8Bom)) fromOffset = 3;
        }
        stream.Seek(fromOffset, SeekOrigin.Begin);
        var buffer = new byte[1 << 16];
        var pending = new MemoryStream();
        var position = fromOffset;
        while (position < end)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, end - position));
            if (read == 0) break;
            var lineStart = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != NewLine) continue;
                string line;
                if (pending.Length > 0)
                {
                    pending.Write(buffer, lineStart, i - lineStart);
                    line = Encoding.UTF8.GetString(pending.GetBuffer(), 0, (int)pending.Length);
                    pending.SetLength(0);
                }
                else
                {
                    line = Encoding.UTF8.GetString(buffer, lineStart, i - lineStart);
                }
                yield return (line.TrimEnd('\r'), position + i + 1);
                lineStart = i + 1;
            }
            pending.Write(buffer, lineStart, read - lineStart);
            position += read;
        }
    }
}
