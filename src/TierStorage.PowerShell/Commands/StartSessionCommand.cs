using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Starts a new session in the workspace.</summary>
/// <remarks>
/// <para>Start-Session registers a new session (session_YYYYMMDD_HHMMSS) in the catalog and rotates the current activity log to the previous one. A session still active is refused unless -CompleteActive completes it first.</para>
/// </remarks>
/// <example>
/// <code>Start-Session -Phase 1 -CompleteActive</code>
/// <para>Completes the active session, if any, and starts a session in phase 1.</para>
/// </example>
/// <example>
/// <code>Start-Session -SessionId session_20260101_090000 -Phase 0</code>
/// <para>Starts a session with an explicit id.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "Session", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SessionInfo))]
public sealed class StartSessionCommand : WorkspaceCmdlet
{
    /// <summary>Phase number; default the phase of the most recent session, else 0.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int? Phase { get; set; }

    /// <summary>Explicit id (session_YYYYMMDD_HHMMSS); default generated from the clock.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SessionId { get; set; }

    /// <summary>Complete the session still active instead of refusing to start.</summary>
    [Parameter]
    public SwitchParameter CompleteActive { get; set; }

    protected override void ProcessRecord()
    {
        var target = SessionId ?? "new session";
        var action = Phase is { } phase ? $"Start session in phase {phase}" : "Start session";
        if (!ShouldProcess(target, action))
        {
            return;
        }

        var request = new StartSessionRequest { Phase = Phase, SessionId = SessionId, CompleteActive = CompleteActive };
        ProcessItem(target, () => WriteObject(Await(Workspace.StartSessionAsync(request, CancellationToken))));
    }
}
