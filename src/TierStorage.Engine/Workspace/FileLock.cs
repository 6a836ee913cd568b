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
        var delay = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException ex) when (IsLockConflict(ex, path))
            {
                if (DateTime.UtcNow >= deadline)
                    throw new TierStorageException(ErrorIds.LockTimeout, TierErrorKind.ResourceUnavailable,
                        $"Another process has held '{path}' for more than {timeout.TotalSeconds:0} s.", path, ex);
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }

    // Disk-full, read-only and missing-directory failures are IOExceptions too: only a lock conflict is worth waiting for.
    private static bool IsLockConflict(IOException ex, string path) =>
        ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && IoErrors.Classify(ex, "locking", path) is null;

    public void Dispose() => _stream.Dispose();
}
