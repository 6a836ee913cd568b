using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Sessions with their state and where each lives, oldest first.</summary>
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
    public string? SessionId { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Phase { get; set; }

    [Parameter(ParameterSetName = StateSet)]
    public TierStorage.Contracts.SessionState? State { get; set; }

    /// <summary>Only sessions that have ended: Completed, BackedUp or Archived.</summary>
    [Parameter(ParameterSetName = FinishedSet, Mandatory = true)]
    public SwitchParameter Finished { get; set; }

    protected override void ProcessRecord()
    {
        var filter = new SessionFilter { SessionId = SessionId, Phase = Phase, State = State, Finished = Finished };
        ProcessItem(SessionId, () => WriteStream(Workspace.GetSessionsAsync(filter, CancellationToken)));
    }
}
