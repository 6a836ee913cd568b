using System.Management.Automation;

namespace TierStorage.PowerShell.Loading;

/// <summary>Runs on Import-Module / Remove-Module. Only forwards to <see cref="DependencyResolver"/>, so that no
/// engine type is touched before the resolver is in place.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport() =>
        DependencyResolver.Install(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!);

    public void OnRemove(PSModuleInfo psModuleInfo) => DependencyResolver.Uninstall();
}
