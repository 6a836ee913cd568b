using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Creates a workspace's folder layout and its policy file.</summary>
/// <remarks>
/// <para>Initialize-TierWorkspace creates the local tier's layout (logs/, state/, analytics/, handoffs/, credentials/) and writes tierstorage.yaml: the embedded default policy, or a copy of -PolicyTemplate after it was validated. An existing policy is never overwritten without -Force.</para>
/// </remarks>
/// <example>
/// <code>Initialize-TierWorkspace -Path .tierstorage</code>
/// <para>Creates the workspace .tierstorage in the current directory with the default policy.</para>
/// </example>
/// <example>
/// <code>Initialize-TierWorkspace -PolicyTemplate ./examples/tierstorage.yaml -Force</code>
/// <para>Replaces the policy of the default workspace with a copy of the example policy.</para>
/// </example>
[Cmdlet(VerbsData.Initialize, "TierWorkspace", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkspaceInfo))]
public sealed class InitializeTierWorkspaceCommand : TierCmdlet
{
    /// <summary>Workspace directory; default $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage.</summary>
    [Parameter(Position = 0)]
    [Alias("WorkspacePath", "Workspace")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Policy file copied into the workspace instead of the embedded default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.PolicyPathCompleter))]
    public string? PolicyTemplate { get; set; }

    /// <summary>Overwrite an existing policy.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var path = ResolvePath(Path);
        var target = TierWorkspace.ResolveWorkspacePath(path, CurrentDirectory);
        // The attribute's impact is Medium; overwriting the policy is said in the prompt so -Confirm shows it.
        var action = Force ? "Initialize workspace, overwriting its policy" : "Initialize workspace";
        if (!ShouldProcess(target, action))
        {
            return;
        }

        ProcessItem(target, () => WriteObject(Await(
            TierWorkspace.InitializeAsync(target, ResolvePath(PolicyTemplate), Force, CurrentDirectory, CancellationToken))));
    }
}
