using System.Reflection;

namespace TierStorage.Tests.PowerShell;

/// <summary>Where the build put the module folder and its helpers (stamped into this assembly by the test project).</summary>
internal static class ModulePaths
{
    public static string RepoRoot => Metadata("TierStorageRepoRoot");

    /// <summary>out/TierStorage, assembled after every build of the test project.</summary>
    public static string ModuleDir => Metadata("TierStorageModuleDir");

    public static string DependenciesDir => Path.Combine(ModuleDir, "Dependencies");

    public static string ModuleHost => Metadata("TierStorageModuleHost");

    /// <summary>The reference System.Management.Automation the cmdlets compile against.</summary>
    public static string PowerShellReferenceAssembly =>
        Path.Combine(Metadata("NuGetPackageRoot"), "powershellstandard.library", "5.1.0-preview-06", "lib", "netstandard2.0",
            "System.Management.Automation.dll");

    public static string RuntimeDirectory => System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();

    private static string Metadata(string key) =>
        typeof(ModulePaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"Assembly metadata '{key}' is missing; see TierStorage.Tests.csproj.");
}
