using System.Security.AccessControl;
using System.Security.Principal;
using Google.Apis.Json;
using Google.Apis.Util.Store;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>
/// Google.Apis's token store, kept as one file per key in the workspace's credentials/ folder and readable by the user
/// alone: mode 600 (folder 700) on Unix; on Windows the file's ACL is cut down to the current user, inheritance off.
/// Files are written to a temp name and renamed, so a crash never leaves half a token.
/// </summary>
public sealed class DriveTokenStore : IDataStore
{
    private const UnixFileMode UserOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode UserOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public DriveTokenStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    /// <summary>The file that holds <paramref name="key"/>'s value.</summary>
    public string PathFor(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || key.Contains('.'))
            throw new ArgumentException("Token keys are plain names.", nameof(key));
        return Path.Combine(Directory, key + ".token.json");
    }

    public async Task StoreAsync<T>(string key, T value)
    {
        var path = PathFor(key);
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
        else System.IO.Directory.CreateDirectory(Directory, UserOnlyFolder);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UserOnlyFile;
        try
        {
            await using (var stream = new FileStream(temp, options))
            await using (var writer = new StreamWriter(stream))
                await writer.WriteAsync(NewtonsoftJsonSerializer.Instance.Serialize(value!)).ConfigureAwait(false);
            if (OperatingSystem.IsWindows()) RestrictToCurrentUser(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<T> GetAsync<T>(string key)
    {
        var path = PathFor(key);
        if (!File.Exists(path)) return default!;
        var text = await File.ReadAllTextAsync(path).ConfigureAwait(false);
        return NewtonsoftJsonSerializer.Instance.Deserialize<T>(text);
    }

    public Task DeleteAsync<T>(string key)
    {
        File.Delete(PathFor(key));
        return Task.CompletedTask;
    }

    public Task ClearAsync()
    {
        if (System.IO.Directory.Exists(Directory))
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.token.json")) File.Delete(file);
        return Task.CompletedTask;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static void RestrictToCurrentUser(string path)
    {
        var user = WindowsIdentity.GetCurrent().User ?? throw new InvalidOperationException("The current Windows user has no SID.");
        var security = new FileSecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        security.AddAccessRule(new FileSystemAccessRule(user, FileSystemRights.FullControl, AccessControlType.Allow));
        new FileInfo(path).SetAccessControl(security);
    }
}
