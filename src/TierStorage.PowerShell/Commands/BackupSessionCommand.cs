using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Backs up sessions to the backup tier and verifies every file there.</summary>
/// <remarks>
/// <para>Backup-Session packages each session (activity.jsonl.gz, snapshots.tar.gz, handoff.md, analytics_snapshot.db.gz and a manifest with sizes, MD5 and SHA-256), uploads what the tier does not already hold, checks each file against the MD5 the tier reports, stores the manifest last and records everything in the catalog. Only then are local sessions beyond retention.local_sessions pruned.</para>
/// <para>Sessions queued earlier go first. A tier that cannot be reached queues the backup instead (Status Queued); Sync-BackupQueue or the next policy run sends it. Without -SessionId every completed session is backed up.</para>
/// </remarks>
/// <example>
/// <code>Get-Session -Phase 1 | Backup-Session</code>
/// <para>Backs up every session of phase 1.</para>
/// </example>
/// <example>
/// <code>Backup-Session</code>
/// <para>Backs up every completed session not yet on the backup tier, queued ones first.</para>
/// </example>
/// <example>
/// <code>Test-Backup | Where-Object Status -ne Ok | Backup-Session</code>
/// <para>Backs up again every session whose backup is missing or damaged.</para>
/// </example>
[Cmdlet(VerbsData.Backup, "Session", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BackupResult))]
public sealed class BackupSessionCommand : WorkspaceCmdlet
{
    public const string ByIdSet = "ById";
    public const string InputObjectSet = "InputObject";
    private const int ActivityId = 31;

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private bool _anyInput;
    private bool _queueDrained;

    /// <summary>Sessions to back up; binds SessionId from Get-Session and Test-Backup output. Default: every completed session.</summary>
    [Parameter(ParameterSetName = ByIdSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string[]? SessionId { get; set; }

    /// <summary>Sessions to back up, as SessionInfo objects from Get-Session.</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public SessionInfo[]? InputObject { get; set; }

    /// <summary>Tier to back up to; default the policy's level-2 tier.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    protected override void ProcessRecord()
    {
        var ids = ParameterSetName == InputObjectSet ? InputObject!.Select(s => s.SessionId) : SessionId ?? [];
        foreach (var id in ids)
        {
            _anyInput = true;
            // Test-Backup writes one finding per object and Orphans without a session: each session is backed up once.
            if (string.IsNullOrEmpty(id) || !_seen.Add(id))
            {
                WriteVerbose(string.IsNullOrEmpty(id) ? "Skipped an input without a session id (an orphan object of Test-Backup)." : $"Skipped '{id}': already backed up by this command.");
                continue;
            }

            BackUp(id);
        }
    }

    protected override void EndProcessing()
    {
        if (!_anyInput)
        {
            var completed = new List<string>();
            ProcessItem(null, () =>
            {
                var sessions = Workspace.GetSessionsAsync(new SessionFilter { State = TierStorage.Contracts.SessionState.Completed }, CancellationToken).GetAsyncEnumerator(CancellationToken);
                while (Await(sessions.MoveNextAsync()))
                {
                    completed.Add(sessions.Current.SessionId);
                }
            });
            WriteVerbose(completed.Count == 0
                ? "No session given and none is Completed: only the backup queue is sent."
                : $"No session given: backing up the {completed.Count} Completed session(s); BackedUp and Archived ones are skipped.");
            foreach (var id in completed)
            {
                BackUp(id);
            }

            if (completed.Count == 0 && !_queueDrained)
            {
                BackUp(null);
            }
        }

        CompleteProgress(ActivityId, "Backup-Session");
        base.EndProcessing();
    }

    private void BackUp(string? sessionId)
    {
        var target = sessionId ?? "backup queue";
        var request = new BackupRequest { SessionIds = sessionId is null ? [] : [sessionId], Tier = Tier, DrainQueue = !_queueDrained };
        if (!ShouldProcess(target, $"Back up to tier '{Tier ?? "backup"}'"))
        {
            ProcessItem(target, () => WriteStream(Workspace.Backups.PlanAsync(request, CancellationToken)));
            return;
        }

        _queueDrained = true;
        var progress = BackupProgressBar(ActivityId, "Backing up");
        ProcessItem(target, () => WriteStream(Workspace.Backups.BackupAsync(request, progress, CancellationToken)));
    }
}
