using System.Collections;
using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Commands;

/// <summary>Appends events to a session's activity log and the catalog.</summary>
/// <remarks>
/// <para>Add-SessionEvent records what an agent did (a tool call, an LLM call, an error, a decision...) in the session's append-only activity log and in the catalog. The event type is given in its log spelling (tool_call, llm_call, agent_invocation, file_operation, error, decision, snapshot, session_start, session_end); the enum name (ToolCall) is accepted too.</para>
/// <para>It is built for bulk pipelines: events come from parameters (or objects such as Import-Csv rows whose properties bind by name), from SessionEvent objects, or from activity-log JSON lines; one appender per session batches the writes for the whole pipeline and is flushed when the pipeline ends. Secrets matching the policy's redaction patterns are redacted before anything is written.</para>
/// <para>Without -SessionId, events go to the active session (or to the session the event itself names). Strings from Import-Csv convert ("true"/"1"/"yes", numbers, ISO timestamps; a blank cell is no value) or fail that item naming the field.</para>
/// </remarks>
/// <example>
/// <code>Add-SessionEvent -Type tool_call -Tool Read -DurationMs 12</code>
/// <para>Records a 12 ms Read tool call in the active session.</para>
/// </example>
/// <example>
/// <code>Import-Csv calls.csv | Add-SessionEvent</code>
/// <para>Records one event per CSV row; the columns (Type, Tool, DurationMs, duration_ms, ...) bind to the parameters of the same names.</para>
/// </example>
/// <example>
/// <code>Get-Content ./events.jsonl | Add-SessionEvent -SessionId session_20260101_090000</code>
/// <para>Appends activity-log lines, one JSON object per line, to the named session.</para>
/// </example>
// -Type is not mandatory to PowerShell (a missing type is a per-item error naming the field): with a mandatory -Type in
// the default set, a piped string bound to none of the sets; with the JSON set as default, an object from
// ConvertFrom-Json or Import-Csv was turned into text for -Json instead of binding its properties by name.
[Cmdlet(VerbsCommon.Add, "SessionEvent", DefaultParameterSetName = PropertySet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SessionEvent))]
public sealed class AddSessionEventCommand : WorkspaceCmdlet
{
    public const string PropertySet = "Property";
    public const string InputObjectSet = "InputObject";
    public const string JsonSet = "Json";

    private const int ProgressActivityId = 0x7E51;
    private const long ProgressInterval = 10_000;

    // Keyed by the requested session id ("" = the active session).
    private readonly Dictionary<string, EventAppender> _appenders = new(StringComparer.Ordinal);
    private long _appended;

