using System.Reflection;
using TierStorage.Cli;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>
/// What the native `tierstorage` does before it answers (issue 12, "<= 30 ms where native"; bench/whole/startup.sh
/// --native measures it): its version answer looks no library up at run time (a lookup by name loaded ICU to compare
/// the name), and on Linux the data the runtime rebuilds before Main (~12 MB) is advised for transparent huge pages
/// (src/TierStorage.Cli.Native/native/hydrated-pages.c), where 4 KiB page faults were most of its start.
/// </summary>
public sealed class NativeStartupTests : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    [LinuxNativeFact]
    public async Task The_version_answer_loads_no_library_at_run_time()
    {
        // glibc's loader lists every object it loads: those the binary links ("needed by") and any dlopen ("dynamically loaded").
        var run = await NativeBinary.Cli.RunAsync("", new Dictionary<string, string?> { ["LD_DEBUG"] = "files" }, "--version");

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        var version = typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version + Environment.NewLine, run.Stdout);
        Assert.Contains("needed by", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("dynamically loaded", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("libicu", run.Stderr, StringComparison.Ordinal);
    }

    [LinuxNativeFact(needsHugePages: true)]
    public async Task The_data_rebuilt_before_Main_is_advised_for_huge_pages()
    {
        var template = Path.Combine(_temp.Root, "template.yaml");
        File.WriteAllText(template, """
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
            """);
        Dictionary<string, string?> environment = new() { ["TIERSTORAGE_WORKSPACE"] = null, ["TIERSTORAGE_POLICY"] = null };
        foreach (string[] args in (string[][])[["init", "--policy-template", template], ["session", "start", "--phase", "1"]])
        {
            var run = await NativeBinary.Cli.RunAsync("", environment, [.. args, "--workspace", _temp.Workspace]);
            Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        }

        // A native process that waits for its input: events on stdin, added when stdin closes.
        using var process = NativeBinary.Cli.Start(environment, "event", "add", "--stdin", "--workspace", _temp.Workspace);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string? flags = null;
        string seen = "";
        try
        {
            // The advice is given before Main; read the process's mappings until it shows (or the process is gone).
            for (var attempt = 0; attempt < 100 && flags?.Contains(" hg", StringComparison.Ordinal) != true && !process.HasExited; attempt++)
            {
                try
                {
                    seen = await File.ReadAllTextAsync($"/proc/{process.Id}/smaps");
                }
                catch (IOException)
                {
                    break;
                }
                flags = ZeroFilledDataFlags(seen);
                if (flags?.Contains(" hg", StringComparison.Ordinal) != true) await Task.Delay(50);
            }
        }
        finally
        {
            process.StandardInput.Close();
            await process.WaitForExitAsync();
        }

        Assert.True(process.ExitCode == ExitCodes.Success, $"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
        Assert.True(flags is not null, "no anonymous mapping right after the binary's writable data in /proc/<pid>/smaps:\n" + seen);
        // "hg": the mapping has MADV_HUGEPAGE (VM_HUGEPAGE). Whether huge pages were free to back it is the kernel's business.
        Assert.Contains(" hg", flags, StringComparison.Ordinal);
    }

    /// <summary>The VmFlags of the mapping that holds the binary's zero-filled data (.bss, .hydrated): the anonymous
    /// mapping that starts where the binary's last writable file mapping ends. Null when there is none.</summary>
    private static string? ZeroFilledDataFlags(string smaps)
    {
        string? previousEnd = null, candidate = null;
        foreach (var line in smaps.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && fields[0].Contains('-', StringComparison.Ordinal) && fields[1].Length == 4 && !line.StartsWith("VmFlags", StringComparison.Ordinal))
            {
                var range = fields[0].Split('-');
                var path = fields.Length >= 6 ? fields[5] : "";
                candidate = previousEnd == range[0] && path == "" ? fields[0] : null;
                previousEnd = Path.GetFileName(path) == "tierstorage" && fields[1].StartsWith("rw", StringComparison.Ordinal) ? range[1] : null;
            }
            else if (candidate is not null && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line;
            }
        }
        return null;
    }
}

/// <summary>A native-binary test of what only Linux with glibc has (its loader's LD_DEBUG, /proc, transparent huge
/// pages); skipped, with the reason, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxNativeFactAttribute : FactAttribute
{
    public LinuxNativeFactAttribute(bool needsHugePages = false)
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal))
            Skip = "Linux with glibc only: its loader's LD_DEBUG, /proc and transparent huge pages";
        else if (needsHugePages && !File.Exists("/sys/kernel/mm/transparent_hugepage/enabled"))
            Skip = "this kernel has no transparent huge pages (no /sys/kernel/mm/transparent_hugepage)";
        else if (NativeBinary.UnavailableReason is { } reason) Skip = reason;
    }
}
