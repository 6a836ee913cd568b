using System.Globalization;

namespace TierStorage.Contracts;

/// <summary>How urgent an alert is. Ordered: a channel's min_severity keeps this one and every value above it.</summary>
public enum AlertSeverity
{
    Warning,
    Critical,
}

/// <summary>Where a channel delivers.</summary>
public enum AlertChannelKind
{
    /// <summary>A JSON POST (Slack and Teams incoming webhooks read its <c>text</c>, Discord its <c>content</c>).</summary>
    Webhook,
    /// <summary>The Windows Event Log (Application, source TierStorage); syslog (the local /dev/log socket) elsewhere.</summary>
    EventLog,
    /// <summary>JSON lines appended to a file, for other tools to watch.</summary>
    File,
}

/// <summary>Open while its condition holds; Resolved once a run finds it cleared.</summary>
public enum TierAlertState
{
    Open,
    Resolved,
}

/// <summary>What a notification tells a channel: that a condition began, that it cleared, or that this is a test (Send-TierAlert -Test).</summary>
public enum AlertNotice
{
    Opened,
    Resolved,
    Test,
}

/// <summary>The policy's <c>alerts:</c> section: the thresholds of the conditions and the channels that reach a person.</summary>
public sealed class AlertPolicy
{
    /// <summary>Condition kinds, each the first part of an alert's key.</summary>
    public static readonly IReadOnlyList<string> Conditions =
        ["tier-critical", "tier-warning", "tier-unavailable", "projected-full", "budget", "backup-failing", "verification"];

    /// <summary>A tier projected to be full within this many days raises projected-full:&lt;tier&gt;.</summary>
    public int ProjectedFullDays { get; set; } = 30;
    /// <summary>The monthly cost of every tier together above this raises budget:total; null: no budget.</summary>
    public decimal? MonthlyBudgetUsd { get; set; }
    /// <summary>Per tier: its monthly cost above the amount raises budget:&lt;tier&gt;.</summary>
    public Dictionary<string, decimal> TierBudgetsUsd { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>A session's backup queued or failed in this many consecutive runs raises backup-failing:&lt;session&gt;.</summary>
    public int BackupFailingRuns { get; set; } = 3;
    /// <summary>Tell the channels when a condition clears.</summary>
    public bool NotifyResolved { get; set; } = true;
    /// <summary>Condition kinds never raised (tier-warning, budget, ...).</summary>
    public List<string> Disabled { get; set => field = PolicyList<string>.Of(value); } = new PolicyList<string>();
    public List<AlertChannelDefinition> Channels { get; set => field = PolicyList<AlertChannelDefinition>.Of(value); } = new PolicyList<AlertChannelDefinition>();

    public bool IsEnabled(string condition) => !Disabled.Contains(condition, StringComparer.Ordinal);

    public override string ToString() =>
        Channels.Count == 0 ? "no channels (alerts only in the run's output and Get-TierAlert)"
            : string.Create(CultureInfo.InvariantCulture, $"{Channels.Count} channel(s): {string.Join(", ", Channels)}");
}

/// <summary>One channel of <c>alerts.channels</c>.</summary>
public sealed class AlertChannelDefinition
{
    /// <summary>The channel's name (default its kind as written: webhook, eventlog, syslog, file): what Get-TierAlert -Channel names.</summary>
    public string Name { get; set; } = "";
    public AlertChannelKind Kind { get; set; }
    /// <summary>Only alerts of this severity and above (resolved notices follow the alert's severity).</summary>
    public AlertSeverity MinSeverity { get; set; } = AlertSeverity.Warning;
    /// <summary>webhook: the environment variable that holds the URL (never the URL itself).</summary>
    public string? UrlVariable { get; set; }
    /// <summary>webhook: a file in the workspace's credentials/ folder whose first line is the URL.</summary>
    public string? UrlFile { get; set; }
    /// <summary>file: the JSON lines file (relative to the workspace; default logs/alerts.jsonl).</summary>
    public string? Path { get; set; }
    /// <summary>eventlog on Linux and macOS: the syslog socket (default /dev/log; /var/run/syslog on macOS).</summary>
    public string? Socket { get; set; }

    public override string ToString() => Name is "webhook" or "eventlog" or "syslog" or "file" ? Name : $"{Name} ({Kind.ToString().ToLowerInvariant()})";
}

/// <summary>One alert condition (Get-TierAlert): what holds, since when, and what fixes it.</summary>
public sealed record TierAlert
{
    /// <summary>Stable per condition: tier-critical:local, projected-full:backup, backup-failing:session_x, budget:total.</summary>
    public string Key { get; init; } = "";
    /// <summary>The condition kind: the key's first part.</summary>
    public string Condition { get; init; } = "";
    /// <summary>What it is about: a tier, a session, an archive key, or "total".</summary>
    public string Subject { get; init; } = "";
    public AlertSeverity Severity { get; init; }
    public TierAlertState State { get; init; }
    /// <summary>What holds, with its figures as of <see cref="LastSeen"/>.</summary>
    public string Message { get; init; } = "";
    /// <summary>The command that fixes it (or shows what to do).</summary>
    public string Fix { get; init; } = "";
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    /// <summary>Consecutive policy runs that found the condition.</summary>
    public int Runs { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>Channels the opening notification reached.</summary>
    public IReadOnlyList<string> DeliveredTo { get; init => field = Readable.List(value); } = ReadableList<string>.None;
    /// <summary>Channels still waiting for a notification about it (retried by the next run).</summary>
    public IReadOnlyList<string> PendingFor { get; init => field = Readable.List(value); } = ReadableList<string>.None;

    public override string ToString() => $"{Severity} {Key}: {Message}";
}

/// <summary>A notification not yet delivered to its channel (Get-TierAlert -Pending).</summary>
public sealed record TierAlertDelivery
{
    public string Channel { get; init; } = "";
    public AlertChannelKind Kind { get; init; }
    /// <summary>The alert's key.</summary>
    public string Key { get; init; } = "";
    public AlertNotice Notice { get; init; }
    public AlertSeverity Severity { get; init; }
    /// <summary>Stable id of the notification, also in what is sent, so a receiver can drop the one duplicate a crash may cause.</summary>
    public string NotificationId { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    /// <summary>Why the last attempt failed (never the webhook's URL).</summary>
    public string? LastError { get; init; }

    public override string ToString() => $"{Channel}: {Notice} {Key} ({Attempts} attempt(s))";
}

/// <summary>One channel's answer to a test notification (Send-TierAlert -Test).</summary>
public sealed record AlertChannelTest
{
    public string Channel { get; init; } = "";
    public AlertChannelKind Kind { get; init; }
    public bool Succeeded { get; init; }
    public int Attempts { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>Where it went (never a webhook's URL), or why it did not.</summary>
    public string Message { get; init; } = "";

    public override string ToString() => $"{Channel}: {(Succeeded ? "sent" : "failed")} ({Message})";
}
