using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell;

/// <summary>
/// A cmdlet that works inside a workspace: -WorkspacePath and -PolicyPath, and one TierWorkspace opened on first
/// use and kept for the whole pipeline.
/// </summary>
public abstract class WorkspaceCmdlet : TierCmdlet
{
    private TierWorkspace? _workspace;

    /// <summary>Workspace directory; default $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage.</summary>
    [Parameter]
    [Alias("Workspace")]
    [ValidateNotNullOrEmpty]
    public string? WorkspacePath { get; set; }

    /// <summary>Policy file; default $env:TIERSTORAGE_POLICY, else the workspace's tierstorage.yaml, else the embedded default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.PolicyPathCompleter))]
    public string? PolicyPath { get; set; }

    /// <summary>Opened on first use; a workspace that cannot be opened ends the command.</summary>
    protected TierWorkspace Workspace => _workspace ??= RunTerminating(WorkspacePath, () => Await(TierWorkspace.OpenAsync(
        new WorkspaceOptions
        {
            WorkspacePath = ResolvePath(WorkspacePath), PolicyPath = ResolvePath(PolicyPath), BaseDirectory = CurrentDirectory,
            Warning = DeferredWarning, Verbose = DeferredVerbose, Debug = DeferredDebug, SetAsideCorruptCatalog = SetAsideCorruptCatalog,
        },
        CancellationToken)));

    /// <summary>True for a cmdlet that rebuilds the catalog: a damaged one is moved aside instead of ending the command.</summary>
    protected virtual bool SetAsideCorruptCatalog => false;

    /// <summary>The policy file the workspace would use, or null for the embedded default. Needs no initialized workspace.</summary>
    protected string? ResolveEffectivePolicyPath() =>
        TierWorkspace.ResolvePolicyPath(TierWorkspace.ResolveWorkspacePath(ResolvePath(WorkspacePath), CurrentDirectory), ResolvePath(PolicyPath), CurrentDirectory);

    /// <summary>A backup or restore's progress as one Write-Progress bar: "Backing up session_x", the stage and file, percent of bytes.</summary>
    protected IProgress<BackupProgress> BackupProgressBar(int activityId, string verb) =>
        PipelineProgress<BackupProgress>(p => new ProgressRecord(activityId, $"{verb} {p.SessionId}", $"{p.Stage} {p.File}".Trim())
        {
            PercentComplete = p.BytesTotal > 0 ? (int)Math.Min(100, p.BytesDone * 100 / p.BytesTotal) : -1,
        });

    protected override void EndProcessing() => ReleaseResources();

    protected override void ReleaseResources()
    {
        if (_workspace is { } workspace)
        {
            _workspace = null;
            Await(workspace.DisposeAsync());
        }
    }
}
