using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;

namespace TierStorage.PowerShell.Commands;

/// <summary>Takes a new version of collections: the policy's folders kept as versioned data on a tier.</summary>
/// <remarks>
/// <para>Backup-Collection scans each collection's folder (its include and exclude globs, and the default excludes: node_modules, __pycache__, *.pyc, .git/objects, bin and obj build output), reads and hashes only the files whose size or modified time differ from the previous version, uploads only the contents the tier does not already hold (gzipped, stored once per SHA-256, each checked against the size and MD5 the tier reports) and stores the version's manifest last. A version of an unchanged folder sends nothing but its manifest. A backup cut off part way leaves no version; the next run reuses what was stored.</para>
/// <para>Without -Collection it backs up the collections whose schedule (daily, weekly, monthly or cron) has come round since their newest version, high priority first; -All takes every collection.</para>
/// </remarks>
/// <example>
/// <code>Backup-Collection</code>
/// <para>Backs up every collection that is due by its schedule.</para>
/// </example>
/// <example>
/// <code>Backup-Collection -Collection configs, agents</code>
/// <para>Takes a version of two collections now.</para>
/// </example>
/// <example>
/// <code>Get-CollectionVersion -Latest | Where-Object CreatedAt -lt (Get-Date).AddDays(-7) | Backup-Collection</code>
/// <para>Backs up every collection whose newest version is more than a week old.</para>
/// </example>
[Cmdlet(VerbsData.Backup, "Collection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(CollectionBackupResult))]
public sealed class BackupCollectionCommand : WorkspaceCmdlet
{
    private const int ActivityId = 61;
    private readonly List<string> _names = [];

    /// <summary>Collections to back up (binds Collection from Get-CollectionVersion output). Default: those due by their schedule.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CollectionNameCompleter))]
    public string[]? Collection { get; set; }

    /// <summary>Every collection of the policy, due or not.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in Collection ?? [])
            if (!_names.Contains(name, StringComparer.OrdinalIgnoreCase)) _names.Add(name);
    }

    protected override void EndProcessing()
    {
        var collections = new List<CollectionDefinition>();
        // An unknown name is an error about that name; the others are still backed up.
        foreach (var name in _names) ProcessItem(name, () => collections.Add(Workspace.Collections.GetCollection(name)));
        if (_names.Count == 0)
            ProcessItem(null, () =>
            {
                collections.AddRange(All ? Workspace.Policy.Collections : Await(Workspace.Collections.GetDueAsync(CancellationToken)));
                if (collections.Count == 0)
                    WriteVerbose(Workspace.Policy.Collections.Count == 0 ? "The policy has no collections." : "No collection is due by its schedule; -All backs up every one.");
            });
        foreach (var collection in collections.OrderBy(c => c.Priority)) BackUp(collection);
        CompleteProgress(ActivityId, "Backup-Collection");
        base.EndProcessing();
    }

    private void BackUp(CollectionDefinition collection)
    {
        var tier = Workspace.Collections.TierOf(collection).Name;
        if (!ShouldProcess(collection.Name, $"Take a version of '{collection.Path}' on tier '{tier}'")) return;
        var progress = PipelineProgress<CollectionProgress>(p => new ProgressRecord(ActivityId, $"Backing up collection {p.Collection}", p.Activity)
        {
            PercentComplete = p.Total > 0 ? (int)Math.Min(100, p.Done * 100 / p.Total) : -1,
        });
        ProcessItem(collection.Name, () => WriteObject(Await(Workspace.Collections.BackupAsync(collection, progress, CancellationToken))));
    }
}
