using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using TierStorage.Engine.Backup;

namespace TierStorage.PowerShell.Commands;

/// <summary>Completes a session: writes its handoff note and marks it Completed.</summary>
/// <remarks>
/// <para>Complete-Session appends the session_end event, writes the handoff note under handoffs/ and marks the session Completed in the catalog.</para>
/// <para>When the policy's backup.on_session_complete is on, the backup is handed to a detached background process so that the agent is not blocked; -Wait runs it here instead and writes its BackupResult too, and -NoBackup skips it this once.</para>
/// </remarks>
/// <example>
/// <code>Complete-Session</code>
/// <para>Completes the active session and starts its backup in the background.</para>
/// </example>
/// <example>
/// <code>Get-Session -Phase 1 | Complete-Session -Wait</code>
/// <para>Completes the sessions of phase 1 and backs each up before returning.</para>
/// </example>
/// <example>
/// <code>Complete-Session -SessionId session_20260101_090000 -NoBackup</code>
/// <para>Completes one session without starting its backup.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Complete, "Session", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SessionInfo), typeof(BackupResult))]
public sealed class CompleteSessionCommand : WorkspaceCmdlet
{
    public const string ByIdSet = "ById";
    public const string InputObjectSet = "InputObject";
    private const int ActivityId = 34;

    /// <summary>Session to complete; default the active one.</summary>
    [Parameter(ParameterSetName = ByIdSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Sessions to complete, as SessionInfo objects from Get-Session.</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public SessionInfo? InputObject { get; set; }

    /// <summary>Run the policy's backup here (writing its BackupResult) instead of in a background process.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Do not start the policy's backup this time.</summary>
    [Parameter]
    public SwitchParameter NoBackup { get; set; }

    /// <summary>This PowerShell, started again without a profile, importing this module and running Backup-Session.</summary>
    private static BackgroundCommand BackgroundBackupCommand(string sessionId, string workspace, string? policy)
    {
        var manifest = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(CompleteSessionCommand).Assembly.Location)!, "TierStorage.psd1");
        var script = $"Import-Module {Quote(manifest)}; Backup-Session -SessionId {Quote(sessionId)} -WorkspacePath {Quote(workspace)}"
            + (policy is null ? "" : $" -PolicyPath {Quote(policy)}") + " -Confirm:$false | Out-Null";
        var pwsh = Environment.ProcessPath ?? "pwsh";
        return new BackgroundCommand(pwsh, ["-NoProfile", "-NonInteractive", "-Command", script]);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    protected override void ProcessRecord()
    {
        var sessionId = ParameterSetName == InputObjectSet ? InputObject!.SessionId : SessionId;
        var target = sessionId ?? "active session";
        if (!ShouldProcess(target, "Complete session"))
        {
            return;
        }

        ProcessItem(target, () =>
        {
            var completed = Await(Workspace.CompleteSessionAsync(sessionId, CancellationToken));
            var backingUpHere = Wait && !NoBackup;
            if (!backingUpHere)
            {
                // The backup, if any, runs in the background: the session as completed is all there is to say now.
                WriteObject(completed);
            }

            var progress = BackupProgressBar(ActivityId, "Backing up");
            var results = new List<BackupResult>();
            var backups = Workspace.Backups.AfterSessionCompletedAsync(completed.SessionId, Wait, NoBackup, BackgroundBackupCommand, progress, CancellationToken).GetAsyncEnumerator(CancellationToken);
            try
            {
                while (Await(backups.MoveNextAsync()))
                {
                    // A background start is news, not output: scripts piping Complete-Session get SessionInfo objects.
                    if (backups.Current.Status == BackupStatus.Started)
                    {
                        WriteVerbose(backups.Current.Message);
                    }
                    else
                    {
                        results.Add(backups.Current);
                    }
                }
            }
            finally
            {
                Await(backups.DisposeAsync());
            }

            if (backingUpHere)
            {
                // With -Wait the session is written once the backup is done, as it is then (verified, where it lives),
                // followed by the backup's results; the state before the backup is no longer true.
                WriteStream(Workspace.GetSessionsAsync(new SessionFilter { SessionId = completed.SessionId }, CancellationToken));
            }

            WriteObject(results, enumerateCollection: true);

            if (Wait)
            {
                CompleteProgress(ActivityId, "Complete-Session");
            }
        });
    }
}
