using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Lists the versions of collections on their tiers.</summary>
/// <remarks>
/// <para>Each version shows when it was taken, how many files and bytes it holds, how many bytes of new content it stored, and its tier. Versions are read from the tier (their manifests are cached in the workspace), oldest first.</para>
/// <para>Tier is where the version's contents are: the collection's tier, or the archive tier once Move-DataTier has archived it (the policy's archive_after_days); Archived and ArchivedAt say so. An archived version is restored the same way, out of its bundles (thawed first from Deep Archive).</para>
/// </remarks>
/// <example>
/// <code>Get-CollectionVersion -Collection configs</code>
/// <para>Lists every version of the configs collection.</para>
/// </example>
/// <example>
/// <code>Get-CollectionVersion -Latest</code>
/// <para>The newest version of every collection.</para>
/// </example>
/// <example>
/// <code>Get-CollectionVersion configs | Where-Object Age -gt 30d</code>
/// <para>The versions of configs older than 30 days (Age is how old each one was when it was listed).</para>
/// </example>
/// <example>
/// <code>Get-CollectionVersion configs | Where-Object Archived</code>
/// <para>The versions of configs whose contents are in bundles on the archive tier.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "CollectionVersion")]
[OutputType(typeof(CollectionVersionInfo))]
public sealed class GetCollectionVersionCommand : WorkspaceCmdlet
{
    /// <summary>Collections to list; default every collection of the policy.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CollectionNameCompleter))]
    public string[]? Collection { get; set; }

    /// <summary>Only the newest version of each collection.</summary>
    [Parameter]
    public SwitchParameter Latest { get; set; }

    protected override void ProcessRecord()
    {
        var names = Collection ?? RunTerminating(null, () => Workspace.Policy.Collections.Select(c => c.Name).ToArray());
        foreach (var name in names)
        {
            ProcessItem(name, () =>
            {
                var versions = Workspace.Collections.GetVersionsAsync(Workspace.Collections.GetCollection(name), CancellationToken);
                if (!Latest)
                {
                    WriteStream(versions);
                    return;
                }
                CollectionVersionInfo? newest = null;
                var enumerator = versions.GetAsyncEnumerator(CancellationToken);
                try
                {
                    while (Await(enumerator.MoveNextAsync())) newest = enumerator.Current;
                }
                finally
                {
                    Await(enumerator.DisposeAsync());
                }
                if (newest is not null) WriteObject(newest);
            });
        }
    }
}
