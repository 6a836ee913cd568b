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

    /// <summary>Every I/O failure as an engine error: <see cref="Classify"/>'s, else ErrorIds.IOError that names the path
    /// and says what to check. Null for anything that is not an I/O failure (bugs stay visible as what they are).</summary>
    public static TierStorageException? Describe(Exception ex, string action, string path) => ex switch
    {
        TierStorageException => null,
        _ when Classify(ex, action, path) is { } classified => classified,
        IOException => new TierStorageException(ErrorIds.IOError, action.StartsWith("read", StringComparison.Ordinal) ? TierErrorKind.ReadError : TierErrorKind.WriteError,
            $"Could not finish {action} '{path}': {ex.Message} Check that the folder exists, is a folder (not a file) and is not in use by another program, then run the command again.", path, ex),
        _ => null,
    };

    /// <summary>
    /// The fronts' safety net for an I/O, access or database failure that escaped the engine without an error id:
    /// an engine error with a stable id (IOError, AccessDenied, CatalogError), a kind, the item and a message that says
    /// what to do, the original kept as the inner exception. Null for anything else.
    /// </summary>
    public static TierStorageException? Unexpected(Exception ex, object? target)
    {
        var where = target is null ? "" : $" for '{target}'";
        return ex switch
        {
            TierStorageException => null,
            FileNotFoundException or DirectoryNotFoundException => new TierStorageException(ErrorIds.IOError, TierErrorKind.ObjectNotFound,
                $"A file or folder was missing{where}: {ex.Message} Check that the workspace and the tier folders exist (Get-TierUsage, Test-TierConnection), then run the command again.", target, ex),
            IOException io when IsDiskFull(io) => new TierStorageException(ErrorIds.DiskFull, TierErrorKind.WriteError,
                $"The disk is full{where}: {ex.Message} Free some space and run the command again.", target, ex),
            IOException => new TierStorageException(ErrorIds.IOError, TierErrorKind.WriteError,
                $"A file-system operation failed{where}: {ex.Message} Check that the path is a folder (not a file), is connected and is not in use by another program, then run the command again.", target, ex),
            UnauthorizedAccessException => new TierStorageException(ErrorIds.AccessDenied, TierErrorKind.PermissionDenied,
                $"Access was denied{where}: {ex.Message} Check the permissions of the workspace and the tier folders, then run the command again.", target, ex),
            // SQLITE_FULL: the catalog could not grow (issue 11 #9 saw it as "Unexpected: SqliteException 13", exit 1).
            Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 } => new TierStorageException(ErrorIds.DiskFull, TierErrorKind.WriteError,
                $"The disk is full{where}: the catalog database could not grow. Free some space and run the command again.", target, ex),
            // disk_full on the server of a shared catalog: the server's disk, which this machine cannot free.
            Npgsql.PostgresException { SqlState: "53100" } => new TierStorageException(ErrorIds.DiskFull, TierErrorKind.WriteError,
                $"The shared catalog's server is out of disk space{where}: {((Npgsql.PostgresException)ex).MessageText} Ask its administrator to free space, then run the command again; nothing was half-written.", target, ex),
            Npgsql.NpgsqlException { IsTransient: true } => new TierStorageException(ErrorIds.CatalogUnavailable, TierErrorKind.ConnectionError,
                $"The shared catalog could not be reached{where}: {ex.Message} Check the connection to its server, then run the command again; what was not committed is redone then.", target, ex),
            System.Data.Common.DbException => new TierStorageException(ErrorIds.CatalogError, TierErrorKind.ResourceUnavailable,
                $"The catalog database failed{where}: {ex.Message} Run the command again when no other TierStorage command is running; if it keeps failing, Update-TierCatalog rebuilds the catalog from the tiers.", target, ex),
            _ => null,
        };
    }

    /// <summary>Runs an I/O action and rethrows its I/O failures as TierStorageException (<see cref="Describe"/>).</summary>
    public static async Task<T> GuardAsync<T>(string action, string path, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (Describe(ex, action, path) is { } classified)
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
        catch (Exception ex) when (Describe(ex, action, path) is { } classified)
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
        catch (Exception ex) when (Describe(ex, action, path) is { } classified)
        {
            throw classified;
        }
    }
}
