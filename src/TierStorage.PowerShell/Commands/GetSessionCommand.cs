using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Sessions with their state and where each lives, oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "Session")]
[OutputType(typeof(SessionInfo))]
public sealed class GetSessionCommand : WorkspaceCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SessionId { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Phase { get; set; }

    [Parameter]
    public TierStorage.Contracts.SessionState? State { get; set; }

    protected override void ProcessRecord()
    {
        var filter = new SessionFilter { SessionId = SessionId, Phase = Phase, State = State };
        ProcessItem(SessionId, () => WriteStream(Workspace.GetSessionsAsync(filter, CancellationToken)));
    }
}
