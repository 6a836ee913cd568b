using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;

namespace TierStorage.PowerShell.Commands;

/// <summary>Imports Claude Code transcripts as sessions of the workspace, incrementally.</summary>
/// <remarks>
/// <para>Import-ClaudeSession reads the transcripts Claude Code keeps for a project (~/.claude/projects/&lt;project&gt;/*.jsonl, honouring CLAUDE_CONFIG_DIR) and turns each into a session with its events. A rerun reads only the lines added since the last import.</para>
/// <para>Imported sessions stay on the local tier until they are finished: those idle for -IdleMinutes (default 30), or all of them with -Complete, get their session_end and handoff note as Complete-Session would write them, and are then backed up like any other session.</para>
/// </remarks>
/// <example>
/// <code>Import-ClaudeSession</code>
/// <para>Imports this project's Claude Code transcripts, completing sessions idle for 30 minutes.</para>
/// </example>
/// <example>
/// <code>Get-ChildItem ~/.claude/projects/myproject/*.jsonl | Import-ClaudeSession -Complete</code>
/// <para>Imports the given transcript files and completes their sessions now.</para>
/// </example>
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
    [ArgumentCompleter(typeof(Completion.PhaseCompleter))]
    public int? Phase { get; set; }

    /// <summary>Complete the imported sessions now (session_end, handoff note) instead of waiting until they are idle.</summary>
    [Parameter]
    public SwitchParameter Complete { get; set; }

    /// <summary>Minutes after its last transcript line at which a session counts as finished and is completed; default 30.</summary>
    /// <value>30</value>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int IdleMinutes { get; set; } = (int)CompletionOptions.DefaultIdleTime.TotalMinutes;

    protected override void ProcessRecord()
    {
        var path = ResolvePath(Path);
        var project = ResolvePath(ProjectPath) ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        var target = path ?? project;
        if (!ShouldProcess(target, Complete ? "Import Claude Code transcripts and complete their sessions" : "Import Claude Code transcripts"))
        {
            return;
        }

        ProcessItem(target, () => WriteStream(ClaudeProjectImporter.ImportAsync(Workspace, path, path is null ? project : null, ResolvePath(ConfigDirectory), Phase,
            new CompletionOptions { Force = Complete, IdleTime = TimeSpan.FromMinutes(IdleMinutes) }, CancellationToken)));
    }
}
