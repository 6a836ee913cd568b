using System.Diagnostics;
using TierStorage.Contracts;

namespace TierStorage.Engine.Backup;

/// <summary>
/// Hands a session's backup to a detached `tierstorage backup` process (the policy's backup.on_session_complete), so the
/// agent session is not blocked and closing the terminal does not kill the upload. The process records its outcome in
/// the catalog (backup_runs, the queue, the session's state) like any other backup.
/// </summary>
public static class BackgroundBackup
{
    /// <summary>Path of the tierstorage.dll to run; default the one beside the engine (the CLI's folder, or the module's Dependencies/).</summary>
    public const string CliVariable = "TIERSTORAGE_CLI";

    /// <summary>Starts the backup and returns the process id. ErrorIds.BackgroundBackupFailed when no tierstorage command can be found.</summary>
    public static int Start(string workspaceRoot, string? policyPath, string sessionId)
    {
        var cli = FindCli();
        var arguments = new List<string> { cli, "backup", "run", sessionId, "--workspace", workspaceRoot, "--quiet" };
        if (policyPath is not null) arguments.AddRange(["--policy", policyPath]);
        var dotnet = DotnetHost();

        ProcessStartInfo start;
        if (OperatingSystem.IsWindows())
        {
            // A hidden console of its own: closing the user's terminal does not take the backup with it.
            start = new ProcessStartInfo(dotnet) { UseShellExecute = false, CreateNoWindow = true };
            foreach (var a in arguments) start.ArgumentList.Add(a);
        }
        else
        {
            // setsid puts the backup in a session of its own (no SIGHUP when the terminal closes); its output goes nowhere,
            // so it never writes into the user's terminal or dies on a closed pipe.
            start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("if command -v setsid >/dev/null 2>&1; then exec setsid \"$@\" </dev/null >/dev/null 2>&1; else exec \"$@\" </dev/null >/dev/null 2>&1; fi");
            start.ArgumentList.Add("tierstorage-background-backup");
            start.ArgumentList.Add(dotnet);
            foreach (var a in arguments) start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw CannotStart(cli, null);
        return process.Id;
    }

    private static string FindCli()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(CliVariable) is { Length: > 0 } configured) candidates.Add(configured);
        var engineDirectory = Path.GetDirectoryName(typeof(BackgroundBackup).Assembly.Location);
        if (!string.IsNullOrEmpty(engineDirectory)) candidates.Add(Path.Combine(engineDirectory, "tierstorage.dll"));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "tierstorage.dll"));
        return candidates.FirstOrDefault(File.Exists) ?? throw CannotStart(string.Join("', '", candidates), null);
    }

    /// <summary>The dotnet host running us when we are a .NET app (the CLI, tests), else DOTNET_HOST_PATH, else dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    private static TierStorageException CannotStart(string where, Exception? inner) =>
        new(ErrorIds.BackgroundBackupFailed, TierErrorKind.ResourceUnavailable,
            $"The background backup could not start: no tierstorage command at '{where}'. Set ${CliVariable}, or run Backup-Session (tierstorage backup run) yourself.",
            where, inner);
}
