namespace TierStorage.Engine.Workspace;

/// <summary>Writes a whole file or nothing: a temp file beside the target, flushed to disk, then renamed over it.</summary>
public static class AtomicFile
{
    /// <summary>Temp name used for <paramref name="path"/>; deterministic so a crashed write is found and replaced.</summary>
    public static string TempPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");

    /// <summary>Writes through <paramref name="write"/> into the temp file, fsyncs it and moves it to <paramref name="path"/>.
    /// On any failure the temp file is removed and the target is untouched.</summary>
    public static async Task WriteAsync(string path, bool overwrite, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var temp = TempPathFor(path);
        try
        {
            // Synchronous file I/O: on Unix "asynchronous" file writes are the same writes on a pool thread, an extra hop
            // per buffer that showed in the 5 MB snapshot's time.
            await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static Task WriteAllTextAsync(string path, string text, bool overwrite, CancellationToken cancellationToken) =>
        WriteAsync(path, overwrite, async (stream, ct) =>
        {
            await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
            await writer.WriteAsync(text.AsMemory(), ct).ConfigureAwait(false);
        }, cancellationToken);

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is replaced by the next write of the same target.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
