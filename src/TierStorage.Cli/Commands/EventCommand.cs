using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage event add|list</c>: Add-SessionEvent and Get-SessionEvent.</summary>
internal static class EventCommand
{
    public static Command Create(CliContext context) =>
        new("event", "Append events to a session's activity log and query them") { CreateAdd(context), CreateList(context) };

    private static Command CreateAdd(CliContext context)
    {
        var session = new Option<string?>("--session") { Description = "Session to append to (default: the active one)", HelpName = "ID" };
        var stdin = new Option<bool>("--stdin") { Description = "Read events as JSON lines (activity-log format) from standard input" };
        var type = ValueParsers.Enum<SessionEventType>("--type", "Event type (required unless --stdin)");
        var timestamp = ValueParsers.Timestamp("--timestamp", "When it happened (default: now)");
        var agent = new Option<string?>("--agent") { Description = "Agent that acted", HelpName = "NAME" };
        var tool = new Option<string?>("--tool") { Description = "Tool that was called", HelpName = "NAME" };
        var task = new Option<string?>("--task") { Description = "Task the event belongs to", HelpName = "TASK" };
        var durationMs = ValueParsers.Long("--duration-ms", "Duration in milliseconds");
        var inputTokens = ValueParsers.Long("--input-tokens", "Input tokens");
        var outputTokens = ValueParsers.Long("--output-tokens", "Output tokens");
        var cacheReadTokens = ValueParsers.Long("--cache-read-tokens", "Cache read tokens");
        var cacheWriteTokens = ValueParsers.Long("--cache-write-tokens", "Cache write tokens");
        var model = new Option<string?>("--model") { Description = "Model id", HelpName = "MODEL" };
        var success = ValueParsers.Boolean("--success", "Whether it succeeded");
        var errorType = new Option<string?>("--error-type") { Description = "Kind of error, when it failed", HelpName = "TYPE" };
        var file = new Option<string?>("--file") { Description = "File the event is about", HelpName = "PATH" };
        var data = new Option<string?>("--data") { Description = "Free-form payload as a JSON object", HelpName = "JSON" };
        Option[] fieldOptions =
        [
            type, timestamp, agent, tool, task, durationMs, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens,
            model, success, errorType, file, data,
        ];

        var command = new Command("add", "Append one event from options, or many from standard input with --stdin") { session, stdin };
        foreach (var option in fieldOptions) command.Add(option);
        command.Validators.Add(result =>
        {
            var fromStdin = ValueParsers.IsGiven(result, stdin);
            var givenFields = fieldOptions.Where(o => ValueParsers.IsGiven(result, o)).Select(o => o.Name).ToList();
            if (fromStdin && givenFields.Count > 0)
                result.AddError($"--stdin reads whole events; {string.Join(", ", givenFields)} cannot be combined with it.");
            else if (!fromStdin && !ValueParsers.IsGiven(result, type))
                result.AddError("--type is required (or use --stdin to read JSON lines).");
        });

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(stdin))
                return await AddFromStdinAsync(context, workspace, parseResult.GetValue(session), context.IsJson(parseResult), cancellationToken).ConfigureAwait(false);

            var tokenOptions = new[] { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens };
            var sessionEvent = new SessionEvent
            {
                // Default (not now) lets the appender stamp it: an event without a time of its own has no id, and each one sent is new.
                Timestamp = parseResult.GetValue(timestamp) ?? default,
                SessionId = parseResult.GetValue(session) ?? "",
                Type = parseResult.GetRequiredValue(type)!.Value,
                Agent = parseResult.GetValue(agent),
                Tool = parseResult.GetValue(tool),
                Task = parseResult.GetValue(task),
                DurationMs = parseResult.GetValue(durationMs),
                Tokens = tokenOptions.Any(o => parseResult.GetResult(o) is not null)
                    ? new TokenUsage
                    {
                        Input = parseResult.GetValue(inputTokens) ?? 0,
                        Output = parseResult.GetValue(outputTokens) ?? 0,
                        CacheRead = parseResult.GetValue(cacheReadTokens) ?? 0,
                        CacheWrite = parseResult.GetValue(cacheWriteTokens) ?? 0,
                    }
                    : null,
                Model = parseResult.GetValue(model),
                Success = parseResult.GetValue(success),
                ErrorType = parseResult.GetValue(errorType),
                File = parseResult.GetValue(file),
                Data = EventJson.ParseData(parseResult.GetValue(data)),
            };

