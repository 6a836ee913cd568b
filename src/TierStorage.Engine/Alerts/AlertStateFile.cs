using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Alerts;

/// <summary>What one notification says: the payload every channel renders, kept whole in the outbox so a retry sends the same.</summary>
internal sealed record AlertNotification
{
    /// <summary>Stable across retries: a receiver drops the one duplicate a crash between send and save may cause.</summary>
    public string Id { get; set; } = "";
    public AlertNotice Notice { get; init; }
    public string Key { get; set; } = "";
    public string Condition { get; set; } = "";
    public string Subject { get; set; } = "";
    public AlertSeverity Severity { get; init; }
    public string Message { get; set; } = "";
    public string Fix { get; set; } = "";
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    public int Runs { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public string Workspace { get; set; } = "";
    public string Host { get; set; } = "";
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>One line a person reads first (Slack's text, Discord's content, the event's message).</summary>
    public string Summary()
    {
        var text = Notice switch
        {
            AlertNotice.Resolved => $"[TierStorage] RESOLVED {Key} on {Host} ({Workspace}): cleared after {Runs} run(s) since {FirstSeen:yyyy-MM-dd HH:mm} UTC. Was: {Message}",
            AlertNotice.Test => $"[TierStorage] TEST on {Host} ({Workspace}): {Message}",
            _ => $"[TierStorage] {Severity.ToString().ToUpperInvariant()} {Key} on {Host} ({Workspace}): {Message} Fix: {Fix}",
        };
        return AlertBounds.Clip(text, AlertBounds.SummaryChars);
    }
}

internal sealed class AlertEntry
{
    public string Key { get; set; } = "";
    public string Condition { get; set; } = "";
    public string Subject { get; set; } = "";
    public AlertSeverity Severity { get; set; }
    public string Message { get; set; } = "";
    public string Fix { get; set; } = "";
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset LastSeen { get; set; }
    public int Runs { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    /// <summary>Channels the opening notification reached.</summary>
    public List<string> DeliveredTo { get; set; } = [];
}

internal sealed class PendingNotification
{
    public string Channel { get; set; } = "";
    public AlertNotification Notification { get; set; } = new();
    public int Attempts { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public string? LastError { get; set; }
}

/// <summary>logs/alerts.json: open alerts, recently resolved ones, the consecutive-run counts, and the outbox of
/// notifications not yet delivered. Written whole with <see cref="AtomicFile"/> before and after each delivery.</summary>
internal sealed class AlertState
{
    public int Version { get; set; } = 1;
    public List<AlertEntry> Open { get; set; } = [];
    public List<AlertEntry> Resolved { get; set; } = [];
    public Dictionary<string, int> Streaks { get; set; } = new(StringComparer.Ordinal);
    public List<PendingNotification> Outbox { get; set; } = [];
    /// <summary>Notifications dropped because a channel's outbox was full, per channel (reported, never silent).</summary>
    public Dictionary<string, int> Dropped { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The limits that keep alerting bounded whatever a run finds or a channel does.</summary>
internal static class AlertBounds
{
    public const int MessageChars = 1000;
    public const int FixChars = 400;
    /// <summary>Discord refuses content over 2000 characters; Slack truncates text past 40,000.</summary>
    public const int SummaryChars = 1900;
    public const int OpenAlerts = 200;
    public const int ResolvedKept = 100;
    public static readonly TimeSpan ResolvedKeptFor = TimeSpan.FromDays(30);
    public const int OutboxPerChannel = 500;
    public const long StateFileBytes = 8 << 20;
    /// <summary>The file channel starts a new file (the old one kept as .1) past this size.</summary>
    public const long AlertFileBytes = 10 << 20;
    public const int SyslogBytes = 1024;

    public static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";
}

internal static class AlertStateFile
{
    public const string FileName = "alerts.json";

    /// <summary>camelCase names and enum values, through the source-generated <see cref="AlertJson"/> (no reflection: the CLI
    /// is compiled ahead of time).</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Read by people and by tools that grep the file channel: 'local', not \u0027local\u0027. Still valid JSON.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter<AlertNotice>(JsonNamingPolicy.CamelCase), new JsonStringEnumConverter<AlertSeverity>(JsonNamingPolicy.CamelCase) },
        WriteIndented = false,
        TypeInfoResolver = AlertJson.Default,
    };

    public static string PathIn(WorkspaceLayout layout) => Path.Combine(layout.LogsDirectory, FileName);

    /// <summary>The state, or a new one when there is none. A file that is too large or not ours is moved aside (named in
    /// the warning) rather than trusted: its open alerts are raised again, which sends them again, and loses none.</summary>
    public static async Task<AlertState> LoadAsync(string path, Action<string>? warning, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) return new AlertState();
        try
        {
            var info = new FileInfo(path);
            if (info.Length > AlertBounds.StateFileBytes) throw new InvalidDataException($"it is {info.Length:N0} bytes, over the {AlertBounds.StateFileBytes:N0} allowed");
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            var state = await JsonSerializer.DeserializeAsync(stream, Json.Info<AlertState>(), cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidDataException("it holds null");
            if (state.Version != 1) throw new InvalidDataException($"it is version {state.Version}; this TierStorage reads version 1");
            state.Streaks = new Dictionary<string, int>(state.Streaks ?? [], StringComparer.Ordinal);
            state.Dropped = new Dictionary<string, int>(state.Dropped ?? [], StringComparer.Ordinal);
            state.Open ??= [];
            state.Resolved ??= [];
            state.Outbox ??= [];
            return state;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not the run's failure: its alerts are still raised and sent, from a fresh state (so open ones again).
            warning?.Invoke($"The alert state '{path}' could not be read ({ex.Message}); this run's alerts start from a fresh state.");
            return new AlertState();
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or NotSupportedException)
        {
            var aside = $"{path}.corrupt-{now:yyyyMMddTHHmmssZ}";
            File.Move(path, aside, overwrite: true);
            warning?.Invoke($"The alert state '{path}' could not be read ({ex.Message}); it was moved to '{aside}' and alerts start again (open ones are sent again).");
            return new AlertState();
        }
    }

    /// <summary>The state as it is on disk, for a reader that must not change anything (Get-TierAlert): null when unreadable.</summary>
    public static AlertState? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > AlertBounds.StateFileBytes) return null;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return JsonSerializer.Deserialize(stream, Json.Info<AlertState>()) is { Version: 1 } state ? state : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static Task SaveAsync(string path, AlertState state, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(path, overwrite: true, (stream, ct) => JsonSerializer.SerializeAsync(stream, state, Json.Info<AlertState>(), ct), cancellationToken);
}

/// <summary>What a webhook receives: Slack reads <c>text</c>, Discord <c>content</c>, anything else the whole notification.</summary>
internal sealed record WebhookBody(string Text, string Content, AlertNotification Tierstorage);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AlertState))]
[JsonSerializable(typeof(AlertNotification))]
[JsonSerializable(typeof(WebhookBody))]
internal sealed partial class AlertJson : JsonSerializerContext;
