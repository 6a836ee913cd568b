using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage backup run|sync|test</c>, <c>restore</c>, <c>tier test</c>, <c>catalog rebuild</c>,
/// <c>connect drive</c> and <c>disconnect drive</c>: the twins of Backup-Session, Sync-BackupQueue, Test-Backup,
/// Restore-Session, Test-TierConnection, Update-TierCatalog, Connect-TierDrive and Disconnect-TierDrive.</summary>
internal static class BackupCommand
{
    public static IEnumerable<Command> Create(CliContext context) =>
    [
        new Command("backup", "Back up sessions to a tier, drain the offline queue, and check backups") { CreateRun(context), CreateSync(context), CreateTest(context) },
        CreateRestore(context),
        CreateRestorePhase(context),
        new Command("tier", "Check tiers and their usage") { CreateTierTest(context), CreateUsage(context) },
        new Command("catalog", "Maintain the catalog; copy it between SQLite and PostgreSQL and compare copies") { CreateRebuild(context), CatalogCommand.CreateCopy(context), CatalogCommand.CreateTest(context) },
        new Command("connect", "Connect a cloud account") { CreateConnectDrive(context) },
        new Command("disconnect", "Forget a cloud account") { CreateDisconnectDrive(context) },
    ];

    private static Option<string?> TierOption(string description) => new("--tier") { Description = description, HelpName = "NAME" };

    private static Command CreateRun(CliContext context)
    {
        var ids = new Argument<string[]>("id") { Description = "Sessions to back up (default: every completed session not yet backed up)", Arity = ArgumentArity.ZeroOrMore };
        var tier = TierOption("Tier to back up to (default: the policy's level-2 tier)");
        var whatIf = new Option<bool>("--what-if") { Description = "Show what would be backed up; change nothing" };
        var quiet = new Option<bool>("--quiet") { Description = "No output on success (background runs)" };
        var command = new Command("run", "Package, upload, verify and record sessions; prune local copies beyond retention") { ids, tier, whatIf, quiet };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var sessionIds = parseResult.GetValue(ids) is { Length: > 0 } given ? given : await CompletedSessionsAsync(workspace, cancellationToken).ConfigureAwait(false);
            var request = new BackupRequest { SessionIds = sessionIds, Tier = parseResult.GetValue(tier) };
            var results = parseResult.GetValue(whatIf)
                ? workspace.Backups.PlanAsync(request, cancellationToken)
                : workspace.Backups.BackupAsync(request, null, cancellationToken);
            return await WriteResultsAsync(context, parseResult, results, parseResult.GetValue(quiet)).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<IReadOnlyList<string>> CompletedSessionsAsync(TierWorkspace workspace, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach (var s in workspace.GetSessionsAsync(new SessionFilter { State = SessionState.Completed }, cancellationToken).ConfigureAwait(false))
            ids.Add(s.SessionId);
        return ids;
    }

    private static Command CreateSync(CliContext context)
    {
        var tier = TierOption("Tier whose queue to drain (default: the policy's level-2 tier)");
        var command = new Command("sync", "Back up the sessions queued while the tier was unreachable") { tier };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var results = workspace.Backups.BackupAsync(new BackupRequest { Tier = parseResult.GetValue(tier) }, null, cancellationToken);
            return await WriteResultsAsync(context, parseResult, results, quiet: false).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Exit 0 when every session succeeded or was skipped; 4 (unavailable) when any is queued.</summary>
    private static async Task<int> WriteResultsAsync(CliContext context, ParseResult parseResult, IAsyncEnumerable<BackupResult> results, bool quiet)
    {
        var exit = ExitCodes.Success;
        var rows = new List<string[]>();
        await foreach (var r in results.ConfigureAwait(false))
        {
            if (r.Status == BackupStatus.Queued) exit = ExitCodes.Unavailable;
            if (context.IsJson(parseResult)) context.WriteJson(r, CliJson.Context.BackupResult);
            else rows.Add([r.SessionId, r.Tier, r.Status.ToString(), Display.Bytes(r.BytesSent), Display.YesNo(r.Verified), Display.Duration(r.Duration),
                string.Join(" ", r.PrunedSessions), r.Message ?? r.Location]);
        }
        if (context.IsJson(parseResult) || (quiet && exit == ExitCodes.Success)) return exit;
        if (rows.Count == 0)
        {
            context.Stdout.WriteLine("Nothing to back up.");
            return exit;
        }
        new TableFormatter(new TableColumn("SESSION"), new TableColumn("TIER"), new TableColumn("STATUS"), new TableColumn("SENT", ColumnAlignment.Right),
                new TableColumn("VERIFIED"), new TableColumn("DURATION", ColumnAlignment.Right), new TableColumn("PRUNED"), new TableColumn("NOTE"))
            .Write(context.Stdout, rows);
        return exit;
    }

    private static Command CreateTest(CliContext context)
    {
        var tier = TierOption("Tier to check (default: the policy's level-2 tier)");
        var session = new Option<string?>("--session") { Description = "Only this session", HelpName = "ID" };
        var readData = new Option<bool>("--read-data") { Description = "Download and re-hash the data instead of trusting the tier's checksums" };
        var sample = ValueParsers.Count("--sample", "With --read-data: percent of the objects to read (1-100, default 100)", minimum: 1);
        var ciphertextOnly = new Option<bool>("--ciphertext-only") { Description = "Encrypted tiers: check the encrypted objects against their envelopes without the key" };
        var command = new Command("test", "Compare the catalog with what the tier holds: Ok, Missing, Corrupt, Orphan, Unverified") { tier, session, readData, sample, ciphertextOnly };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var checks = workspace.Backups.CheckAsync(new BackupCheckRequest
            {
                Tier = parseResult.GetValue(tier), SessionId = parseResult.GetValue(session), ReadData = parseResult.GetValue(readData), CiphertextOnly = parseResult.GetValue(ciphertextOnly),
                SamplePercent = parseResult.GetValue(sample) ?? 100,
            }, cancellationToken);
            var exit = ExitCodes.Success;
            var rows = new List<string[]>();
            await foreach (var c in checks.ConfigureAwait(false))
            {
                if (c.Status != BackupCheckStatus.Ok) exit = ExitCodes.Failed;
                if (context.IsJson(parseResult)) context.WriteJson(c, CliJson.Context.BackupCheck);
                else rows.Add([c.SessionId, c.Tier, c.Status.ToString(), c.Key ?? "", c.Message]);
            }
            if (!context.IsJson(parseResult))
            {
                if (rows.Count == 0) context.Stdout.WriteLine("No completed sessions and nothing on the tier.");
                else new TableFormatter(new TableColumn("SESSION"), new TableColumn("TIER"), new TableColumn("STATUS"), new TableColumn("KEY"), new TableColumn("MESSAGE"))
                    .Write(context.Stdout, rows);
            }
            return exit;
        });
        return command;
    }

