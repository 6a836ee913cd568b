using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Creates a workspace's folder layout and its policy file.</summary>
/// <remarks>
/// <para>Initialize-TierWorkspace creates the local tier's layout (logs/, state/, analytics/, handoffs/, credentials/) and writes tierstorage.yaml: the embedded default policy, or a copy of -PolicyTemplate after it was validated. An existing policy is never overwritten without -Force.</para>
/// <para>A new workspace also gets its identity (workspace.json): a random id and its own namespace, the folder &lt;project&gt;-&lt;id&gt; that holds its objects on every backup and archive tier, so projects sharing a tier never see, overwrite or delete each other's objects. A moved workspace keeps its identity. A copy of a workspace that still exists reads the tiers but refuses to write there until it gets its own namespace with -NewIdentity.</para>
/// <para>-Encrypt also creates credentials/tier_encryption.key, a random 256-bit key (DPAPI-protected on Windows, readable by the user alone elsewhere), and gives the policy an encryption section if it has none: every object sent to the backup and archive tiers is then encrypted on this machine. On an existing workspace it adds the key and keeps the policy otherwise as it is. It writes an EncryptionKeyInfo (after the WorkspaceInfo of a new workspace), and never replaces an existing key file.</para>
/// </remarks>
/// <example>
/// <code>Initialize-TierWorkspace -Path .tierstorage</code>
/// <para>Creates the workspace .tierstorage in the current directory with the default policy.</para>
/// </example>
/// <example>
/// <code>Initialize-TierWorkspace -PolicyTemplate ./examples/tierstorage.yaml -Force</code>
/// <para>Replaces the policy of the default workspace with a copy of the example policy.</para>
/// </example>
/// <example>
/// <code>Initialize-TierWorkspace -Encrypt</code>
/// <para>Creates the default workspace with a key file and encryption turned on; copy the key file somewhere safe.</para>
/// </example>
/// <example>
/// <code>Initialize-TierWorkspace -Path ../experiment/.tierstorage -NewIdentity</code>
/// <para>Makes a copied workspace a project of its own: a new id and namespace on the tiers. Sessions it still holds locally are backed up again into the new namespace; sessions only the original's tiers hold are left to the original.</para>
/// </example>
[Cmdlet(VerbsData.Initialize, "TierWorkspace", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CreateSet)]
[OutputType(typeof(WorkspaceInfo), typeof(EncryptionKeyInfo), ParameterSetName = [CreateSet])]
[OutputType(typeof(WorkspaceIdentityChange), ParameterSetName = [NewIdentitySet])]
public sealed class InitializeTierWorkspaceCommand : TierCmdlet
{
    private const string CreateSet = "Create";
    private const string NewIdentitySet = "NewIdentity";

    /// <summary>Workspace directory; default $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage.</summary>
    [Parameter(Position = 0)]
    [Alias("WorkspacePath", "Workspace")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Policy file copied into the workspace instead of the embedded default.</summary>
    [Parameter(ParameterSetName = CreateSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.PolicyPathCompleter))]
    public string? PolicyTemplate { get; set; }

    /// <summary>Overwrite an existing policy.</summary>
    [Parameter(ParameterSetName = CreateSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Create the key file that encrypts everything sent to the backup and archive tiers, and turn encryption on in the policy.</summary>
    [Parameter(ParameterSetName = CreateSet)]
    public SwitchParameter Encrypt { get; set; }

    /// <summary>Give a copied workspace its own id and namespace on the tiers. It forgets the original's tier copies; nothing on any tier changes.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NewIdentitySet)]
    public SwitchParameter NewIdentity { get; set; }

    protected override void ProcessRecord()
    {
        var path = ResolvePath(Path);
        var target = TierWorkspace.ResolveWorkspacePath(path, CurrentDirectory);
        if (NewIdentity)
        {
            if (!ShouldProcess(target, "Give the workspace a new id and its own namespace on the tiers, forgetting the original's tier copies"))
            {
                return;
            }

            ProcessItem(target, () =>
            {
                var workspace = Await(TierWorkspace.OpenAsync(new WorkspaceOptions
                {
                    WorkspacePath = target, BaseDirectory = CurrentDirectory, Verbose = DeferredVerbose, Debug = DeferredDebug,
                    // The warning that this is a copy is what the user is acting on: not repeated.
                    Warning = message => { if (!message.Contains("is a copy of", StringComparison.Ordinal)) DeferredWarning(message); },
                }, CancellationToken));
                try
                {
                    WriteObject(Await(workspace.NewIdentityAsync(CancellationToken)));
                }
                finally
                {
                    Await(workspace.DisposeAsync());
                }
            });
            return;
        }

        // The attribute's impact is Medium; overwriting the policy is said in the prompt so -Confirm shows it.
        var action = Force ? "Initialize workspace, overwriting its policy" : "Initialize workspace";
        if (!ShouldProcess(target, action))
        {
            return;
        }

        if (Encrypt)
        {
            ProcessItem(target, () => WriteEncrypted(Await(EncryptionOperations.InitializeEncryptedAsync(target, ResolvePath(PolicyTemplate), Force, CurrentDirectory, CancellationToken))));
            return;
        }
        ProcessItem(target, () => WriteObject(Await(
            TierWorkspace.InitializeAsync(target, ResolvePath(PolicyTemplate), Force, CurrentDirectory, CancellationToken))));
    }

    private void WriteEncrypted((WorkspaceInfo? Workspace, EncryptionKeyInfo Key) result)
    {
        if (result.Workspace is not null) WriteObject(result.Workspace);
        WriteWarning($"Keep a copy of '{result.Key.KeyFile}' somewhere safe: without it nothing on the encrypted tiers can be read.");
        WriteObject(result.Key);
    }
}
