using System.Diagnostics;
using TierStorage.Contracts;

namespace TierStorage.Engine.Backup;

/// <summary>A command line that backs up one session: the front that is running knows how to start itself again
/// (the CLI: dotnet tierstorage.dll backup run; PowerShell: pwsh -Command Backup-Session).</summary>
public sealed record BackgroundCommand(string FileName, IReadOnlyList<string> Arguments);

/// <summary>
/// Hands a session's backup to a detached process (the policy's backup.on_session_complete), so the agent session is not
/// blocked and closing the terminal does not kill the upload. The process records its outcome in the catalog
/// (backup_runs, the queue, the session's state) like any other backup.
/// </summary>
public static class BackgroundBackup
{
    /// <summary>Starts the command detached from this terminal and returns its process id. ErrorIds.BackgroundBackupFailed
    /// when it cannot be started.</summary>
    public static int Start(BackgroundCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        ProcessStartInfo start;
        if (OperatingSystem.IsWindows())
        {
            // A hidden console of its own: closing the user's terminal does not take the backup with it.
            start = new ProcessStartInfo(command.FileName) { UseShellExecute = false, CreateNoWindow = true };
            foreach (var a in command.Arguments) start.ArgumentList.Add(a);
        }
        else
        {
            // setsid puts the backup in a session of its own (no SIGHUP when the terminal closes); its output goes nowhere,
            // so it never writes into the user's terminal or dies on a closed pipe.
            start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("if command -v setsid >/dev/null 2>&1; then exec setsid \"$@\" </dev/null >/dev/null 2>&1; else exec \"$@\" </dev/null >/dev/null 2>&1; fi");
            start.ArgumentList.Add("tierstorage-background-backup");
            start.ArgumentList.Add(command.FileName);
            foreach (var a in command.Arguments) start.ArgumentList.Add(a);
        }

        try
        {
            using var process = Process.Start(start) ?? throw CannotStart(command.FileName, null);
            return process.Id;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw CannotStart(command.FileName, ex);
        }
    }

    /// <summary>The dotnet host running this process when it is one (the CLI under `dotnet`, tests), else DOTNET_HOST_PATH, else dotnet on PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    private static TierStorageException CannotStart(string fileName, Exception? inner) =>
        new(ErrorIds.BackgroundBackupFailed, TierErrorKind.ResourceUnavailable,
            $"The background backup could not start '{fileName}'{(inner is null ? "" : $": {inner.Message}")}. Run Backup-Session (tierstorage backup run) yourself, or complete with -Wait.",
            fileName, inner);
}