    private static Command CreateRestore(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "Session to restore" };
        var tier = TierOption("Tier to restore from (default: the one holding it)");
        var destination = new Option<string?>("--destination") { Description = "Restore as plain files into this directory instead of the workspace", HelpName = "DIR" };
        var force = new Option<bool>("--force") { Description = "Replace local files of the session that already exist" };
        var retrieval = ValueParsers.Enum<ArchiveRetrievalTier>("--retrieval", "From a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper)");
        var wait = new Option<bool>("--wait") { Description = "From a cold archive: wait for the thaw, then restore" };
        var command = new Command("restore", "Download, verify and unpack a session from the tier that holds it (thawing an archive first)") { id, tier, destination, force, retrieval, wait };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, false,
                PrepareTier(parseResult.GetValue(tier), TierLevel.Backup), cancellationToken).ConfigureAwait(false);
            var result = await workspace.Backups.RestoreAsync(new RestoreRequest
            {
                SessionId = parseResult.GetValue(id)!, Tier = parseResult.GetValue(tier),
                Destination = parseResult.GetValue(destination) is { } d ? Path.GetFullPath(d) : null, Force = parseResult.GetValue(force),
                Retrieval = parseResult.GetValue(retrieval) ?? ArchiveRetrievalTier.Standard, Wait = parseResult.GetValue(wait),
            }, null, cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(result, CliJson.Context.RestoreResult);
            else if (result.Status == RestoreStatus.Thawing) context.Stdout.WriteLine(result.Message);
            else context.Stdout.WriteLine($"Restored {result.SessionId} from {result.Tier} into {result.Destination}: {result.Files.Count} files, {Display.Bytes(result.BytesReceived)} received, verified.");
            // A thaw under way is not a failure, but a script must not take the session for restored.
            return result.Status == RestoreStatus.Thawing ? ExitCodes.Unavailable : ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A restore's S3 client is started while the workspace opens (<see cref="Engine.Tiers.S3.S3ObjectStore.Prepare(TierDefinition)"/>):
    /// the tier named, else the policy's tier at <paramref name="level"/>, where the session or phase most likely is. Other
    /// kinds of tier start nothing; a guess that proves wrong costs one unused client.</summary>
    private static Action<TierPolicy> PrepareTier(string? name, TierLevel level) => policy =>
    {
        var chosen = name is not null ? policy.Tiers.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)) : policy.GetTier(level);
        if (chosen is { Kind: TierKind.S3 }) PrepareS3(chosen);
    };

    /// <summary>Apart, so a policy without s3 tiers never loads the S3 store's types (nor the AWS SDK behind them).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void PrepareS3(TierDefinition tier) => Engine.Tiers.S3.S3ObjectStore.Prepare(tier);

    private static Command CreateRestorePhase(CliContext context)
    {
        var phase = new Argument<int>("phase") { Description = "The archived phase" };
        var destination = new Option<string?>("--destination") { Description = "Restore as plain files under this directory (a folder per session)", HelpName = "DIR" };
        var force = new Option<bool>("--force") { Description = "Replace local files of the sessions that already exist" };
        var retrieval = ValueParsers.Enum<ArchiveRetrievalTier>("--retrieval", "From a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper)");
        var wait = new Option<bool>("--wait") { Description = "From a cold archive: wait for the thaw, then restore" };
        var command = new Command("restore-phase", "Restore every session of an archived phase out of one download of its archive") { phase, destination, force, retrieval, wait };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, false, PrepareTier(null, TierLevel.Archive), cancellationToken).ConfigureAwait(false);
            var exit = ExitCodes.Success;
            await foreach (var result in workspace.Backups.RestorePhaseAsync(parseResult.GetValue(phase),
                parseResult.GetValue(destination) is { } d ? Path.GetFullPath(d) : null, parseResult.GetValue(force),
                parseResult.GetValue(retrieval) ?? ArchiveRetrievalTier.Standard, parseResult.GetValue(wait), null, cancellationToken).ConfigureAwait(false))
            {
                if (result.Status == RestoreStatus.Thawing) exit = ExitCodes.Unavailable;
                if (context.IsJson(parseResult)) context.WriteJson(result, CliJson.Context.RestoreResult);
                else context.Stdout.WriteLine(result.Status == RestoreStatus.Thawing ? result.Message : $"Restored {result.SessionId} into {result.Destination}, verified.");
            }
            return exit;
        });
        return command;
    }

    private static Command CreateTierTest(CliContext context)
    {
        var tier = TierOption("Tier to check (default: the policy's level-2 tier)");
        var command = new Command("test", "Reach the tier, upload a probe to a test folder, verify, read back, clean up") { tier };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var exit = ExitCodes.Success;
            var rows = new List<string[]>();
            await foreach (var step in workspace.Backups.TestConnectionAsync(parseResult.GetValue(tier), cancellationToken).ConfigureAwait(false))
            {
                if (!step.Succeeded) exit = ExitCodes.Unavailable;
                if (context.IsJson(parseResult)) context.WriteJson(step, CliJson.Context.TierConnectionStep);
                else rows.Add([step.Tier, step.Step, step.Succeeded ? "ok" : "FAILED", Display.Duration(step.Duration), step.Message]);
            }
            if (!context.IsJson(parseResult))
                new TableFormatter(new TableColumn("TIER"), new TableColumn("STEP"), new TableColumn("RESULT"), new TableColumn("TIME", ColumnAlignment.Right), new TableColumn("MESSAGE"))
                    .Write(context.Stdout, rows);
            return exit;
        });
        return command;
    }

    private static Command CreateUsage(CliContext context)
    {
        var tier = TierOption("Only this tier (default: every tier)");
        var refresh = new Option<bool>("--refresh") { Description = "List Drive and S3 tiers instead of reading the catalog" };
        var machine = new Option<string?>("--machine") { Description = "A shared catalog: the share of each tier that this machine's sessions take, or a pattern ('*' for the team's)", HelpName = "NAME" };
        var user = new Option<string?>("--user") { Description = "A shared catalog: the share of each tier that this user's sessions take, or a pattern", HelpName = "NAME" };
        var command = new Command("usage", "Used bytes, capacity, status, objects, monthly cost and growth of each tier") { tier, refresh, machine, user };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var exit = ExitCodes.Success;
            var rows = new List<string[]>();
            await foreach (var u in workspace.Backups.GetUsageAsync(parseResult.GetValue(tier), parseResult.GetValue(refresh), parseResult.GetValue(machine), parseResult.GetValue(user), cancellationToken).ConfigureAwait(false))
            {
                if (u.Status == TierHealth.Critical) exit = ExitCodes.Failed;
                else if (u.Status == TierHealth.Unavailable && exit == ExitCodes.Success) exit = ExitCodes.Unavailable;
                if (context.IsJson(parseResult)) context.WriteJson(u, CliJson.Context.TierUsage);
                else rows.Add([u.Tier, ((int)u.Level).ToString(System.Globalization.CultureInfo.InvariantCulture), Display.Bytes(u.UsedBytes),
                    u.CapacityBytes is { } c ? Display.Bytes(c) : "unlimited", u.Percent is { } p ? $"{p:0.#}%" : "", u.Status.ToString(),
                    Display.Number<long>(u.ObjectCount), $"{u.MonthlyCostUsd:0.00}", Display.Bytes(u.GrowthBytesPerWeek) + "/wk",
                    u.ProjectedFullAt is { } f ? Display.Time(f) : "", u.Source]);
            }
            if (!context.IsJson(parseResult))
                new TableFormatter(new TableColumn("TIER"), new TableColumn("LEVEL", ColumnAlignment.Right), new TableColumn("USED", ColumnAlignment.Right),
                        new TableColumn("CAPACITY", ColumnAlignment.Right), new TableColumn("PCT", ColumnAlignment.Right), new TableColumn("STATUS"),
                        new TableColumn("OBJECTS", ColumnAlignment.Right), new TableColumn("USD/MO", ColumnAlignment.Right), new TableColumn("GROWTH", ColumnAlignment.Right),
                        new TableColumn("FULL BY"), new TableColumn("SOURCE"))
                    .Write(context.Stdout, rows);
            return exit;
        });
        return command;
    }

    private static Command CreateRebuild(CliContext context)
    {
        var fromTier = new Option<string?>("--from-tier") { Description = "Tier whose manifests rebuild the catalog too (default: only the local logs)", HelpName = "NAME" };
        var space = new Option<string>("--namespace")
        {
            Description = "With --from-tier: first take over this namespace on the tiers, the one a lost workspace of this project used (only before anything is backed up)",
            HelpName = "NAMESPACE",
        };
        var command = new Command("rebuild",
            "Rebuild the catalog from the local logs and, with --from-tier, a tier's manifests (after the catalog or the local disk was lost; a damaged catalog is moved aside)")
        {
            fromTier,
            space,
        };
        command.Validators.Add(result =>
        {
            if (ValueParsers.IsGiven(result, space) && !ValueParsers.IsGiven(result, fromTier)) result.AddError("--namespace needs --from-tier.");
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, setAsideCorruptCatalog: true, cancellationToken).ConfigureAwait(false);
            var tier = parseResult.GetValue(fromTier);
            if (parseResult.GetValue(space) is { } adopted && tier is not null)
                await workspace.AdoptNamespaceAsync(tier, adopted, cancellationToken).ConfigureAwait(false);
            var results = tier is null ? workspace.RebuildCatalogFromLogsAsync(cancellationToken) : workspace.Backups.RebuildCatalogAsync(tier, cancellationToken);
            var rows = new List<string[]>();
            await foreach (var r in results.ConfigureAwait(false))
            {
                if (context.IsJson(parseResult)) context.WriteJson(r, CliJson.Context.CatalogRebuildResult);
                else rows.Add([r.SessionId, r.Phase.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Tier, r.Action,
                    r.ObjectCount.ToString(System.Globalization.CultureInfo.InvariantCulture), r.EventCount.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }
            if (!context.IsJson(parseResult))
            {
                if (rows.Count == 0) context.Stdout.WriteLine(tier is null ? "No session logs to index: every log's session already has its events." : "The tier holds no session manifests.");
                else new TableFormatter(new TableColumn("SESSION"), new TableColumn("PHASE", ColumnAlignment.Right), new TableColumn("TIER"), new TableColumn("ACTION"),
                    new TableColumn("OBJECTS", ColumnAlignment.Right), new TableColumn("EVENTS", ColumnAlignment.Right)).Write(context.Stdout, rows);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateConnectDrive(CliContext context)
    {
        var tier = TierOption("The google-drive tier (default: the policy's first)");
        var command = new Command("drive", "Sign in to Google Drive (scope drive.file only) and keep the token under credentials/") { tier };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var info = await workspace.Backups.ConnectDriveAsync(parseResult.GetValue(tier), url =>
            {
                // The URL carries the client id and a PKCE challenge, never a secret: printed so a machine without a
                // browser (SSH) can sign in from another one; the flow waits for the redirect either way.
                context.Stderr.WriteLine($"Open this address to sign in: {url.AbsoluteUri}");
                BackupOperations.OpenSystemBrowser(url);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(info, CliJson.Context.DriveAuthorizationInfo);
            else context.Stdout.WriteLine($"Connected tier '{info.Tier}'{(info.Account is null ? "" : $" as {info.Account}")} (scope {info.Scope}); token in {info.TokenFile}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateDisconnectDrive(CliContext context)
    {
        var tier = TierOption("The google-drive tier (default: the policy's first)");
        var command = new Command("drive", "Revoke and delete the stored Google Drive token") { tier };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var info = await workspace.Backups.DisconnectDriveAsync(parseResult.GetValue(tier), cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(info, CliJson.Context.DriveAuthorizationInfo);
            else context.Stdout.WriteLine($"Disconnected tier '{info.Tier}': token deleted{(info.Revoked ? " and revoked" : " (the server could not be reached to revoke it)")}.");
            return ExitCodes.Success;
        });
        return command;
    }
}
