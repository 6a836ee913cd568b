using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets the sessions of the workspace with their state and where each lives.</summary>
/// <remarks>
/// <para>Get-Session reads the catalog and writes one SessionInfo per session, oldest first: its phase, start and end, state (Active, Completed, BackedUp, Archived), the tiers that hold it and its sizes. Its SessionId property binds to Backup-Session, Complete-Session, Get-SessionEvent and Restore-Session.</para>
/// </remarks>
/// <example>
/// <code>Get-Session -Finished | Get-SessionEvent -Type error</code>
/// <para>The errors of every session that has ended, whether or not it is backed up or archived since.</para>
/// </example>
/// <example>
/// <code>Get-Session -Phase 1 | Backup-Session</code>
/// <para>Backs up every session of phase 1.</para>
/// </example>
/// <example>
/// <code>Get-Session session_20260101_090000</code>
/// <para>Gets one session by id; an id that does not exist is a SessionNotFound error. Wildcards (session_2026*) match any number of sessions, none included.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "Session", DefaultParameterSetName = StateSet)]
[OutputType(typeof(SessionInfo))]
public sealed class GetSessionCommand : WorkspaceCmdlet
{
    public const string StateSet = "State";
    public const string FinishedSet = "Finished";

    /// <summary>A session id, or a wildcard pattern (session_2026*). An id that does not exist is an error; a pattern that matches nothing is not.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Only the sessions of this phase.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int? Phase { get; set; }

    /// <summary>Only the sessions in this state: Active, Completed, BackedUp or Archived.</summary>
    [Parameter(ParameterSetName = StateSet)]
    public TierStorage.Contracts.SessionState? State { get; set; }

    /// <summary>Only sessions that have ended: Completed, BackedUp or Archived.</summary>
    [Parameter(ParameterSetName = FinishedSet, Mandatory = true)]
    public SwitchParameter Finished { get; set; }

    /// <summary>A shared (PostgreSQL) catalog: the sessions recorded on this machine, a name or a wildcard pattern (* for every
    /// machine of the team). Without -Machine and -User, Get-Session lists this machine's own sessions, the ones whose files
    /// are here. Ignored on the workspace's own SQLite catalog.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string? Machine { get; set; }

    /// <summary>A shared catalog: the sessions recorded by this user, a name or a wildcard pattern.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string? User { get; set; }

    protected override void ProcessRecord()
    {
        var filter = new SessionFilter { SessionId = SessionId, Phase = Phase, State = State, Finished = Finished, Machine = Machine, User = User };
        ProcessItem(SessionId, () => WriteStream(Workspace.GetSessionsAsync(filter, CancellationToken)));
    }
}
