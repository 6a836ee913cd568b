using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Exclusive cross-process lock on a file (FileShare.None: LockFileEx on Windows, flock on Unix).
/// The lock dies with the process, so a crashed writer never leaves it stale.
/// </summary>
public sealed class FileLock : IDisposable
{
    /// <summary>Written into a removable lock file, under the lock, right after it was deleted (Unix lets an open file go): a
    /// waiter that had opened it before and gets its lock afterwards finds this and knows its file is gone from the folder.</summary>
    private const byte Released = 0x52;

    private readonly FileStream _stream;
    private readonly string? _removeOnRelease;

    private FileLock(FileStream stream, string? removeOnRelease)
    {
        _stream = stream;
        _removeOnRelease = removeOnRelease;
    }

    public static Task<FileLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        AcquireAsync(path, timeout, removeWhenReleased: false, cancellationToken);

    /// <param name="removeWhenReleased">Delete the lock file when the lock is released, for locks taken per item (one per
    /// session) that would otherwise pile up; a crashed holder's file is removed by the next holder's release.</param>
    public static async Task<FileLock> AcquireAsync(string path, TimeSpan timeout, bool removeWhenReleased, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var delay = 1; ; delay = Math.Min(delay * 2, 50))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryOpen(path, timeout, deadline, removeWhenReleased) is { } acquired) return acquired;
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
            if (TryOpen(path, timeout, deadline, removeWhenReleased: false) is { } acquired) return acquired;
            cancellationToken.WaitHandle.WaitOne(delay);
        }
    }

    /// <summary>The lock, or null while another process holds it; ErrorIds.LockTimeout once the deadline has passed.</summary>
    private static FileLock? TryOpen(string path, TimeSpan timeout, DateTime deadline, bool removeWhenReleased)
    {
        try
        {
            // Windows refuses to delete a file held with FileShare.None, so there the handle deletes it as it closes.
            var options = removeWhenReleased && OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None;
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, options);
            if (removeWhenReleased && stream.Length > 0 && stream.ReadByte() == Released)
            {
                // Locked just after its holder deleted it: the next attempt opens (or creates) the file now at the path.
                stream.Dispose();
                return null;
            }
            return new FileLock(stream, removeWhenReleased ? path : null);
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

    public void Dispose()
    {
        if (_removeOnRelease is not null && !OperatingSystem.IsWindows())
        {
            try
            {
                // Still under the lock: first out of the folder, then marked for a waiter that opened it before that.
                File.Delete(_removeOnRelease);
                _stream.Position = 0;
                _stream.WriteByte(Released);
                _stream.Flush();
            }
            catch (IOException)
            {
                // A lock file left behind is only clutter: the next holder of the lock removes it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        _stream.Dispose();
    }
}