    /// <summary>Event type in its log spelling (tool_call, llm_call, ...); required for every event given by its properties.</summary>
    [Parameter(ParameterSetName = PropertySet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.EventTypeCompleter))]
    public string? Type { get; set; }

    /// <summary>Agent that produced the event (for example the sub-agent's name).</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("agent", EventFieldKind.Text)]
    public string? Agent { get; set; }

    /// <summary>Tool the event is about (Read, Edit, Bash, ...).</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("tool", EventFieldKind.Text)]
    public string? Tool { get; set; }

    /// <summary>Task or ticket the work belongs to.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("task", EventFieldKind.Text)]
    public string? Task { get; set; }

    /// <summary>How long the call took, in milliseconds.</summary>
    // No ValidateRange on the optional numbers: PowerShell validates a null bound from a null property and fails the
    // item; the engine rejects negative values naming the field.
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [Alias("Duration", "duration_ms")]
    [EventField("duration_ms", EventFieldKind.Count)]
    public long? DurationMs { get; set; }

    /// <summary>Token counts as one object (input, output, cache_read, cache_write), as a log line or ConvertFrom-Json has them;
    /// -InputTokens and the other counts override its parts.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("tokens", EventFieldKind.Tokens)]
    public TokenUsage? Tokens { get; set; }

    /// <summary>Input tokens of an LLM call.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [Alias("input_tokens")]
    [EventField("input_tokens", EventFieldKind.Count)]
    public long? InputTokens { get; set; }

    /// <summary>Output tokens of an LLM call.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [Alias("output_tokens")]
    [EventField("output_tokens", EventFieldKind.Count)]
    public long? OutputTokens { get; set; }

    /// <summary>Prompt-cache tokens read by an LLM call.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [Alias("cache_read_tokens")]
    [EventField("cache_read_tokens", EventFieldKind.Count)]
    public long? CacheReadTokens { get; set; }

    /// <summary>Prompt-cache tokens written by an LLM call.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [Alias("cache_write_tokens")]
    [EventField("cache_write_tokens", EventFieldKind.Count)]
    public long? CacheWriteTokens { get; set; }

    /// <summary>Model that served an LLM call.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("model", EventFieldKind.Text)]
    public string? Model { get; set; }

    /// <summary>Whether the call succeeded; $false counts as a failure in reviews. From text also "true"/"false", "1"/"0", "yes"/"no" in any case.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("success", EventFieldKind.Boolean)]
    public bool? Success { get; set; }

    /// <summary>Kind of error, for failed calls and error events.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [Alias("error_type")]
    [EventField("error_type", EventFieldKind.Text)]
    public string? ErrorType { get; set; }

    /// <summary>File the event is about (for file operations).</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("file", EventFieldKind.Text)]
    public string? File { get; set; }

    /// <summary>Free payload (a hashtable, or an object such as ConvertFrom-Json gives); nested values are kept as nested
    /// dictionaries and lists.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("data", EventFieldKind.Data)]
    public IDictionary? Data { get; set; }

    /// <summary>When the event happened; default now. Text is read as ISO-8601 (UTC when it has no offset).</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("timestamp", EventFieldKind.Timestamp)]
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>The event's identity within its session: an event whose id the session already holds is not stored again.
    /// Without one, an event given with its own -Timestamp gets an id derived from its content and its place in this
    /// pipeline, so running the same import again stores only what the first run did not.</summary>
    [Parameter(ParameterSetName = PropertySet, ValueFromPipelineByPropertyName = true)]
    [EventField("id", EventFieldKind.Text)]
    public string? Id { get; set; }

    /// <summary>Events to append as they are, for example the output of Get-SessionEvent from another workspace.</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public SessionEvent? InputObject { get; set; }

    /// <summary>Activity-log lines, one JSON object each; a line without timestamp or session means now and the session
    /// appended to.</summary>
    [Parameter(ParameterSetName = JsonSet, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[]? Json { get; set; }

    /// <summary>Session to append to; default the active one (or the session named by the event itself).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("session_id", "session")]
    [EventField("session", EventFieldKind.Text)]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Write each event as stored (redacted, session filled in, with its catalog EventId). Events are written when
    /// their batch is stored, so they may come some items later, and at the latest when the pipeline ends.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case InputObjectSet:
                // A stored event (from Get-SessionEvent) is appended as a new one: its old id is dropped, and -SessionId
                // (given, or bound from the event's own SessionId) says where it goes.
                var source = InputObject!;
                Append(source with { SessionId = "", EventId = 0 }, SessionId ?? NullIfEmpty(source.SessionId));
                break;
            case JsonSet:
                foreach (var line in Json!)
                {
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        continue;
                    }

                    ProcessItem(line, () =>
                    {
                        var parsed = EventJson.ParseInput(line);
                        Append(parsed, SessionId ?? NullIfEmpty(parsed.SessionId));
                    });
                }

                break;
            default:
                ProcessItem(Type, () => Append(FromParameters(), SessionId));
                break;
        }
    }

    private SessionEvent FromParameters()
    {
        if (string.IsNullOrWhiteSpace(Type))
        {
            throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidArgument,
                "Field 'type' is required (tool_call, llm_call, agent_invocation, file_operation, error, decision, ...).", null);
        }

        if (!EventJson.TryParseType(Type, out var type))
        {
            throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidArgument,
                $"Field 'type': '{Type}' is not an event type.", Type);
        }

        var hasCounts = InputTokens is not null || OutputTokens is not null || CacheReadTokens is not null || CacheWriteTokens is not null;
        var tokens = Tokens;
        if (hasCounts)
        {
            tokens = (tokens ?? new TokenUsage()) with
            {
                Input = InputTokens ?? tokens?.Input ?? 0,
                Output = OutputTokens ?? tokens?.Output ?? 0,
                CacheRead = CacheReadTokens ?? tokens?.CacheRead ?? 0,
                CacheWrite = CacheWriteTokens ?? tokens?.CacheWrite ?? 0,
            };
        }

        return new SessionEvent
        {
            // Default (not now) lets the appender stamp the time it takes the event, as for a JSON line without one.
            Timestamp = Timestamp ?? default,
            SessionId = "",
            Type = type,
            Agent = Agent,
            Tool = Tool,
            Task = Task,
            DurationMs = DurationMs,
            Tokens = tokens,
            Model = Model,
            Success = Success,
            ErrorType = ErrorType,
            File = File,
            Data = PlainData.FromDictionary(Data),
            Id = Id is null ? null : EventJson.CheckId(Id),
        };
    }

    private void Append(SessionEvent sessionEvent, string? sessionId)
    {
        var target = sessionId ?? "active session";
        if (!ShouldProcess(target, "Add " + sessionEvent.Type + " event"))
        {
            return;
        }

        ProcessItem(sessionEvent, () =>
        {
            var appender = AppenderFor(sessionId);
            Await(appender.AppendAsync(sessionEvent, CancellationToken));
            WriteStored(appender);
            if (++_appended % ProgressInterval == 0)
            {
                WriteProgress(new ProgressRecord(ProgressActivityId, "Add-SessionEvent", $"{_appended:N0} events appended"));
            }
        });
    }

    /// <summary>With -PassThru, the events whose batch has been stored, with their catalog ids.</summary>
    private void WriteStored(EventAppender appender)
    {
        if (PassThru)
        {
            WriteObject(appender.TakeWritten(), enumerateCollection: true);
        }
    }

    private EventAppender AppenderFor(string? sessionId)
    {
        var key = sessionId ?? "";
        if (!_appenders.TryGetValue(key, out var appender))
        {
            appender = Workspace.OpenEventAppender(sessionId, keepWritten: PassThru);
            _appenders.Add(key, appender);
        }

        return appender;
    }

    /// <summary>How much of the input was stored; a warning when some of it had been stored before (the same input sent
    /// again, for example after an interrupted import), since nothing else would show that those events were left out.</summary>
    private void WriteSummary(EventAppender appender)
    {
        var stored = $"Stored {appender.StoredCount:N0} events in session '{appender.SessionId}'";
        if (appender.SkippedCount == 0)
        {
            WriteVerbose(stored + ".");
            return;
        }

        WriteWarning($"{stored}; skipped {appender.SkippedCount:N0} already stored (same id): this input, or part of it, had been added before.");
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    protected override void EndProcessing()
    {
        foreach (var (key, appender) in _appenders)
        {
            ProcessItem(key.Length == 0 ? "active session" : key, () =>
            {
                Await(appender.FlushAsync(CancellationToken));
                WriteStored(appender);
                Await(appender.DisposeAsync());
                WriteSummary(appender);
            });
        }

        _appenders.Clear();
        if (_appended >= ProgressInterval)
        {
            WriteProgress(new ProgressRecord(ProgressActivityId, "Add-SessionEvent", $"{_appended:N0} events appended")
            {
                RecordType = ProgressRecordType.Completed,
            });
        }

        base.EndProcessing();
    }

    protected override void ReleaseResources()
    {
        // Only reached with appenders left when the pipeline stopped early; there is no stream left to report to,
        // and the engine detects and quarantines a partial last line on the next open.
        foreach (var appender in _appenders.Values)
        {
            try
            {
                Await(appender.DisposeAsync());
            }
            catch (TierStorageException)
            {
            }
        }

        _appenders.Clear();
        base.ReleaseResources();
    }
}
