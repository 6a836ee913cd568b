using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;

namespace TierStorage.PowerShell.Commands;

/// <summary>Imports Claude Code transcripts (~/.claude/projects/&lt;project&gt;/*.jsonl, honouring CLAUDE_CONFIG_DIR) as
/// sessions of the workspace, incrementally: a rerun reads only the lines added since.</summary>
[Cmdlet(VerbsData.Import, "ClaudeSession", DefaultParameterSetName = ProjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ClaudeImportResult))]
public sealed class ImportClaudeSessionCommand : WorkspaceCmdlet
{
    public const string ProjectSet = "Project";
    public const string PathSet = "Path";

    /// <summary>The project directory Claude Code ran in; default the current location.</summary>
    [Parameter(ParameterSetName = ProjectSet, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? ProjectPath { get; set; }

    /// <summary>Where Claude Code keeps its data; default $env:CLAUDE_CONFIG_DIR, else ~/.claude.</summary>
    [Parameter(ParameterSetName = ProjectSet)]
    [ValidateNotNullOrEmpty]
    public string? ConfigDirectory { get; set; }

    /// <summary>One transcript file.</summary>
    [Parameter(ParameterSetName = PathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("TranscriptPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Phase of sessions the import creates; default the current phase.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Phase { get; set; }

    protected override void ProcessRecord()
    {
        var path = ResolvePath(Path);
        var project = ResolvePath(ProjectPath) ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        var target = path ?? project;
        if (!ShouldProcess(target, "Import Claude Code transcripts"))
        {
            return;
        }

        ProcessItem(target, () => WriteStream(ClaudeProjectImporter.ImportAsync(Workspace, path, path is null ? project : null, ResolvePath(ConfigDirectory), Phase, CancellationToken)));
    }
}
