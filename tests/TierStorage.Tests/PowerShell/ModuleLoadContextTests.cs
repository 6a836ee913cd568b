using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace TierStorage.Tests.PowerShell;

/// <summary>Runs tests/TierStorage.ModuleHost once: a process that, like pwsh, knows only the module folder.</summary>
public sealed class ModuleHostRun : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "tierstorage-modulehost-" + Guid.NewGuid().ToString("N"));

    public ModuleHostRun()
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { ModulePaths.ModuleHost, ModulePaths.ModuleDir, _scratch })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        Output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Error = stderr.GetAwaiter().GetResult();
        Result = Output.TrimStart().StartsWith('{') ? JsonDocument.Parse(Output).RootElement.Clone() : default;
    }

    public string Output { get; }
    public string Error { get; }
    public JsonElement Result { get; }

    public void Dispose()
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }
}

public sealed class ModuleLoadContextTests(ModuleHostRun host) : IClassFixture<ModuleHostRun>
{
    [Fact]
    public void Engine_loads_in_the_module_context_from_Dependencies()
    {
        Assert.True(Property("engineInModuleContext").GetBoolean(), host.Output + host.Error);
        Assert.StartsWith(ModulePaths.DependenciesDir, Property("engineLocation").GetString());
    }

    [Fact]
    public void Contracts_resolve_to_the_root_copy_in_the_default_context()
    {
        Assert.True(Property("contractsInDefaultContext").GetBoolean(), host.Output + host.Error);
        Assert.Equal(Path.Combine(ModulePaths.ModuleDir, "TierStorage.Contracts.dll"), Property("contractsLocation").GetString());
    }

    [Fact]
    public void Sqlite_managed_and_native_load_from_Dependencies()
    {
        Assert.True(Property("sqliteFromDependencies").GetBoolean(), host.Output + host.Error);
        Assert.True(Property("sqliteNative").GetProperty("ok").GetBoolean(), host.Output);
    }

    [Fact]
    public void Engine_opens_a_catalog_through_the_module_context() =>
        Assert.True(Property("catalog").GetProperty("ok").GetBoolean(), host.Output);

    private JsonElement Property(string name)
    {
        Assert.True(host.Result.ValueKind == JsonValueKind.Object, $"module host printed no result.\n{host.Output}\n{host.Error}");
        return host.Result.GetProperty(name);
    }
}
