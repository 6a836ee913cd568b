using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Contracts;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage snapshot save|get</c>: Save-SessionSnapshot and Get-SessionSnapshot.</summary>
internal static class SnapshotCommand
{
    public static Command Create(CliContext context) =>
        new("snapshot", "Save and read JSON snapshots of a session's state") { CreateSave(context), CreateGet(context) };

    private static Command CreateSave(CliContext context)
    {
        var session = new Option<string?>("--session") { Description = "Session the snapshot belongs to (default: the active one)", HelpName = "ID" };
        var file = new Option<string?>("--file") { Description = "JSON document to save (default: standard input)", HelpName = "FILE" };

        var command = new Command("save", "Save a JSON document as the session's next snapshot (written atomically)") { session, file };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file);
            var json = path is null
                ? await context.Stdin.ReadToEndAsync(cancellationToken).ConfigureAwait(false)
                : await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);

            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var snapshot = await workspace.SaveSnapshotAsync(parseResult.GetValue(session), json, cancellationToken).ConfigureAwait(false);

            if (context.IsJson(parseResult)) context.WriteJson(snapshot, CliJson.Context.SnapshotInfo);
            else context.Stdout.WriteLine($"Saved snapshot {snapshot.Sequence} of {snapshot.SessionId} ({Display.Bytes(snapshot.SizeBytes)}): {snapshot.Path}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateGet(CliContext context)
    {
        var session = new Option<string?>("--session") { Description = "Session to read from (default: the active one; with --list, every session)", HelpName = "ID" };
        var latest = new Option<bool>("--latest") { Description = "The latest readable snapshot (the default; a corrupt latest is skipped with a warning)" };
        var sequence = ValueParsers.Count("--sequence", "The snapshot with this number", minimum: 1);
        var list = new Option<bool>("--list") { Description = "List the snapshots instead of printing one" };

        var command = new Command("get", "Print a snapshot's JSON document, or list snapshots") { session, latest, sequence, list };
        ValueParsers.ExcludeEachOther(command, latest, sequence, list);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(list))
            {
                await WriteListAsync(context, workspace.GetSnapshotsAsync(parseResult.GetValue(session), cancellationToken), context.IsJson(parseResult)).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            // The document is the output in both modes: it is JSON already, and wrapping it would make the recovery path harder to script.
            var snapshot = await workspace.ReadSnapshotAsync(parseResult.GetValue(session), parseResult.GetValue(sequence), context.Warn, cancellationToken).ConfigureAwait(false);
            context.Stdout.WriteLine(snapshot.Json);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task WriteListAsync(CliContext context, IAsyncEnumerable<SnapshotInfo> snapshots, bool json)
    {
        if (json)
        {
            await foreach (var snapshot in snapshots.ConfigureAwait(false)) context.WriteJson(snapshot, CliJson.Context.SnapshotInfo);
            return;
        }

        var rows = new List<string[]>();
        await foreach (var s in snapshots.ConfigureAwait(false))
            rows.Add([s.SessionId, s.Sequence.ToString(), Display.Time(s.CreatedAt), Display.Bytes(s.SizeBytes), Display.Bytes(s.UncompressedBytes), s.Path]);

        if (rows.Count == 0)
        {
            context.Stdout.WriteLine("No snapshots.");
            return;
        }

        new TableFormatter(
                new TableColumn("SESSION"), new TableColumn("SEQ", ColumnAlignment.Right), new TableColumn("CREATED"),
                new TableColumn("SIZE", ColumnAlignment.Right), new TableColumn("JSON SIZE", ColumnAlignment.Right), new TableColumn("PATH"))
            .Write(context.Stdout, rows);
    }
}
