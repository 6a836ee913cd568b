using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Engine.Ingest;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage import claude</c>: Import-ClaudeSession.</summary>
internal static class ImportCommand
{
    public static Command Create(CliContext context)
    {
        var path = new Option<string?>("--path") { Description = "One transcript file", HelpName = "FILE" };
        var project = new Option<string?>("--project") { Description = "The project directory Claude Code ran in (default: the current directory)", HelpName = "DIR" };
        var configDir = new Option<string?>("--config-dir") { Description = "Claude Code's data directories, comma-separated (default: $CLAUDE_CONFIG_DIR, else ~/.config/claude and ~/.claude)", HelpName = "DIR[,DIR...]" };
        var allProjects = new Option<bool>("--all-projects") { Description = "Every project of the config directories, not only --project's" };
        var phase = ValueParsers.Count("--phase", "Phase of sessions the import creates (default: the current phase)", minimum: 0);
        var complete = new Option<bool>("--complete") { Description = "Complete the imported sessions now (session_end, handoff note) instead of waiting until they are idle" };
        var idle = ValueParsers.Count("--idle-minutes", $"Minutes after its last transcript line at which a session is finished and completed (default: {(int)CompletionOptions.DefaultIdleTime.TotalMinutes})", minimum: 1);
        var claude = new Command("claude", "Import Claude Code transcripts as sessions, incrementally") { path, project, configDir, allProjects, phase, complete, idle };
        claude.Validators.Add(result =>
        {
            if (result.GetValue(allProjects) && (result.GetValue(path) is not null || result.GetValue(project) is not null))
                result.AddError("--all-projects reads every project: give it without --path or --project.");
        });
        claude.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var rows = new List<string[]>();
            await foreach (var r in ClaudeProjectImporter.ImportAsync(workspace, parseResult.GetValue(path), parseResult.GetValue(project) is { } p ? Path.GetFullPath(p) : null,
                parseResult.GetValue(configDir), parseResult.GetValue(phase), Completion(parseResult.GetValue(complete), parseResult.GetValue(idle)), parseResult.GetValue(allProjects), context.Warn, cancellationToken).ConfigureAwait(false))
            {
                if (context.IsJson(parseResult)) context.WriteJson(r, CliJson.Context.ClaudeImportResult);
                else rows.Add([r.SessionId, r.IsSubagent ? r.Agent ?? "subagent" : "", r.SkippedReason is not null ? "skipped" : r.SessionCompleted ? "completed" : "", Display.Number<long>(r.EventsImported), Display.Number<long>(r.DuplicatesSkipped),
                    r.MalformedLines.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Display.Bytes(r.BytesRead), r.TranscriptPath]);
            }
            if (!context.IsJson(parseResult))
                new TableFormatter(new TableColumn("SESSION"), new TableColumn("KIND"), new TableColumn("STATE"), new TableColumn("EVENTS", ColumnAlignment.Right), new TableColumn("DUPLICATES", ColumnAlignment.Right),
                    new TableColumn("MALFORMED", ColumnAlignment.Right), new TableColumn("READ", ColumnAlignment.Right), new TableColumn("TRANSCRIPT")).Write(context.Stdout, rows);
            return ExitCodes.Success;
        });
        return new Command("import", "Import sessions recorded by other tools") { claude };
    }

    private static CompletionOptions Completion(bool complete, int? idleMinutes) => new()
    {
        Force = complete,
        IdleTime = idleMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : CompletionOptions.DefaultIdleTime,
    };
}
