using System.Reflection;
using System.Runtime.Loader;

namespace TierStorage.PowerShell.Loading;

/// <summary>
/// Routes the engine assembly into <see cref="DependencyLoadContext"/> when the default context fails to find it
/// (it is not beside the cmdlet assembly, so it always fails). Kept free of System.Management.Automation so a
/// host without PowerShell (tests/TierStorage.ModuleHost) can install it.
/// </summary>
public static class DependencyResolver
{
    private const string EngineAssemblyName = "TierStorage.Engine";
    private const string ContractsAssemblyName = "TierStorage.Contracts";
    private static readonly object Gate = new();
    private static DependencyLoadContext? _context;
    private static string? _moduleRoot;

    /// <summary>The context holding the engine, once installed.</summary>
    public static AssemblyLoadContext? LoadContext => _context;

    /// <summary>Hooks the default context's resolution. <paramref name="moduleRoot"/> is the folder of TierStorage.psd1.</summary>
    public static void Install(string moduleRoot)
    {
        lock (Gate)
        {
            if (_context is not null)
            {
                return;
            }

            _moduleRoot = moduleRoot;
            _context = new DependencyLoadContext(Path.Combine(moduleRoot, "Dependencies"));
            AssemblyLoadContext.Default.Resolving += ResolveInDefault;
        }
    }

    /// <summary>Unhooks; assemblies already loaded stay loaded (the context is not collectible).</summary>
    public static void Uninstall()
    {
        lock (Gate)
        {
            AssemblyLoadContext.Default.Resolving -= ResolveInDefault;
            _context = null;
            _moduleRoot = null;
        }
    }

    private static Assembly? ResolveInDefault(AssemblyLoadContext defaultContext, AssemblyName assemblyName)
    {
        var context = _context;
        var moduleRoot = _moduleRoot;
        if (context is null || moduleRoot is null)
        {
            return null;
        }

        if (string.Equals(assemblyName.Name, EngineAssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            return context.LoadFromAssemblyName(assemblyName);
        }

        // PowerShell loads Contracts through RequiredAssemblies; other hosts reach it first through the engine.
        if (string.Equals(assemblyName.Name, ContractsAssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            var path = Path.Combine(moduleRoot, ContractsAssemblyName + ".dll");
            return File.Exists(path) ? defaultContext.LoadFromAssemblyPath(path) : null;
        }

        return null;
    }
}
