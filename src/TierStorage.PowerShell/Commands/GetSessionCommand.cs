using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets the sessions of the workspace with their state and where each lives.</summary>
/// <remarks>
/// <para>Get-Session reads the catalog and writes one SessionInfo per session, oldest first: its phase, start and end, state (Active, Completed, BackedUp, Archived), the tiers that hold it and its sizes. Its SessionId property binds to Backup-Session, Complete-Session, Get-SessionEvent and Restore-Session.</para>
/// </remarks>
/// <example>
/// <code>Get-Session -State Completed</code>
/// <para>Lists the completed sessions that are not backed up yet.</para>
/// </example>
/// <example>
/// <code>Get-Session -Phase 1 | Backup-Session</code>
/// <para>Backs up every session of phase 1.</para>
/// </example>
/// <example>
/// <code>Get-Session session_20260101_090000</code>
/// <para>Gets one session by id.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "Session")]
[OutputType(typeof(SessionInfo))]
public sealed class GetSessionCommand : WorkspaceCmdlet
{
    /// <summary>Only this session.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Only the sessions of this phase.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int? Phase { get; set; }

    /// <summary>Only the sessions in this state: Active, Completed, BackedUp or Archived.</summary>
    [Parameter]
    public TierStorage.Contracts.SessionState? State { get; set; }

    protected override void ProcessRecord()
    {
        var filter = new SessionFilter { SessionId = SessionId, Phase = Phase, State = State };
        ProcessItem(SessionId, () => WriteStream(Workspace.GetSessionsAsync(filter, CancellationToken)));
    }
}
