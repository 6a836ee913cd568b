/// <summary>
/// A .NET startup hook (DOTNET_STARTUP_HOOKS=&lt;this test assembly&gt;) for the `tierstorage` processes that
/// <see cref="TierStorage.Tests.Cli.CliStartupTests"/> starts: when the process exits, the simple names of every assembly
/// it loaded go to the file named by <see cref="LogVariable"/>, one per line. Uses nothing but the runtime, so loading
/// this assembly into the CLI's process resolves none of the test project's references. The runtime requires the name
/// StartupHook, outside any namespace.
/// </summary>
internal static class StartupHook
{
    public const string LogVariable = "TIERSTORAGE_TEST_ASSEMBLY_LOG";

    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable(LogVariable);
        if (string.IsNullOrEmpty(path)) return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            var names = new List<string>();
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies()) names.Add(assembly.GetName().Name ?? "");
            File.WriteAllLines(path, names);
        };
    }
}
