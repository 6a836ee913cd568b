using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Xunit;

namespace TierStorage.Tests.PowerShell;

/// <summary>
/// The assembled module folder keeps every dependency out of PowerShell's default load context:
/// only the manifest, the cmdlet assembly, Contracts and the views at the root; the rest under Dependencies/; help under en-US/.
/// </summary>
public sealed class ModuleLayoutTests
{
    private static readonly string[] RootFiles =
        ["TierStorage.psd1", "TierStorage.PowerShell.dll", "TierStorage.Contracts.dll", "TierStorage.format.ps1xml"];

    private static readonly string[] HelpFiles =
        ["TierStorage.PowerShell.dll-Help.xml", "about_TierStorage.help.txt", "about_TierStorage_Policy.help.txt"];

    private static readonly string[] NativeSqlite =
    [
        "runtimes/win-x64/native/e_sqlite3.dll",
        "runtimes/linux-x64/native/libe_sqlite3.so",
        "runtimes/osx-arm64/native/libe_sqlite3.dylib",
    ];

    [Fact]
    public void Root_holds_only_the_manifest_the_cmdlets_the_contracts_and_the_views()
    {
        var files = Directory.GetFiles(ModulePaths.ModuleDir).Select(Path.GetFileName).Order().ToList();
        var directories = Directory.GetDirectories(ModulePaths.ModuleDir).Select(Path.GetFileName).ToList();

        Assert.Equal(RootFiles.Order(), files);
        Assert.Equal(["Dependencies", "en-US"], directories.Order());
    }

    [Fact]
    public void En_US_holds_the_cmdlet_help_and_the_about_topics_only()
    {
        var files = Directory.GetFiles(Path.Combine(ModulePaths.ModuleDir, "en-US")).Select(Path.GetFileName).Order().ToList();

        Assert.Equal(HelpFiles.Order(), files);
    }

    [Fact]
    public void Every_assembly_the_engine_needs_is_in_Dependencies_and_none_at_the_root()
    {
        // Starting from every shipped dll, not only the engine: the compiler drops references to packages the
        // engine does not call yet, but their own dependencies must still be complete.
        var needed = ReferenceClosure(Directory.GetFiles(ModulePaths.DependenciesDir, "*.dll"), out var missing);

        Assert.Empty(missing);
        foreach (var package in new[] { "TierStorage.Engine", "Microsoft.Data.Sqlite", "YamlDotNet", "SQLitePCLRaw.core" })
        {
            Assert.True(File.Exists(Path.Combine(ModulePaths.DependenciesDir, package + ".dll")), $"Dependencies/{package}.dll is missing");
            Assert.False(File.Exists(Path.Combine(ModulePaths.ModuleDir, package + ".dll")), $"{package}.dll must not be at the module root");
        }

        Assert.DoesNotContain(needed, name => File.Exists(Path.Combine(ModulePaths.ModuleDir, name + ".dll")));
        Assert.False(File.Exists(Path.Combine(ModulePaths.DependenciesDir, "TierStorage.Contracts.dll")),
            "Contracts must have a single copy, at the root, so its types have one identity");
    }

    [Fact]
    public void Cmdlet_assembly_references_nothing_third_party()
    {
        var references = References(Path.Combine(ModulePaths.ModuleDir, "TierStorage.PowerShell.dll"));
        var allowed = new HashSet<string> { "System.Management.Automation", "TierStorage.Contracts", "TierStorage.Engine" };

        Assert.DoesNotContain(references, name => !allowed.Contains(name) && !IsFramework(name));
    }

    [Theory]
    [MemberData(nameof(NativeSqliteCases))]
    public void Native_sqlite_ships_for_the_supported_platforms(string relativePath) =>
        Assert.True(File.Exists(Path.Combine(ModulePaths.DependenciesDir, relativePath)), $"Dependencies/{relativePath} is missing");

    public static TheoryData<string> NativeSqliteCases => new(NativeSqlite);

    /// <summary>Names of the non-framework assemblies reachable from <paramref name="starts"/>, other than Contracts
    /// (which lives at the root); <paramref name="missing"/> lists those not found in Dependencies/.</summary>
    private static HashSet<string> ReferenceClosure(IEnumerable<string> starts, out List<string> missing)
    {
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        missing = [];
        var pending = new Queue<string>(starts);
        while (pending.TryDequeue(out var path))
        {
            foreach (var name in References(path).Where(n => !IsFramework(n) && n != "TierStorage.Contracts"))
            {
                if (!found.Add(name))
                {
                    continue;
                }

                var candidate = Path.Combine(ModulePaths.DependenciesDir, name + ".dll");
                if (File.Exists(candidate))
                {
                    pending.Enqueue(candidate);
                }
                else
                {
                    missing.Add($"{Path.GetFileName(path)} needs {name}, which is not in Dependencies/");
                }
            }
        }

        return found;
    }

    private static List<string> References(string path)
    {
        using var reader = new PEReader(File.OpenRead(path));
        var metadata = reader.GetMetadataReader();
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
    }

    private static bool IsFramework(string name) =>
        File.Exists(Path.Combine(ModulePaths.RuntimeDirectory, name + ".dll"));
}
