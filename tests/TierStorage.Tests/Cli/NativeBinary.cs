using System.Diagnostics;
using System.Text;
using TierStorage.Tests.PowerShell;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>
/// A NativeAOT program of the repository as build.ps1 publishes it: the Claude Code hook (src/TierStorage.Hook, to
/// out/hook/tierstorage-hook) and the `tierstorage` command (src/TierStorage.Cli.Native, to out/native/tierstorage).
/// Published again here (a no-op when build.ps1 just did it) so that `dotnet test` alone never runs a binary older than
/// the sources; a publish that fails for any reason but a missing C toolchain fails the tests that need it.
/// </summary>
internal sealed class NativeBinary
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public static NativeBinary Hook { get; } = new("TierStorage.Hook", "hook", "tierstorage-hook");

    public static NativeBinary Cli { get; } = new("TierStorage.Cli.Native", "native", "tierstorage");

    private readonly string _project;
    private readonly string _name;
    private readonly Lazy<string> _published;

    private NativeBinary(string project, string folder, string name)
    {
        _project = project;
        _name = name;
        OutputDirectory = Path.Combine(ModulePaths.RepoRoot, "out", folder);
        _published = new(Publish, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string OutputDirectory { get; }

    /// <summary>Why NativeAOT cannot build on this machine (null: it can). It links with the platform's C toolchain, which
    /// the .NET SDK does not bring.</summary>
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
    public string Executable => _published.Value;

    /// <summary>The managed command: the CLI the test project references, copied beside the tests.</summary>
    public static string ManagedCli => Path.Combine(AppContext.BaseDirectory, "tierstorage.dll");

    private string Publish()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var argument in new[] { "publish", Path.Combine(ModulePaths.RepoRoot, "src", _project, _project + ".csproj"),
                     "-c", Configuration, "-o", OutputDirectory, "-nologo", "-v:m" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet publish of {_project} exited {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        var binary = Path.Combine(OutputDirectory, OperatingSystem.IsWindows() ? _name + ".exe" : _name);
        Assert.True(File.Exists(binary), $"dotnet publish wrote no {binary}:\n{stdout}");
        return binary;
    }

    /// <summary>Runs the binary with <paramref name="input"/> on stdin (as bytes: what Claude Code sends a hook).</summary>
    public async Task<NativeRun> RunAsync(byte[] input, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return new NativeRun(process.ExitCode, await stdout, await stderr);
    }

    public Task<NativeRun> RunAsync(string input, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunAsync(Encoding.UTF8.GetBytes(input), environment, args);

    /// <summary>Starts the binary with stdin, stdout and stderr redirected and <paramref name="environment"/> applied (a null
    /// value removes the variable); for a test that acts while the process runs.</summary>
    public Process Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in args) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        return Process.Start(start)!;
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(directory => File.Exists(Path.Combine(directory, command)));
}

public sealed record NativeRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A test that runs a published native binary (the hook, the CLI); skipped, with the reason, where NativeAOT cannot build here.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NativeFactAttribute : FactAttribute
{
    public NativeFactAttribute()
    {
        if (NativeBinary.UnavailableReason is { } reason) Skip = reason;
    }
}

/// <summary>A theory that runs a published native binary; skipped, with the reason, where NativeAOT cannot build here.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NativeTheoryAttribute : TheoryAttribute
{
    public NativeTheoryAttribute()
    {
        if (NativeBinary.UnavailableReason is { } reason) Skip = reason;
    }
}
