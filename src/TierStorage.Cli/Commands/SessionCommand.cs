using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage session start|complete|list</c>: Start-Session, Complete-Session, Get-Session.</summary>
internal static class SessionCommand
{
    public static Command Create(CliContext context) =>
        new("session", "Start, complete and list sessions") { CreateStart(context), CreateComplete(context), CreateList(context) };

    private static Command CreateStart(CliContext context)
    {
        var phase = ValueParsers.Count("--phase", "Phase number (default: the phase of the latest session, else 0)", minimum: 0);
        var id = new Option<string?>("--id") { Description = "Session id in session_YYYYMMDD_HHMMSS form (default: from the clock)", HelpName = "ID" };
        var completeActive = new Option<bool>("--complete-active") { Description = "Complete a session that is still active instead of refusing" };

        var command = new Command("start", "Start a session; the current log rotates to previous") { phase, id, completeActive };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var session = await workspace.StartSessionAsync(
                new StartSessionRequest { Phase = parseResult.GetValue(phase), SessionId = parseResult.GetValue(id), CompleteActive = parseResult.GetValue(completeActive) },
                cancellationToken).ConfigureAwait(false);

            if (context.IsJson(parseResult)) context.WriteJson(session, CliJson.Context.SessionInfo);
            else context.Stdout.WriteLine($"Started {session.SessionId} (phase {session.Phase}).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateComplete(CliContext context)
    {
        var id = new Argument<string?>("id") { Description = "Session to complete (default: the active one)", Arity = ArgumentArity.ZeroOrOne };
        var wait = new Option<bool>("--wait") { Description = "Run the policy's backup trigger here instead of in a background process" };
        var noBackup = new Option<bool>("--no-backup") { Description = "Do not start the policy's backup this time" };
        var command = new Command("complete", "Write the handoff note, mark the session completed, and start its backup (backup.on_session_complete)") { id, wait, noBackup };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var session = await workspace.CompleteSessionAsync(parseResult.GetValue(id), cancellationToken).ConfigureAwait(false);

            if (context.IsJson(parseResult)) context.WriteJson(session, CliJson.Context.SessionInfo);
            else
            {
                context.Stdout.WriteLine($"Completed {session.SessionId} after {Display.Duration(session.Duration)}, {session.EventCount} events.");
                if (session.HandoffPath is not null) context.Stdout.WriteLine($"  handoff: {session.HandoffPath}");
            }

            var exit = ExitCodes.Success;
            await foreach (var backup in workspace.Backups.AfterSessionCompletedAsync(session.SessionId, parseResult.GetValue(wait), parseResult.GetValue(noBackup), BackgroundBackupCommand, null, cancellationToken).ConfigureAwait(false))
            {
                if (backup.Status == BackupStatus.Queued) exit = ExitCodes.Unavailable;
                if (context.IsJson(parseResult)) context.WriteJson(backup, CliJson.Context.BackupResult);
                else context.Stdout.WriteLine($"  backup: {backup.SessionId} {backup.Status} on {backup.Tier}{(backup.Status is BackupStatus.Succeeded or BackupStatus.Skipped ? $", {Display.Bytes(backup.BytesSent)} sent, verified" : "")}{(backup.Message is null ? "" : $" ({backup.Message})")}");
            }
            return exit;
        });
        return command;
    }

    /// <summary>This very command, started again: tierstorage backup run &lt;id&gt; --workspace &lt;dir&gt; --quiet, the native
    /// binary itself when this is one (its assembly has no file), else dotnet tierstorage.dll.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty Location is the native build, which starts its own binary.")]
    internal static BackgroundCommand BackgroundBackupCommand(string sessionId, string workspace, string? policy)
    {
        List<string> arguments = ["backup", "run", sessionId, "--workspace", workspace, "--quiet"];
        if (policy is not null) arguments.AddRange(["--policy", policy]);
        var assembly = typeof(CliApp).Assembly.Location;
        return assembly.Length == 0
            ? new BackgroundCommand(Environment.ProcessPath ?? throw new InvalidOperationException("This process has no executable path."), arguments)
            : new BackgroundCommand(BackgroundBackup.DotnetHost(), [assembly, .. arguments]);
    }

    private static Command CreateList(CliContext context)
    {
        var id = new Option<string?>("--id") { Description = "Only this session (exit 3 when there is none), or a wildcard pattern such as 'session_2026*'", HelpName = "ID" };
        var phase = ValueParsers.Count("--phase", "Only sessions of this phase", minimum: 0);
        var state = ValueParsers.Enum<SessionState>("--state", "Only sessions in this state");
        var finished = new Option<bool>("--finished") { Description = "Only sessions that have ended: completed, backed up or archived" };
        var machine = new Option<string?>("--machine") { Description = "A shared catalog: sessions recorded on this machine, or a pattern ('*' for every machine; default: this one)", HelpName = "NAME" };
        var user = new Option<string?>("--user") { Description = "A shared catalog: sessions recorded by this user, or a pattern", HelpName = "NAME" };

        var command = new Command("list", "List sessions with their state and where they live") { id, phase, state, finished, machine, user };
        command.Validators.Add(result =>
        {
            if (ValueParsers.IsGiven(result, state) && ValueParsers.IsGiven(result, finished)) result.AddError("--state and --finished cannot be combined.");
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var sessions = workspace.GetSessionsAsync(
                new SessionFilter
                {
                    SessionId = parseResult.GetValue(id), Phase = parseResult.GetValue(phase), State = parseResult.GetValue(state), Finished = parseResult.GetValue(finished),
                    Machine = parseResult.GetValue(machine), User = parseResult.GetValue(user),
                },
                cancellationToken);

            if (context.IsJson(parseResult))
            {
                await foreach (var session in sessions.ConfigureAwait(false)) context.WriteJson(session, CliJson.Context.SessionInfo);
                return ExitCodes.Success;
            }

            var rows = new List<string[]>();
            await foreach (var s in sessions.ConfigureAwait(false))
            {
                rows.Add([
                    s.SessionId, s.Phase.ToString(), s.State.ToString(), Display.Time(s.StartedAt), Display.Duration(s.Duration),
                    s.EventCount.ToString(), s.SnapshotCount.ToString(), Display.Bytes(s.SizeBytes), s.Tier, Display.YesNo(s.Verified), s.Note ?? "",
                ]);
            }

            if (rows.Count == 0)
            {
                context.Stdout.WriteLine("No sessions.");
                return ExitCodes.Success;
            }

            new TableFormatter(
                    new TableColumn("SESSION"), new TableColumn("PHASE", ColumnAlignment.Right), new TableColumn("STATE"), new TableColumn("STARTED"),
                    new TableColumn("DURATION", ColumnAlignment.Right), new TableColumn("EVENTS", ColumnAlignment.Right),
                    new TableColumn("SNAPS", ColumnAlignment.Right), new TableColumn("SIZE", ColumnAlignment.Right),
                    new TableColumn("TIER"), new TableColumn("VERIFIED"), new TableColumn("NOTE"))
                .Write(context.Stdout, rows);
            return ExitCodes.Success;
        });
        return command;
    }
}
