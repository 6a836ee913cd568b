using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace TierStorage.PowerShell.Loading;

/// <summary>
/// Loads the engine and every third-party assembly from the module's Dependencies/ folder, isolated from the
/// versions PowerShell itself carries. Names not found there (the framework, TierStorage.Contracts) fall through
/// to the default context, so types shared with scripts keep one identity.
/// Must not reference System.Management.Automation: it runs before, and independently of, the cmdlets.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private const string ContractsAssemblyName = "TierStorage.Contracts";
    private const string SqliteNativeName = "e_sqlite3";

    private readonly string _dependenciesDirectory;

    public DependencyLoadContext(string dependenciesDirectory)
        : base("TierStorage.Dependencies", isCollectible: false)
    {
        _dependenciesDirectory = dependenciesDirectory;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // Contracts types are named by scripts and cmdlet parameters: one copy, in the default context.
        if (string.Equals(assemblyName.Name, ContractsAssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var path = Path.Combine(_dependenciesDirectory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        if (!IsSqliteNative(unmanagedDllName) || CurrentRuntimeIdentifier() is not { } rid)
        {
            return IntPtr.Zero;
        }

        var path = Path.Combine(_dependenciesDirectory, "runtimes", rid, "native", SqliteNativeFileName());
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }

    // SQLitePCLRaw asks for "e_sqlite3"; other loaders add the platform's prefix or extension.
    private static bool IsSqliteNative(string name)
    {
        var fileName = Path.GetFileName(name);
        if (fileName.StartsWith("lib", StringComparison.Ordinal))
        {
            fileName = fileName[3..];
        }

        foreach (var extension in new[] { ".dll", ".so", ".dylib" })
        {
            if (fileName.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                fileName = fileName[..^extension.Length];
                break;
            }
        }

        return string.Equals(fileName, SqliteNativeName, StringComparison.OrdinalIgnoreCase);
    }

    private static string SqliteNativeFileName() =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "e_sqlite3.dll"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libe_sqlite3.dylib"
        : "libe_sqlite3.so";

    /// <summary>The runtimes/&lt;rid&gt; folder the module ships for this process, or null when it ships none.</summary>
    internal static string? CurrentRuntimeIdentifier()
    {
        var os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win"
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx"
            : RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? "linux"
            : null;
        var architecture = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            _ => null,
        };
        return os is null || architecture is null ? null : $"{os}-{architecture}";
    }
}
