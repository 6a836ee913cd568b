using System.Diagnostics;
using System.Text;
using TierStorage.Tests.PowerShell;
using Xunit;

namespace TierStorage.Tests.Ingest;

/// <summary>
/// The native hook (src/TierStorage.Hook) as build.ps1 publishes it, to out/hook/tierstorage-hook. Published again here
/// (a no-op when build.ps1 just did it) so that `dotnet test` alone never runs a binary older than the sources; a publish
/// that fails for any reason but a missing C toolchain fails the tests that need it.
/// </summary>
internal static class NativeHookBinary
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly Lazy<string> Published = new(Publish, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string OutputDirectory => Path.Combine(ModulePaths.RepoRoot, "out", "hook");

    /// <summary>Why the native hook cannot be built on this machine (null: it can). NativeAOT links with the platform's
    /// C toolchain, which the .NET SDK does not bring.</summary>
    public static string? UnavailableReason
    {
        get
        {
            if (OperatingSystem.IsWindows())
                return File.Exists(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFilesX86), "Microsoft Visual Studio", "Installer", "vswhere.exe"))
                    ? null
                    : "NativeAOT needs the Visual Studio C++ build tools, which are not installed";
            return OnPath("clang") || OnPath("gcc") ? null : "NativeAOT needs clang or gcc on PATH, and neither is there";
        }
    }

    /// <summary>The published binary's path (published once per test run).</summary>
    public static string Executable => Published.Value;

    /// <summary>The managed command a hand-off runs: the CLI the test project references, copied beside the tests.</summary>
    public static string ManagedCli => Path.Combine(AppContext.BaseDirectory, "tierstorage.dll");

    private static string Publish()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var argument in new[] { "publish", Path.Combine(ModulePaths.RepoRoot, "src", "TierStorage.Hook", "TierStorage.Hook.csproj"),
                     "-c", Configuration, "-o", OutputDirectory, "-nologo", "-v:m" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet publish of the native hook exited {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        var binary = Path.Combine(OutputDirectory, OperatingSystem.IsWindows() ? "tierstorage-hook.exe" : "tierstorage-hook");
        Assert.True(File.Exists(binary), $"dotnet publish wrote no {binary}:\n{stdout}");
        return binary;
    }

    /// <summary>Runs the native hook with <paramref name="payload"/> on stdin (as bytes: what Claude Code sends).</summary>
    public static async Task<NativeRun> RunAsync(byte[] payload, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in args) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(payload);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return new NativeRun(process.ExitCode, await stdout, await stderr);
    }

    public static Task<NativeRun> RunAsync(string payload, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunAsync(Encoding.UTF8.GetBytes(payload), environment, args);

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(directory => File.Exists(Path.Combine(directory, command)));
}

public sealed record NativeRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A test that runs the published native hook; skipped, with the reason, where NativeAOT cannot build here.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NativeHookFactAttribute : FactAttribute
{
    public NativeHookFactAttribute()
    {
        if (NativeHookBinary.UnavailableReason is { } reason) Skip = reason;
    }
}

/// <summary>A theory that runs the published native hook; skipped, with the reason, where NativeAOT cannot build here.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NativeHookTheoryAttribute : TheoryAttribute
{
    public NativeHookTheoryAttribute()
    {
        if (NativeHookBinary.UnavailableReason is { } reason) Skip = reason;
    }
}
