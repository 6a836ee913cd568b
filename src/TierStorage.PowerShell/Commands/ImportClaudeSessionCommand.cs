using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;

namespace TierStorage.PowerShell.Commands;

/// <summary>Imports Claude Code transcripts as sessions of the workspace, incrementally.</summary>
/// <remarks>
/// <para>Import-ClaudeSession reads the transcripts Claude Code keeps for a project (every *.jsonl at any depth under &lt;config&gt;/projects/&lt;project&gt;/, where the config directories are those CLAUDE_CONFIG_DIR lists, comma-separated, else ~/.config/claude and ~/.claude), or for every project with -AllProjects, and turns each session into a session of the workspace with its events; files under &lt;sessionId&gt;/ (subagents) go into that session. A rerun reads only the lines added since the last import.</para>
/// <para>A file's unreadable lines are reported in one warning (their count and first line numbers); a *.jsonl found in the folder that is not a transcript is skipped with a warning; models without a price (in the shipped price list or the policy's pricing.models) are named once per import.</para>
/// <para>Imported sessions stay on the local tier until they are finished: those idle for -IdleMinutes (default 30), or all of them with -Complete, get their session_end and handoff note as Complete-Session would write them, and are then backed up like any other session.</para>
/// </remarks>
/// <example>
/// <code>Import-ClaudeSession</code>
/// <para>Imports this project's Claude Code transcripts, completing sessions idle for 30 minutes.</para>
/// </example>
/// <example>
/// <code>Import-ClaudeSession -AllProjects -ConfigDirectory ~/.claude,~/work-claude</code>
/// <para>Imports the transcripts of every project of two Claude Code config directories.</para>
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
    public const string AllProjectsSet = "AllProjects";

    /// <summary>The project directory Claude Code ran in; default the current location.</summary>
    [Parameter(ParameterSetName = ProjectSet, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? ProjectPath { get; set; }

    /// <summary>Where Claude Code keeps its data, one directory or several; default the comma-separated list in $env:CLAUDE_CONFIG_DIR, else ~/.config/claude and ~/.claude.</summary>
    [Parameter(ParameterSetName = ProjectSet)]
    [Parameter(ParameterSetName = AllProjectsSet)]
    [ValidateNotNullOrEmpty]
    public string[]? ConfigDirectory { get; set; }

    /// <summary>Imports the transcripts of every project of the config directories, not only those of -ProjectPath.</summary>
    [Parameter(ParameterSetName = AllProjectsSet, Mandatory = true)]
    public SwitchParameter AllProjects { get; set; }

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
        var target = path ?? (AllProjects ? "every Claude Code project" : project);
        if (!ShouldProcess(target, Complete ? "Import Claude Code transcripts and complete their sessions" : "Import Claude Code transcripts"))
        {
            return;
        }

        var configDirectories = ConfigDirectory is { Length: > 0 } ? string.Join(",", ConfigDirectory.SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(ResolvePath)) : null;
        ProcessItem(target, () => WriteStream(ClaudeProjectImporter.ImportAsync(Workspace, path, path is null ? project : null, configDirectories, Phase,
            new CompletionOptions { Force = Complete, IdleTime = TimeSpan.FromMinutes(IdleMinutes) }, AllProjects, DeferredWarning, CancellationToken)));
    }
}
