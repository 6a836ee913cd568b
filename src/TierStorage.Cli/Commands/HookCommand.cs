using System.CommandLine;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Ingest;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage hook</c>: records one Claude Code hook payload read from standard input (see
/// examples/claude-settings.json). Silent on success, since Claude Code adds a SessionStart hook's output to the
/// conversation; a failure is reported on stderr with exit 1, never 2, which Claude Code would take as "block this tool call".</summary>
internal static class HookCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("hook", "Record a Claude Code hook payload from standard input (SessionStart, PreToolUse, PostToolUse, SubagentStop, Stop, SessionEnd)");
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var payload = await context.Stdin.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                // Before every tool call: note the time and leave; no policy, no database.
                if (ClaudeHookRecorder.TryNoteToolStart(TierStorage.Engine.Workspace.TierWorkspace.ResolveWorkspacePath(parseResult.GetValue(context.Workspace)), payload, DateTimeOffset.UtcNow))
                    return ExitCodes.Success;
                await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
                var outcome = await ClaudeHookRecorder.RecordAsync(workspace, payload, cancellationToken).ConfigureAwait(false);
                if (outcome.SessionCompleted)
                    await foreach (var _ in workspace.Backups.AfterSessionCompletedAsync(outcome.SessionId, wait: false, skip: false, SessionCommand.BackgroundBackupCommand, null, cancellationToken).ConfigureAwait(false))
                    {
                    }
                return ExitCodes.Success;
            }
            catch (TierStorageException ex)
            {
                context.WriteError(ex.ErrorId, ex.Message);
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
