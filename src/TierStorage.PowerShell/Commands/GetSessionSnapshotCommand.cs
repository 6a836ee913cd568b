using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Gets a session's latest snapshot, one by sequence number, or the list of its snapshots.</summary>
/// <remarks>
/// <para>Get-SessionSnapshot reads the JSON state documents saved by Save-SessionSnapshot. -Latest (the default) returns the newest snapshot that reads back intact, skipping a corrupt newer one with a warning: this is the recovery path after a crash. -Sequence reads one by number and -List lists them without their content.</para>
/// </remarks>
/// <example>
/// <code>Get-SessionSnapshot -Latest | Select-Object -ExpandProperty Json</code>
/// <para>Prints the latest state document of the active session.</para>
/// </example>
/// <example>
/// <code>Get-SessionSnapshot -List</code>
/// <para>Lists the snapshots of every session without their content.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "SessionSnapshot", DefaultParameterSetName = LatestSet)]
[OutputType(typeof(SnapshotInfo))]
public sealed class GetSessionSnapshotCommand : WorkspaceCmdlet
{
    public const string LatestSet = "Latest";
    public const string SequenceSet = "Sequence";
    public const string ListSet = "List";

    /// <summary>Session; default the active one (for -List: every session).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>The newest snapshot that reads back intact; a corrupt newer one is skipped with a warning.</summary>
    [Parameter(ParameterSetName = LatestSet)]
    public SwitchParameter Latest { get; set; }

    /// <summary>The snapshot with this sequence number.</summary>
    [Parameter(ParameterSetName = SequenceSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int Sequence { get; set; }

    /// <summary>Snapshots without their content, oldest first.</summary>
    [Parameter(ParameterSetName = ListSet, Mandatory = true)]
    public SwitchParameter List { get; set; }

    protected override void ProcessRecord()
    {
        var target = SessionId ?? "active session";
        ProcessItem(target, () =>
        {
            switch (ParameterSetName)
            {
                case ListSet:
                    WriteStream(Workspace.GetSnapshotsAsync(SessionId, CancellationToken));
                    break;
                case SequenceSet:
                    WriteObject(Await(Workspace.ReadSnapshotAsync(SessionId, Sequence, DeferredWarning, CancellationToken)));
                    break;
                default:
                    WriteObject(Await(Workspace.ReadSnapshotAsync(SessionId, null, DeferredWarning, CancellationToken)));
                    break;
            }
        });
    }
}
