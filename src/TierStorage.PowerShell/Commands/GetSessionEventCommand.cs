using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Queries the catalog's events; every filter is optional and they combine with AND. Streams results.</summary>
[Cmdlet(VerbsCommon.Get, "SessionEvent", DefaultParameterSetName = OldestFirstSet)]
[OutputType(typeof(SessionEvent))]
public sealed class GetSessionEventCommand : WorkspaceCmdlet
{
    public const string OldestFirstSet = "OldestFirst";
    public const string NewestFirstSet = "NewestFirst";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SessionId { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Phase { get; set; }

    /// <summary>Event type in its log spelling (tool_call, llm_call, ...).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Type { get; set; }

    [Parameter]
    public string? Agent { get; set; }

    [Parameter]
    public string? Tool { get; set; }

    [Parameter]
    public string? Model { get; set; }

    [Parameter]
    public string? Task { get; set; }

    [Parameter]
    public bool? Success { get; set; }

    [Parameter]
    public DateTimeOffset? Since { get; set; }

    [Parameter]
    public DateTimeOffset? Until { get; set; }

    /// <summary>The oldest N matching events.</summary>
    [Parameter(ParameterSetName = OldestFirstSet)]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    /// <summary>The newest N matching events, newest first.</summary>
    [Parameter(ParameterSetName = NewestFirstSet, Mandatory = true)]
    [ValidateRange(1, int.MaxValue)]
    public int Last { get; set; }

    protected override void ProcessRecord()
    {
        var target = SessionId ?? "all sessions";
        ProcessItem(target, () =>
        {
            SessionEventType? type = null;
            if (Type is not null)
            {
                type = EventJson.TryParseType(Type, out var parsed)
                    ? parsed
                    : throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidArgument,
                        $"Parameter 'Type': '{Type}' is not an event type.", Type);
            }

            var newestFirst = ParameterSetName == NewestFirstSet;
            var query = new SessionEventQuery
            {
                SessionId = SessionId,
                Phase = Phase,
                Type = type,
                Agent = Agent,
                Tool = Tool,
                Model = Model,
                Task = Task,
                Success = Success,
                Since = Since,
                Until = Until,
                Descending = newestFirst,
                Limit = newestFirst ? Last : First,
            };
            WriteStream(Workspace.GetEventsAsync(query, CancellationToken));
        });
    }
}
