using System.CommandLine;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage hook</c>: records one Claude Code hook payload read from standard input (see
/// examples/claude-settings.json). Silent on success, since Claude Code adds a SessionStart hook's output to the
/// conversation; a failure is reported on stderr with exit 1, never 2, which Claude Code would take as "block this tool call".</summary>
internal static class HookCommand
{
    public const string Name = "hook";

    public static Command Create(CliContext context)
    {
        var command = new Command(Name, "Record a Claude Code hook payload from standard input (SessionStart, PreToolUse, PostToolUse, SubagentStop, Stop, SessionEnd)");
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var payload = await context.Stdin.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
                var outcome = await ClaudeHookRecorder.RecordAsync(workspace, payload, cancellationToken).ConfigureAwait(false);
                if (outcome.SessionCompleted)
                    await foreach (var _ in workspace.Backups.AfterSessionCompletedAsync(outcome.SessionId!, wait: false, skip: false, SessionCommand.BackgroundBackupCommand, null, cancellationToken).ConfigureAwait(false))
                    {
                    }
                return ExitCodes.Success;
            }
            catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.InvalidEvent)
            {
                // Silent, as the README promises (Claude Code would show stderr to the user mid-conversation): a payload
                // that is not a hook event is noted in the workspace's logs instead, and the exit code says it failed.
                ClaudeHookRecorder.NoteRejectedPayload(context.ResolveWorkspacePath(parseResult), ex.Message, DateTimeOffset.UtcNow);
                return ExitCodes.Failed;
            }
            catch (TierStorageException ex)
            {
                context.WriteError(ex.ErrorId, ex.Message);
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>The hook runs before and after every tool call of the agent, so its usual form (<c>hook</c> with at most
    /// --workspace and --policy, in any order) is served before the command line parser and the rest of the product are
    /// even built, and while a session is active without the policy's YAML or the catalog (<see
    /// cref="ClaudeHookRecorder.TryRecordWithoutWorkspace"/>): what it costs is about what starting the process
    /// costs. The exit code is null when the call needs the full command (another argument, SessionEnd, no active session,
    /// a payload to report as bad, a disk error to report); Payload then holds what was read from standard input, for that
    /// command to read.</summary>
    public static (int? ExitCode, string? Payload) TryRunWithoutWorkspace(string[] args, TextReader stdin, TextWriter stderr,
        CancellationToken cancellationToken)
    {
        if (!ClaudeHookRecorder.TryReadFastPathArguments(args, out var workspacePath, out var policyPath)) return (null, null);
        var payload = stdin.ReadToEnd();
        try
        {
            var outcome = ClaudeHookRecorder.TryRecordWithoutWorkspace(TierWorkspace.ResolveWorkspacePath(workspacePath), policyPath,
                payload, DateTimeOffset.UtcNow, message => CliContext.Warn(stderr, message), cancellationToken);
            return (outcome is null ? null : ExitCodes.Success, payload);
        }
        catch (TierStorageException ex)
        {
            // As the full command reports it: exit 1, never 2.
            CliContext.WriteError(stderr, ex.ErrorId, ex.Message);
            return (ExitCodes.Failed, payload);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // The full command meets the same disk (or the same cancellation) and reports it with the exit code it has for it.
            return (null, payload);
        }
    }
}
