using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Writes the handoff note and marks the session Completed.</summary>
[Cmdlet(VerbsLifecycle.Complete, "Session", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SessionInfo))]
public sealed class CompleteSessionCommand : WorkspaceCmdlet
{
    public const string ByIdSet = "ById";
    public const string InputObjectSet = "InputObject";

    /// <summary>Session to complete; default the active one.</summary>
    [Parameter(ParameterSetName = ByIdSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SessionId { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public SessionInfo? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        var sessionId = ParameterSetName == InputObjectSet ? InputObject!.SessionId : SessionId;
        var target = sessionId ?? "active session";
        if (!ShouldProcess(target, "Complete session"))
        {
            return;
        }

        ProcessItem(target, () => WriteObject(Await(Workspace.CompleteSessionAsync(sessionId, CancellationToken))));
    }
}
