using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Saves a JSON snapshot of a session's state.</summary>
/// <remarks>
/// <para>Save-SessionSnapshot stores a JSON state document as the session's next snapshot (state/&lt;session&gt;_snapNNN.json.gz), written to a temporary file and renamed so a crash never leaves half a snapshot. Get-SessionSnapshot -Latest reads it back.</para>
/// </remarks>
/// <example>
/// <code>$state | ConvertTo-Json -Depth 20 | Save-SessionSnapshot</code>
/// <para>Saves the object in $state as a snapshot of the active session.</para>
/// </example>
/// <example>
/// <code>Save-SessionSnapshot -Path ./state.json -SessionId session_20260101_090000</code>
/// <para>Saves the document in state.json as a snapshot of the named session.</para>
/// </example>
[Cmdlet(VerbsData.Save, "SessionSnapshot", DefaultParameterSetName = JsonSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SnapshotInfo))]
public sealed class SaveSessionSnapshotCommand : WorkspaceCmdlet
{
    public const string JsonSet = "Json";
    public const string PathSet = "Path";

    /// <summary>Session to snapshot; default the active one.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>The state document; SnapshotInfo.Json binds here, so a read snapshot can be saved again.</summary>
    [Parameter(ParameterSetName = JsonSet, Mandatory = true, Position = 0, ValueFromPipeline = true,
        ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Json { get; set; }

    /// <summary>A file holding the state document.</summary>
    [Parameter(ParameterSetName = PathSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord()
    {
        var target = SessionId ?? "active session";
        if (!ShouldProcess(target, "Save snapshot"))
        {
            return;
        }

        ProcessItem(target, () =>
        {
            var json = ParameterSetName == PathSet ? ReadSource(ResolvePath(Path)!) : Json!;
            WriteObject(Await(Workspace.SaveSnapshotAsync(SessionId, json, CancellationToken)));
        });
    }

    private static string ReadSource(string path)
    {
        try
        {
            return System.IO.File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new TierStorageException(ErrorIds.InvalidSnapshot, TierErrorKind.ReadError,
                $"Cannot read snapshot file '{path}': {exception.Message}", path, exception);
        }
    }
}
