using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets events from the catalog, filtered by session, phase, type, agent, tool, model, task, outcome and time.</summary>
/// <remarks>
/// <para>Get-SessionEvent queries the events the catalog indexed; every filter is optional and they combine with AND. Results stream oldest first; -First keeps the oldest N, -Last the newest N (newest first).</para>
/// <para>Sessions piped from Get-Session bind by their SessionId property.</para>
/// </remarks>
/// <example>
/// <code>Get-Session | Get-SessionEvent -Type tool_call -Last 20</code>
/// <para>Gets the 20 most recent tool calls of every session.</para>
/// </example>
/// <example>
/// <code>Get-Session -State Completed | Get-SessionEvent -Type error</code>
/// <para>Gets the errors of the completed sessions.</para>
/// </example>
/// <example>
/// <code>Get-SessionEvent -Phase 1 -Tool Bash -Success $false</code>
/// <para>Gets the failed Bash tool calls of phase 1.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "SessionEvent", DefaultParameterSetName = OldestFirstSet)]
[OutputType(typeof(SessionEvent))]
public sealed class GetSessionEventCommand : WorkspaceCmdlet
{
    public const string OldestFirstSet = "OldestFirst";
    public const string NewestFirstSet = "NewestFirst";

    /// <summary>Only the events of this session; binds SessionId from Get-Session output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Only the events of sessions in this phase.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int? Phase { get; set; }

    /// <summary>Event type in its log spelling (tool_call, llm_call, ...).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.EventTypeCompleter))]
    public string? Type { get; set; }

    /// <summary>Only the events of this agent.</summary>
    [Parameter]
    public string? Agent { get; set; }

    /// <summary>Only the events of this tool.</summary>
    [Parameter]
    public string? Tool { get; set; }

    /// <summary>Only the events served by this model.</summary>
    [Parameter]
    public string? Model { get; set; }

    /// <summary>Only the events of this task.</summary>
    [Parameter]
    public string? Task { get; set; }

    /// <summary>Only the succeeded ($true) or failed ($false) events.</summary>
    [Parameter]
    public bool? Success { get; set; }

    /// <summary>Only the events at or after this time.</summary>
    [Parameter]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Only the events before this time.</summary>
    [Parameter]
    public DateTimeOffset? Until { get; set; }

    /// <summary>The oldest N matching events.</summary>
    [Parameter(ParameterSetName = OldestFirstSet)]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    /// <summary>A shared (PostgreSQL) catalog: only events of sessions recorded on this machine, a name or a wildcard pattern
    /// (any machine by default).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Machine { get; set; }

    /// <summary>A shared catalog: only events of sessions recorded by this user, a name or a wildcard pattern (any user by default).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

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
                Machine = Machine,
                User = User,
            };
            WriteStream(Workspace.GetEventsAsync(query, CancellationToken));
        });
    }
}
