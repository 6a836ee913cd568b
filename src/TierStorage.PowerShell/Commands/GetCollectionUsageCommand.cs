using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Shows where the disk goes in collections' folders: size per folder, the largest files, and what is left out.</summary>
/// <remarks>
/// <para>Get-CollectionUsage reads the folder as it is now (no tier is needed): one Folder row per folder down to -Depth with the bytes and files the collection keeps under it (the folder itself is "."), the -Largest biggest kept files, and one Excluded row per folder or set of files the exclude globs leave out (node_modules, caches and build output by default), which is disk the versions do not hold. Links are not followed.</para>
/// <para>For each clean-up rule of the collection one Cleanup row says what it would free now (the files Move-DataTier and Invoke-TierPolicy would delete), and a CleanupHeld row what it matches by name and age but keeps, because the newest version does not hold those bytes (require_backup).</para>
/// </remarks>
/// <example>
/// <code>Get-CollectionUsage -Collection configs -Depth 1</code>
/// <para>The size of configs and of each of its top-level folders, its ten largest files and what it leaves out.</para>
/// </example>
/// <example>
/// <code>Get-CollectionUsage | Where-Object Kind -eq Excluded | Sort-Object Bytes -Descending</code>
/// <para>What every collection leaves out, largest first.</para>
/// </example>
/// <example>
/// <code>Get-CollectionUsage -Collection logs | Where-Object Kind -like 'Cleanup*'</code>
/// <para>What the clean-up rules of logs would free now, and what they hold back until a version holds it.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "CollectionUsage")]
[OutputType(typeof(CollectionUsageItem))]
public sealed class GetCollectionUsageCommand : WorkspaceCmdlet
{
    /// <summary>Collections to analyse; default every collection of the policy.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CollectionNameCompleter))]
    public string[]? Collection { get; set; }

    /// <summary>How many folder levels below the collection's folder get a row of their own.</summary>
    /// <value>2</value>
    [Parameter]
    [ValidateRange(0, 32)]
    public int Depth { get; set; } = 2;

    /// <summary>How many of the largest files to list.</summary>
    /// <value>10</value>
    [Parameter]
    [ValidateRange(0, 10_000)]
    public int Largest { get; set; } = 10;

    protected override void ProcessRecord()
    {
        var names = Collection ?? RunTerminating(null, () => Workspace.Policy.Collections.Select(c => c.Name).ToArray());
        foreach (var name in names)
            ProcessItem(name, () =>
            {
                foreach (var item in Await(Workspace.Collections.GetUsageAsync(Workspace.Collections.GetCollection(name), Depth, Largest, CancellationToken))) WriteObject(item);
            });
    }
}
