using System.CommandLine;
using TierStorage.Cli.Commands;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli;

/// <summary>The <c>tierstorage</c> command, callable in-process: streams in, exit code out.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // The hook before and after every tool call of the agent: served before the command line is even built.
        var (hookExit, hookPayload) = HookCommand.TryRunWithoutWorkspace(args, stdin, stderr, cancellationToken);
        if (hookExit is { } exitCode) return exitCode;

        var context = new CliContext(hookPayload is null ? stdin : new StringReader(hookPayload), stdout, stderr);
        try
        {
            var root = BuildRootCommand(context);
            var parseResult = root.Parse(args);
            if (parseResult.Errors.Count > 0)
            {
                foreach (var error in parseResult.Errors) context.WriteError("Usage", error.Message);
                stderr.WriteLine($"Run '{UsageHint(parseResult)} --help' for usage.");
                // Claude Code reads exit code 2 from a hook as "block this tool call": a mistake in the hook's command
                // line in settings.json must not stop the agent's every tool call.
                return parseResult.CommandResult.Command.Name == HookCommand.Name ? ExitCodes.Failed : ExitCodes.Usage;
            }

            var configuration = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                // Exceptions come back here to become exit codes; Ctrl+C is wired by Program through cancellationToken.
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.WriteError("Cancelled", "the operation was cancelled (events already flushed stay in the log).");
            return ExitCodes.Cancelled;
        }
        catch (TierStorageException e)
        {
            context.WriteError(e.ErrorId, e.Message);
            foreach (var finding in e.Findings) stderr.WriteLine(CliContext.FormatFinding(finding));
            return ExitCodes.FromErrorKind(e.Kind);
        }
        catch (Exception e) when (IoErrors.Unexpected(e, null) is { } error)
        {
            // The same ids and advice as the cmdlets give for a file-system or catalog failure the engine did not classify.
            context.WriteError(error.ErrorId, error.Message);
            return ExitCodes.FromErrorKind(error.Kind);
        }
        catch (Exception e)
        {
            // A bug, not a planned failure: name the type so the report is useful without a stack trace.
            context.WriteError("Unexpected", $"{e.GetType().FullName}: {e.Message}");
            return ExitCodes.Failed;
        }
        finally
        {
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The command lines answered before the command line parser is built, or null: <c>tierstorage --version</c>
    /// alone (the parser's own answer, from the entry assembly as System.CommandLine reads it). Its start-up is the
    /// runtime's and nothing else: neither System.CommandLine nor the engine is loaded.
    /// </summary>
    /// <param name="write">Writes to standard output (Program: <see cref="StandardOutput.Write"/>).</param>
    public static int? TryRunWithoutParser(string[] args, Action<string> write)
    {
        if (args is not ["--version"]) return null;
        // What System.CommandLine's `--version` prints (the entry assembly's informational version), as a constant
        // written by the build (BuildVersion.targets): reading the attribute costs the native command the type loader.
        write(BuildVersion.Informational + Environment.NewLine);
        return ExitCodes.Success;
    }

    private static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "Keeps AI coding-agent session data (activity logs, snapshots, analytics) in three storage tiers.\n" +
            ExitCodes.HelpText)
        {
            context.Workspace,
            context.Policy,
            context.Json,
            InitCommand.Create(context),
            PolicyCommand.Create(context),
            SessionCommand.Create(context),
            EventCommand.Create(context),
            SnapshotCommand.Create(context),
            PhaseCommand.Create(context),
            CollectionCommand.Create(context),
            HookCommand.Create(context),
            ReviewCommand.Create(context),
            ImportCommand.Create(context),
            KeyCommand.Create(context),
            AlertCommand.Create(context),
        };
        foreach (var command in BackupCommand.Create(context).Concat(RunCommand.Create(context))) root.Subcommands.Add(command);
        return root;
    }

    private static string UsageHint(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, result.Command.Name);
        names[0] = "tierstorage";
        return string.Join(" ", names);
    }
}