            var appender = workspace.OpenEventAppender(parseResult.GetValue(session), keepWritten: true);
            await using (appender.ConfigureAwait(false))
            {
                await appender.AppendAsync(sessionEvent, cancellationToken).ConfigureAwait(false);
                await appender.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            if (context.IsJson(parseResult))
                foreach (var stored in appender.TakeWritten()) context.WriteJson(stored, CliJson.Context.SessionEvent);
            else
                context.Stdout.WriteLine(Summary(appender, "event"));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>One appender for the whole stream so the engine batches the log writes and catalog transactions.
    /// A bad line is reported and skipped; the rest still go in.</summary>
    private static async Task<int> AddFromStdinAsync(CliContext context, TierWorkspace workspace, string? sessionId, bool json, CancellationToken cancellationToken)
    {
        // EventJson.Parse needs the session for lines that do not name one, before the appender has resolved it.
        sessionId ??= await ActiveSessionIdAsync(workspace, cancellationToken).ConfigureAwait(false);
        var appender = workspace.OpenEventAppender(sessionId, keepWritten: json);
        await using var _ = appender.ConfigureAwait(false);
        long lineNumber = 0, accepted = 0, failed = 0;
        while (await context.Stdin.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;

            try
            {
                await appender.AppendAsync(EventJson.Parse(line, sessionId), cancellationToken).ConfigureAwait(false);
            }
            catch (TierStorageException e) when (e.ErrorId == ErrorIds.InvalidEvent)
            {
                failed++;
                context.WriteError(e.ErrorId, $"line {lineNumber}: {e.Message}");
                continue;
            }

            accepted++;
            // Events are written with their catalog ids once their batch is stored.
            foreach (var stored in appender.TakeWritten()) context.WriteJson(stored, CliJson.Context.SessionEvent);
        }

        await appender.FlushAsync(cancellationToken).ConfigureAwait(false);
        foreach (var stored in appender.TakeWritten()) context.WriteJson(stored, CliJson.Context.SessionEvent);
        if (!json) context.Stdout.WriteLine(Summary(appender, "events"));
        if (failed == 0) return ExitCodes.Success;

        context.WriteError(ErrorIds.InvalidEvent, $"{failed} of {accepted + failed} lines were rejected; the others were added.");
        return ExitCodes.Failed;
    }

    /// <summary>"Added N events to S." and, when the input had been sent before, how many of its events were already stored
    /// (an input sent again stores only what the session lacks; see EventAppender).</summary>
    private static string Summary(EventAppender appender, string noun) =>
        $"Added {appender.StoredCount} {noun} to {appender.SessionId}" +
        (appender.SkippedCount > 0 ? $"; skipped {appender.SkippedCount} already stored (same id)." : ".");

    private static async Task<string> ActiveSessionIdAsync(TierWorkspace workspace, CancellationToken cancellationToken)
    {
        await foreach (var session in workspace.GetSessionsAsync(new SessionFilter { State = SessionState.Active }, cancellationToken).ConfigureAwait(false))
            return session.SessionId;

        throw new TierStorageException(ErrorIds.NoActiveSession, TierErrorKind.InvalidOperation,
            "No session is active; start one with 'tierstorage session start' or name one with --session.");
    }

    private static Command CreateList(CliContext context)
    {
        var session = new Option<string?>("--session") { Description = "Only this session", HelpName = "ID" };
        var phase = ValueParsers.Count("--phase", "Only sessions of this phase", minimum: 0);
        var type = ValueParsers.Enum<SessionEventType>("--type", "Only this event type");
        var agent = new Option<string?>("--agent") { Description = "Only this agent", HelpName = "NAME" };
        var tool = new Option<string?>("--tool") { Description = "Only this tool", HelpName = "NAME" };
        var model = new Option<string?>("--model") { Description = "Only this model", HelpName = "MODEL" };
        var task = new Option<string?>("--task") { Description = "Only this task", HelpName = "TASK" };
        var success = ValueParsers.Boolean("--success", "Only successes (true) or failures (false)");
        var since = ValueParsers.Timestamp("--since", "Only events at or after this time");
        var until = ValueParsers.Timestamp("--until", "Only events before this time");
        var last = ValueParsers.Count("--last", "Only the newest N events (still printed oldest first)", minimum: 1);
        var first = ValueParsers.Count("--first", "Only the oldest N events", minimum: 1);
        var machine = new Option<string?>("--machine") { Description = "A shared catalog: only sessions recorded on this machine, or a pattern ('*', 'build-?')", HelpName = "NAME" };
        var user = new Option<string?>("--user") { Description = "A shared catalog: only sessions recorded by this user, or a pattern", HelpName = "NAME" };

        var command = new Command("list", "Query events from the catalog; results stream as they are read")
        {
            session, phase, type, agent, tool, model, task, success, since, until, last, first, machine, user,
        };
        ValueParsers.ExcludeEachOther(command, last, first);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var lastCount = parseResult.GetValue(last);
            var query = new SessionEventQuery
            {
                SessionId = parseResult.GetValue(session),
                Phase = parseResult.GetValue(phase),
                Type = parseResult.GetValue(type),
                Agent = parseResult.GetValue(agent),
                Tool = parseResult.GetValue(tool),
                Model = parseResult.GetValue(model),
                Task = parseResult.GetValue(task),
                Machine = parseResult.GetValue(machine),
                User = parseResult.GetValue(user),
                Success = parseResult.GetValue(success),
                Since = parseResult.GetValue(since),
                Until = parseResult.GetValue(until),
                Descending = lastCount is not null,
                Limit = lastCount ?? parseResult.GetValue(first),
            };

            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var events = workspace.GetEventsAsync(query, cancellationToken);
            var json = context.IsJson(parseResult);
            Action<SessionEvent> writeRow = json ? e => context.WriteJson(e, CliJson.Context.SessionEvent) : StartTable(context.Stdout);
            var written = 0;
            void Write(SessionEvent sessionEvent)
            {
                writeRow(sessionEvent);
                written++;
            }

            if (lastCount is null)
            {
                await foreach (var sessionEvent in events.ConfigureAwait(false)) Write(sessionEvent);
            }
            else
            {
                // The engine reads newest first to find the last N; a log reads best oldest first, so turn the (bounded) page around.
                var page = new List<SessionEvent>(lastCount.Value);
                await foreach (var sessionEvent in events.ConfigureAwait(false)) page.Add(sessionEvent);
                for (var i = page.Count - 1; i >= 0; i--) Write(page[i]);
            }

            if (written == 0 && !json) context.Stdout.WriteLine("No events.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A fixed-width table so each event is printed the moment it is read; the header comes with the first row.</summary>
    private static Action<SessionEvent> StartTable(TextWriter writer)
    {
        var table = new TableFormatter(
            new TableColumn("TIME", Width: 19), new TableColumn("SESSION", Width: 23), new TableColumn("TYPE", Width: 16),
            new TableColumn("AGENT", Width: 12), new TableColumn("TOOL", Width: 12), new TableColumn("TASK", Width: 16),
            new TableColumn("MS", ColumnAlignment.Right, 7), new TableColumn("TOKENS", ColumnAlignment.Right, 9),
            new TableColumn("OK", Width: 3), new TableColumn("DETAIL"));
        var headerWritten = false;
        return e =>
        {
            if (!headerWritten) table.WriteHeader(writer);
            headerWritten = true;
            table.WriteRow(writer,
            [
                Display.Time(e.Timestamp), e.SessionId, EventJson.ToWireName(e.Type), e.Agent, e.Tool, e.Task,
                Display.Number(e.DurationMs), Display.Number(e.Tokens?.Total), Display.YesNo(e.Success),
                string.Join(" ", new[] { e.Model, e.ErrorType, e.File }.Where(s => !string.IsNullOrEmpty(s))),
            ]);
        };
    }
}
