using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell.Commands;

/// <summary>Shows the files added, changed and removed between two versions of a collection, or since a version.</summary>
/// <remarks>
/// <para>Without -DifferenceVersion the reference version is compared with the collection's folder as it is now: files whose size and modified time match the version are taken as unchanged, the rest are hashed, so a file that was only touched is not reported.</para>
/// <para>Versions may be given by a unique start of their id; the default reference is the newest version.</para>
/// </remarks>
/// <example>
/// <code>Compare-CollectionVersion -Collection configs</code>
/// <para>What changed in the configs folder since its newest version.</para>
/// </example>
/// <example>
/// <code>Get-CollectionVersion configs | Select-Object -First 1 | Compare-CollectionVersion -DifferenceVersion latest</code>
/// <para>Everything that changed between the oldest and the newest version.</para>
/// </example>
[Cmdlet(VerbsData.Compare, "CollectionVersion")]
[OutputType(typeof(CollectionFileChange))]
public sealed class CompareCollectionVersionCommand : WorkspaceCmdlet
{
    /// <summary>The collection (binds Collection from Get-CollectionVersion output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CollectionNameCompleter))]
    public string Collection { get; set; } = "";

    /// <summary>The version compared from (binds VersionId from Get-CollectionVersion output); default the newest.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("VersionId")]
    [ValidateNotNullOrEmpty]
    public string? ReferenceVersion { get; set; }

    /// <summary>The version compared to ('latest' for the newest); default the folder as it is now.</summary>
    [Parameter(Position = 2)]
    [ValidateNotNullOrEmpty]
    public string? DifferenceVersion { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(Collection, () => WriteStream(Workspace.Collections.CompareAsync(Workspace.Collections.GetCollection(Collection), ReferenceVersion, DifferenceVersion, CancellationToken)));
}
