using System.CommandLine;
using System.Globalization;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage collection backup|versions|compare|restore|forget</c>: Backup-Collection, Get-CollectionVersion,
/// Compare-CollectionVersion, Restore-Collection and the collections' keep rules.</summary>
internal static class CollectionCommand
{
    public static Command Create(CliContext context) => new("collection", "Keep the policy's collections (folders of yours) as versions on a tier")
    {
        CreateBackup(context), CreateVersions(context), CreateCompare(context), CreateRestore(context), CreateForget(context), CreateCleanup(context), CreateUsage(context),
    };

    private static Argument<string> NameArgument() => new("name") { Description = "Collection name (collections: in the policy)" };

    private static Command CreateBackup(CliContext context)
    {
        var names = new Argument<string[]>("name") { Description = "Collections to back up (default: those due by their schedule)", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Every collection, due or not" };
        var command = new Command("backup", "Take a version of collections: only changed files are read, only new contents sent") { names, all };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var given = parseResult.GetValue(names) ?? [];
            var collections = given.Length > 0 ? given.Select(workspace.Collections.GetCollection).OrderBy(c => c.Priority).ToList()
                : parseResult.GetValue(all) ? workspace.Policy.Collections.OrderBy(c => c.Priority).ToList()
                : (await workspace.Collections.GetDueAsync(cancellationToken).ConfigureAwait(false)).ToList();
            if (collections.Count == 0 && !context.IsJson(parseResult))
                context.Stdout.WriteLine(workspace.Policy.Collections.Count == 0 ? "The policy has no collections." : "No collection is due by its schedule (--all backs up every one).");
            foreach (var collection in collections)
            {
                var result = await workspace.Collections.BackupAsync(collection, null, cancellationToken).ConfigureAwait(false);
                if (context.IsJson(parseResult)) context.WriteJson(result, CliJson.Context.CollectionBackupResult);
                else context.Stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Collection}@{result.VersionId} on {result.Tier}: {result.FileCount} files ({Display.Bytes(result.TotalBytes)}), {result.FilesHashed} read, +{result.FilesAdded} ~{result.FilesChanged} -{result.FilesRemoved}, {result.ContentsUploaded} new contents, {Display.Bytes(result.BytesSent)} sent in {Display.Duration(result.Duration)}."));
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateVersions(CliContext context)
    {
        var name = new Argument<string?>("name") { Description = "Collection (default: every one)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("versions", "A collection's versions on its tier, oldest first") { name };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var collections = parseResult.GetValue(name) is { } given ? [workspace.Collections.GetCollection(given)] : workspace.Policy.Collections.ToList();
            var rows = new List<string[]>();
            foreach (var collection in collections)
                await foreach (var v in workspace.Collections.GetVersionsAsync(collection, cancellationToken).ConfigureAwait(false))
                {
                    if (context.IsJson(parseResult)) context.WriteJson(v, CliJson.Context.CollectionVersionInfo);
                    else rows.Add([v.Collection, v.VersionId, Display.Time(v.CreatedAt), v.FileCount.ToString(CultureInfo.InvariantCulture), Display.Bytes(v.TotalBytes), Display.Bytes(v.NewBytes), v.Tier]);
                }
            if (!context.IsJson(parseResult))
            {
                if (rows.Count == 0) context.Stdout.WriteLine("No versions.");
                else new TableFormatter(new TableColumn("COLLECTION"), new TableColumn("VERSION"), new TableColumn("CREATED"), new TableColumn("FILES", ColumnAlignment.Right),
                    new TableColumn("SIZE", ColumnAlignment.Right), new TableColumn("NEW", ColumnAlignment.Right), new TableColumn("TIER")).Write(context.Stdout, rows);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateCompare(CliContext context)
    {
        var name = NameArgument();
        var from = new Option<string?>("--from") { Description = "Version compared from (a unique start of its id; default the newest)", HelpName = "VERSION" };
        var to = new Option<string?>("--to") { Description = "Version compared to ('latest' for the newest; default the folder as it is now)", HelpName = "VERSION" };
        var command = new Command("compare", "Files added, changed and removed between two versions, or since a version") { name, from, to };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var collection = workspace.Collections.GetCollection(parseResult.GetValue(name)!);
            var changes = 0;
            await foreach (var change in workspace.Collections.CompareAsync(collection, parseResult.GetValue(from), parseResult.GetValue(to), cancellationToken).ConfigureAwait(false))
            {
                changes++;
                if (context.IsJson(parseResult)) context.WriteJson(change, CliJson.Context.CollectionFileChange);
                else context.Stdout.WriteLine($"{change.Change switch { CollectionChangeKind.Added => "+", CollectionChangeKind.Removed => "-", _ => "~" }} {change.Path}");
            }
            if (changes == 0 && !context.IsJson(parseResult)) context.Stdout.WriteLine("No changes.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateRestore(CliContext context)
    {
        var name = NameArgument();
        var version = new Option<string?>("--version-id") { Description = "Version (a unique start of its id; default the newest)", HelpName = "VERSION" };
        var paths = new Option<string[]>("--path") { Description = "Globs of the files to restore, relative to the collection's folder (default: every file)", HelpName = "GLOB", AllowMultipleArgumentsPerToken = true };
        var destination = new Option<string?>("--destination") { Description = "Folder to restore into (default: the collection's own folder)", HelpName = "DIR" };
        var force = new Option<bool>("--force") { Description = "Replace files that are newer than the version's and differ from it" };
        var retrieval = ValueParsers.Enum<ArchiveRetrievalTier>("--retrieval", "An archived version in a cold class: Standard (about 12 h) or Bulk (about 48 h, cheaper) thaw");
        var command = new Command("restore", "Restore a version's files, each checked by SHA-256 (an archived version out of its bundles, thawed first when cold); a rerun finishes an interrupted restore") { name, version, paths, destination, force, retrieval };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var request = new CollectionRestoreRequest
            {
                Collection = parseResult.GetValue(name)!,
                VersionId = parseResult.GetValue(version),
                Paths = parseResult.GetValue(paths) ?? [],
                Destination = parseResult.GetValue(destination) is { } d ? Path.GetFullPath(d) : null,
                Force = parseResult.GetValue(force),
                Retrieval = parseResult.GetValue(retrieval) ?? ArchiveRetrievalTier.Standard,
            };
            var counts = new Dictionary<CollectionRestoreAction, int>();
            await foreach (var item in workspace.Collections.RestoreAsync(request, null, cancellationToken).ConfigureAwait(false))
            {
                counts[item.Action] = counts.GetValueOrDefault(item.Action) + 1;
                if (context.IsJson(parseResult)) context.WriteJson(item, CliJson.Context.CollectionRestoreItem);
                else if (item.Action is CollectionRestoreAction.Failed or CollectionRestoreAction.SkippedNewer or CollectionRestoreAction.Thawing) context.Stderr.WriteLine($"{item.Action} {item.Path}: {item.Message}");
            }
            if (!context.IsJson(parseResult))
                context.Stdout.WriteLine(counts.Count == 0 ? "No file matched." : string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}")) + ".");
            // A thaw under way is not a failure, but a script must not take the version for restored.
            return counts.ContainsKey(CollectionRestoreAction.Failed) ? ExitCodes.Failed : counts.ContainsKey(CollectionRestoreAction.Thawing) ? ExitCodes.Unavailable : ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateForget(CliContext context)
    {
        var name = NameArgument();
        var whatIf = new Option<bool>("--what-if") { Description = "Print the versions the rules would delete or archive; change nothing" };
        var command = new Command("forget", "Delete the versions the collection's keep rules no longer keep, archive those older than archive_after_days, then delete the contents nothing points at") { name, whatIf };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var collection = workspace.Collections.GetCollection(parseResult.GetValue(name)!);
            var plan = await workspace.Collections.PlanRetentionAsync(collection, cancellationToken).ConfigureAwait(false);
            var moves = parseResult.GetValue(whatIf) ? Planned(plan) : workspace.Collections.ApplyRetentionAsync(collection, plan, cancellationToken);
            await foreach (var move in moves.ConfigureAwait(false))
            {
                if (context.IsJson(parseResult)) context.WriteJson(move, CliJson.Context.TierMove);
                else context.Stdout.WriteLine($"{move.State} {move.Action} {move.Subject} on {move.From}{(move.Bytes > 0 ? $" ({Display.Bytes(move.Bytes)})" : "")}: {move.Rule}");
            }
            if (plan.Count == 0 && !context.IsJson(parseResult)) context.Stdout.WriteLine($"The keep rules ({collection.Keep}) keep every version of '{collection.Name}'.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateCleanup(CliContext context)
    {
        var name = NameArgument();
        var whatIf = new Option<bool>("--what-if") { Description = "Print the files the clean-up rules would delete; change nothing" };
        var command = new Command("cleanup", "Delete the collection's local files its clean-up rules age out (old logs, caches); " +
            "a rule that requires a backup deletes only files the newest version holds, checked by SHA-256") { name, whatIf };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var collection = workspace.Collections.GetCollection(parseResult.GetValue(name)!);
            var plan = await workspace.Collections.PlanCleanupAsync(collection, cancellationToken).ConfigureAwait(false);
            var moves = parseResult.GetValue(whatIf) ? Planned(plan) : workspace.Collections.ApplyCleanupAsync(collection, plan, cancellationToken);
            var exit = ExitCodes.Success;
            long freed = 0;
            await foreach (var move in moves.ConfigureAwait(false))
            {
                if (move.State == TierMoveState.Failed) exit = ExitCodes.Failed;
                if (move.State is TierMoveState.Done or TierMoveState.Planned) freed += move.Bytes;
                if (context.IsJson(parseResult)) context.WriteJson(move, CliJson.Context.TierMove);
                else context.Stdout.WriteLine($"{move.State} {move.Subject} ({Display.Bytes(move.Bytes)}){(move.Message is null ? "" : ": " + move.Message)}");
            }
            if (!context.IsJson(parseResult))
                context.Stdout.WriteLine(plan.Count == 0 ? $"The clean-up rules of '{collection.Name}' match no file now."
                    : $"{(parseResult.GetValue(whatIf) ? "Would free" : "Freed")} {Display.Bytes(freed)}.");
            return exit;
        });
        return command;
    }

    private static Command CreateUsage(CliContext context)
    {
        var name = new Argument<string?>("name") { Description = "Collection (default: every one)", Arity = ArgumentArity.ZeroOrOne };
        var depth = ValueParsers.Count("--depth", "Folder levels below the collection's folder with a row of their own (default 2)", minimum: 0);
        var largest = ValueParsers.Count("--largest", "How many of the largest files to list (default 10)", minimum: 0);
        var command = new Command("usage", "Where the disk goes in a collection's folder: size per folder, the largest files, what the excludes leave out, " +
            "and what the clean-up rules would free") { name, depth, largest };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var collections = parseResult.GetValue(name) is { } given ? [workspace.Collections.GetCollection(given)] : workspace.Policy.Collections.ToList();
            var rows = new List<string[]>();
            foreach (var collection in collections)
                foreach (var item in await workspace.Collections.GetUsageAsync(collection, Math.Min(parseResult.GetValue(depth) ?? 2, 32), Math.Min(parseResult.GetValue(largest) ?? 10, 10_000), cancellationToken).ConfigureAwait(false))
                {
                    if (context.IsJson(parseResult)) context.WriteJson(item, CliJson.Context.CollectionUsageItem);
                    else rows.Add([item.Collection, item.Kind.ToString(), Display.Bytes(item.Bytes), item.FileCount.ToString(CultureInfo.InvariantCulture), item.Path]);
                }
            if (!context.IsJson(parseResult))
            {
                if (rows.Count == 0) context.Stdout.WriteLine("The policy has no collections.");
                else new TableFormatter(new TableColumn("COLLECTION"), new TableColumn("KIND"), new TableColumn("SIZE", ColumnAlignment.Right),
                    new TableColumn("FILES", ColumnAlignment.Right), new TableColumn("PATH")).Write(context.Stdout, rows);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static async IAsyncEnumerable<TierMove> Planned(IReadOnlyList<TierMove> plan)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var move in plan) yield return move;
    }
}
