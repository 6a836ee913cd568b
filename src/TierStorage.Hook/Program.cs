using System.Diagnostics;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;

namespace TierStorage.Hook;

/// <summary>
/// <c>tierstorage-hook [--workspace DIR] [--policy FILE]</c>: <c>tierstorage hook</c> compiled ahead of time. It reads
/// the payload once, records it through the engine's own fast path (the same event, redaction, lock and append as the
/// managed command's, so the line written is the same) and hands every call that path does not serve (SessionEnd, no
/// active session, a redaction cache that does not match the policy, a payload to reject, other arguments, an unexpected
/// error) to the managed command with the same bytes on its standard input, whose exit code it returns: what is recorded
/// and reported is what <c>tierstorage hook</c> alone would do, and never exit code 2 (Claude Code reads it as "block
/// this tool call").
/// </summary>
internal static class Program
{
    private const int Success = 0;
    private const int Failed = 1;

    /// <summary>The managed command to hand calls to: a tierstorage.dll (run with dotnet) or an executable.</summary>
    internal const string CliVariable = "TIERSTORAGE_CLI";

    private static int Main(string[] args)
    {
        byte[] payloadBytes;
        try
        {
            payloadBytes = ReadAll(Console.OpenStandardInput());
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"tierstorage: {ErrorIds.IOError}: The hook payload could not be read from standard input ({ex.Message}).");
            return Failed;
        }

        string[] hookArgs = ["hook", .. args];
        if (!ClaudeHookRecorder.TryReadFastPathArguments(hookArgs, out var workspacePath, out var policyPath))
            return HandOff(hookArgs, payloadBytes);
        try
        {
            var outcome = ClaudeHookRecorder.TryRecordFromCachedPolicy(TierWorkspace.ResolveWorkspacePath(workspacePath), policyPath,
                Decode(payloadBytes), DateTimeOffset.UtcNow, message => Console.Error.WriteLine($"tierstorage: warning: {message}"), CancellationToken.None);
            if (outcome is not null) return Success;
        }
        catch (TierStorageException ex)
        {
            // As the managed fast path reports it (a lock held past its timeout, a disk error): exit 1, never 2.
            Console.Error.WriteLine($"tierstorage: {ex.ErrorId}: {ex.Message}");
            return Failed;
        }
        catch (Exception)
        {
            // Whatever this binary did not foresee, the managed command decides (and reports) as it would have alone.
        }
        return HandOff(hookArgs, payloadBytes);
    }

    private static byte[] ReadAll(Stream stdin)
    {
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>The payload as the managed command's standard input reader reads it: UTF-8, a byte order mark dropped.</summary>
    private static string Decode(byte[] payload)
    {
        using var reader = new StreamReader(new MemoryStream(payload, writable: false), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>Runs the managed <c>tierstorage hook</c> with the same arguments and payload; its stdout and stderr are this
    /// process's. Exit code 1 when it cannot be started, and never 2.</summary>
    private static int HandOff(string[] hookArgs, byte[] payload)
    {
        ProcessStartInfo start;
        try
        {
            start = ManagedCommand();
        }
        catch (FileNotFoundException ex)
        {
            return CannotHandOff(ex.Message);
        }
        foreach (var argument in hookArgs) start.ArgumentList.Add(argument);
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("no process was started");
            try
            {
                process.StandardInput.BaseStream.Write(payload);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It exited without reading its input (its exit code says why).
            }
            process.WaitForExit();
            return process.ExitCode == 2 ? Failed : process.ExitCode;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return CannotHandOff($"'{start.FileName}': {ex.Message}");
        }
    }

    private static int CannotHandOff(string reason)
    {
        Console.Error.WriteLine($"tierstorage: {ErrorIds.IOError}: This hook call needs the tierstorage command, which could not be started " +
                                $"({reason}). Put tierstorage.dll beside tierstorage-hook, set {CliVariable}, or put tierstorage on PATH.");
        return Failed;
    }

    /// <summary>The managed command: $TIERSTORAGE_CLI, else tierstorage.dll beside this binary (the CLI's folder), else
    /// tierstorage on PATH. A .dll runs with the dotnet host that runs everything else of TierStorage.</summary>
    private static ProcessStartInfo ManagedCommand()
    {
        var chosen = Environment.GetEnvironmentVariable(CliVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : Path.Combine(AppContext.BaseDirectory, "tierstorage.dll") is var beside && File.Exists(beside) ? beside
            : "tierstorage";
        if (!chosen.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) return new ProcessStartInfo(chosen);
        // dotnet would say only that it found no such command.
        if (!File.Exists(chosen)) throw new FileNotFoundException($"'{chosen}' does not exist", chosen);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet");
        start.ArgumentList.Add(chosen);
        return start;
    }
}
