using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>Turns the operating system's I/O failures into errors that say what happened to which path.</summary>
public static class IoErrors
{
    private const int WindowsDiskFull = 112;        // ERROR_DISK_FULL
    private const int WindowsHandleDiskFull = 39;   // ERROR_HANDLE_DISK_FULL
    private const int UnixNoSpace = 28;             // ENOSPC
    private const int UnixQuota = 122;              // EDQUOT
    private const int UnixReadOnlyFs = 30;          // EROFS

    public static bool IsDiskFull(IOException ex)
    {
        var code = ex.HResult & 0xFFFF;
        return OperatingSystem.IsWindows()
            ? code is WindowsDiskFull or WindowsHandleDiskFull
            : ex.HResult is UnixNoSpace or UnixQuota || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsReadOnly(IOException ex) =>
        !OperatingSystem.IsWindows() && (ex.HResult == UnixReadOnlyFs || ex.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase));

    /// <summary>The engine error for an I/O failure while <paramref name="action"/> on <paramref name="path"/>, or null when it is not one we classify.</summary>
    public static TierStorageException? Classify(Exception ex, string action, string path) => ex switch
    {
        IOException io when IsDiskFull(io) => new TierStorageException(ErrorIds.DiskFull, TierErrorKind.WriteError,
            $"The disk is full while {action} '{path}'; nothing was changed. Free some space and run the command again.", path, ex),
        IOException io when IsReadOnly(io) => new TierStorageException(ErrorIds.WorkspaceNotWritable, TierErrorKind.PermissionDenied,
            $"'{path}' is on a read-only file system; nothing was changed while {action} it.", path, ex),
        UnauthorizedAccessException => new TierStorageException(ErrorIds.WorkspaceNotWritable, TierErrorKind.PermissionDenied,
            $"Access to '{path}' was denied while {action} it; nothing was changed. Check that the workspace is writable.", path, ex),
        _ => null,
    };

    /// <summary>Runs an I/O action and rethrows classified failures as TierStorageException.</summary>
    public static async Task<T> GuardAsync<T>(string action, string path, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (Classify(ex, action, path) is { } classified)
        {
            throw classified;
        }
    }

    public static Task GuardAsync(string action, string path, Func<Task> operation) =>
        GuardAsync(action, path, async () =>
        {
            await operation().ConfigureAwait(false);
            return true;
        });

    public static T Guard<T>(string action, string path, Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (Exception ex) when (Classify(ex, action, path) is { } classified)
        {
            throw classified;
        }
    }

    public static void Guard(string action, string path, Action operation)
    {
        try
        {
            operation();
        }
        catch (Exception ex) when (Classify(ex, action, path) is { } classified)
        {
            throw classified;
        }
    }
}
