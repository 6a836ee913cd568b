using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Exclusive cross-process lock on a file (FileShare.None: LockFileEx on Windows, flock on Unix).
/// The lock dies with the process, so a crashed writer never leaves it stale.
/// </summary>
public sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    public static async Task<FileLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var delay = 1; ; delay = Math.Min(delay * 2, 50))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryOpen(path, timeout, deadline) is { } acquired) return acquired;
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The same lock for a process that does one thing and exits (a hook call), waited for on the calling thread:
    /// such a process would spend more of its life compiling the async machinery than waiting.</summary>
    public static FileLock Acquire(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var delay = 1; ; delay = Math.Min(delay * 2, 50))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryOpen(path, timeout, deadline) is { } acquired) return acquired;
            cancellationToken.WaitHandle.WaitOne(delay);
        }
    }

    /// <summary>The lock, or null while another process holds it; ErrorIds.LockTimeout once the deadline has passed.</summary>
    private static FileLock? TryOpen(string path, TimeSpan timeout, DateTime deadline)
    {
        try
        {
            return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
        }
        catch (IOException ex) when (IsLockConflict(ex, path))
        {
            if (DateTime.UtcNow >= deadline)
                throw new TierStorageException(ErrorIds.LockTimeout, TierErrorKind.ResourceUnavailable,
                    $"Another process has held '{path}' for more than {timeout.TotalSeconds:0} s.", path, ex);
            return null;
        }
    }

    // Disk-full, read-only and missing-directory failures are IOExceptions too: only a lock conflict is worth waiting for.
    private static bool IsLockConflict(IOException ex, string path) =>
        ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && IoErrors.Classify(ex, "locking", path) is null;

    public void Dispose() => _stream.Dispose();
}
