using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;

namespace TierStorage.PowerShell.Commands;

/// <summary>Restores a version of a collection, whole or the files matching globs, to its folder or another.</summary>
/// <remarks>
/// <para>Each file is downloaded, gunzipped and checked against the SHA-256 its version records before it replaces anything; its modified time and mode are restored with it. A file that already holds the version's bytes is left alone (Identical), so an interrupted restore is finished by running it again. A file that is newer than the version's and differs from it is kept (SkippedNewer) unless -Force.</para>
/// <para>A file that cannot be restored is reported as an error naming it, and the others go on.</para>
/// <para>A version archived to the policy's archive tier (Get-CollectionVersion shows that tier, and when it was archived) is read out of its bundles there: each bundle the chosen files need is downloaded, checked whole against the SHA-256 its manifest records, and only the members needed are extracted and checked again, file by file. From S3 Deep Archive or Glacier the bundles must be thawed first: the first run requests the thaw (-Retrieval Standard, about 12 hours, or Bulk, about 48 hours and cheaper), writes a Thawing row per bundle with ReadyAfter and the estimated ThawCostUsd, and a warning; run the same command again after that time.</para>
/// </remarks>
/// <example>
/// <code>Restore-Collection -Collection configs -Destination ~/configs-restored</code>
/// <para>Restores the newest version of configs into another folder.</para>
/// </example>
/// <example>
/// <code>Restore-Collection configs -Path 'agents/*.md' -VersionId 20261201</code>
/// <para>Puts back the agent files as they were in the version taken on 1 December.</para>
/// </example>
/// <example>
/// <code>Get-CollectionVersion configs | Where-Object Archived | Select-Object -First 1 | Restore-Collection -Destination ./old -Retrieval Bulk</code>
/// <para>Restores the oldest archived version; from Deep Archive the first run requests a Bulk thaw and says when to come back.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "Collection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CollectionRestoreItem))]
public sealed class RestoreCollectionCommand : WorkspaceCmdlet
{
    private const int ActivityId = 62;

    /// <summary>The collection (binds Collection from Get-CollectionVersion output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CollectionNameCompleter))]
    public string Collection { get; set; } = "";

    /// <summary>The version (a unique start of its id is enough); default the newest.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? VersionId { get; set; }

    /// <summary>Globs of the files to restore, relative to the collection's folder ('agents/*.md', '**/*.json'); default every file.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Folder to restore into; default the collection's own folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Replace files that are newer than the version's and differ from it.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>For a version archived in a cold storage class: Standard (about 12 h) or Bulk (about 48 h, cheaper) thaw.</summary>
    /// <value>Standard</value>
    [Parameter]
    public ArchiveRetrievalTier Retrieval { get; set; } = ArchiveRetrievalTier.Standard;

    protected override void ProcessRecord()
    {
        var destination = ResolvePath(Destination);
        var target = $"{Collection}@{VersionId ?? "latest"}";
        if (!ShouldProcess(target, $"Restore {(Path is { Length: > 0 } ? string.Join(", ", Path) : "every file")} to '{destination ?? "the collection's folder"}'{(Force ? ", replacing newer files" : "")}")) return;
        var request = new CollectionRestoreRequest { Collection = Collection, VersionId = VersionId, Paths = Path ?? [], Destination = destination, Force = Force, Retrieval = Retrieval };
        var progress = PipelineProgress<CollectionProgress>(p => new ProgressRecord(ActivityId, $"Restoring collection {p.Collection}", p.Activity)
        {
            PercentComplete = p.Total > 0 ? (int)Math.Min(100, p.Done * 100 / p.Total) : -1,
        });
        ProcessItem(target, () =>
        {
            var items = Workspace.Collections.RestoreAsync(request, progress, CancellationToken).GetAsyncEnumerator(CancellationToken);
            try
            {
                while (Await(items.MoveNextAsync()))
                {
                    var item = items.Current;
                    WriteObject(item);
                    if (item.Action == CollectionRestoreAction.Thawing) WriteWarning(item.Message);
                    else if (item.Action == CollectionRestoreAction.Failed)
                        WriteError(new ErrorRecord(new InvalidOperationException($"'{item.Path}' was not restored: {item.Message}"), "CollectionFileNotRestored", ErrorCategory.WriteError, item.Path));
                }
            }
            finally
            {
                Await(items.DisposeAsync());
            }
        });
        CompleteProgress(ActivityId, "Restore-Collection");
    }
}
