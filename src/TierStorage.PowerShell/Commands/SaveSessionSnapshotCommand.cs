using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Saves a JSON snapshot of a session's state (gzip, written to a temp file and renamed).</summary>
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
