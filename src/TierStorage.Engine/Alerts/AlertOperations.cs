using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Alerts;

/// <summary>How hard one run tries a channel before leaving its notifications for the next run.</summary>
public sealed record AlertDeliverySettings
{
    /// <summary>Attempts per notification within one run (the first and its retries).</summary>
    public int AttemptsPerRun { get; init; } = 4;
    /// <summary>Wait before the first retry; doubled for each next one.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>A Retry-After longer than this leaves the notification for the next run instead of holding the run.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>One webhook request, connection included.</summary>
    public TimeSpan HttpTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>Time one run spends on one channel, retries included.</summary>
    public TimeSpan ChannelBudget { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Alerts that reach a person (issue 13): at the end of each policy run the conditions it found are compared with the
/// open ones in logs/alerts.json; a new condition is sent once to every channel of the policy's <c>alerts:</c>, a
/// condition that holds again only updates its figures, and one that cleared is sent as resolved. What could not be
/// delivered stays in the state's outbox, retried with backoff within the run and again by every next run, in order.
/// The state is saved before each send and after it, so a kill sends a notification at most twice and never loses one.
/// </summary>
public sealed class AlertOperations
{
    private readonly TierWorkspace _workspace;
    private bool _saveFailed;

    internal AlertOperations(TierWorkspace workspace) => _workspace = workspace;

    /// <summary>Tests shorten the waits; the defaults suit a nightly job.</summary>
    public AlertDeliverySettings Settings { get; set; } = new();

    private string StatePath => AlertStateFile.PathIn(_workspace.Layout);

    /// <summary>The run with its <see cref="PolicyRunResult.TierAlerts"/>: evaluates, records and delivers this run's alerts.
    /// Called inside the policy-run lock, so one process at a time writes the state.</summary>
    /// <param name="failedChecks">Archive checks of the run that found an object missing or corrupt.</param>
    public async Task<PolicyRunResult> RaiseAsync(PolicyRunResult run, IReadOnlyList<BackupCheck> failedChecks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var now = _workspace.Now;
        var state = await AlertStateFile.LoadAsync(StatePath, _workspace.Warn, now, cancellationToken).ConfigureAwait(false);
        var conditions = AlertEvaluator.Evaluate(run, failedChecks, _workspace.Policy, now, state.Streaks);
        Record(state, conditions, now);
        Enqueue(state, now);
        await SaveAsync(state, cancellationToken).ConfigureAwait(false);
        await DeliverAsync(state, cancellationToken).ConfigureAwait(false);
        return run with { TierAlerts = OpenAlerts(state).ToList() };
    }

    /// <summary>Get-TierAlert: the open alerts, most severe first; with <paramref name="includeResolved"/> also those
    /// resolved in the last 30 days. Reads the state only.</summary>
    public IReadOnlyList<TierAlert> GetAlerts(bool includeResolved)
    {
        if (AlertStateFile.TryRead(StatePath) is not { } state) return [];
        var open = OpenAlerts(state);
        return (includeResolved ? open.Concat(state.Resolved.Select(e => ToRecord(e, TierAlertState.Resolved, state))) : open).ToList();
    }

    private static IEnumerable<TierAlert> OpenAlerts(AlertState state) =>
        state.Open.OrderByDescending(e => e.Severity).ThenBy(e => e.FirstSeen).Select(e => ToRecord(e, TierAlertState.Open, state));

    /// <summary>Get-TierAlert -Pending: notifications waiting for a channel, oldest first.</summary>
    public IReadOnlyList<TierAlertDelivery> GetPending(string? channel)
    {
        if (AlertStateFile.TryRead(StatePath) is not { } state) return [];
        return state.Outbox
            .Where(p => channel is null || string.Equals(p.Channel, channel, StringComparison.OrdinalIgnoreCase))
            .Select(p => new TierAlertDelivery
            {
                Channel = p.Channel,
                Kind = _workspace.Policy.Alerts.Channels.FirstOrDefault(c => c.Name == p.Channel)?.Kind ?? AlertChannelKind.File,
                Key = p.Notification.Key, Notice = p.Notification.Notice, Severity = p.Notification.Severity, NotificationId = p.Notification.Id,
                CreatedAt = p.Notification.CreatedAt, Attempts = p.Attempts, LastAttemptAt = p.LastAttemptAt, LastError = p.LastError,
            }).ToList();
    }

    /// <summary>Send-TierAlert -Test: a test notification to each channel (or the named ones), with the retries of a run;
    /// nothing is recorded in the alert state. A channel the policy does not have is ErrorIds.AlertChannelNotFound.</summary>
    public async IAsyncEnumerable<AlertChannelTest> TestChannelsAsync(IReadOnlyCollection<string>? channels,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var policy = _workspace.Policy.Alerts;
        var chosen = channels is null ? policy.Channels.ToList() : channels.Select(GetChannel).ToList();
        foreach (var channel in chosen)
        {
            var now = _workspace.Now;
            var pending = Pending(channel.Name, new AlertNotification
            {
                Id = Guid.NewGuid().ToString("N"), Notice = AlertNotice.Test, Key = "test", Condition = "test", Subject = channel.Name,
                Severity = AlertSeverity.Warning, Message = $"A test notification to channel '{channel.Name}'; alerts of this workspace reach it.",
                Fix = "Nothing to fix.", FirstSeen = now, LastSeen = now, Runs = 0, Workspace = _workspace.Root, Host = Environment.MachineName, CreatedAt = now,
            });
            var started = Stopwatch.GetTimestamp();
            var sent = await TryDeliverAsync(AlertChannelFactory.Create(channel, _workspace.Layout, Settings), pending, started, cancellationToken).ConfigureAwait(false);
            yield return new AlertChannelTest
            {
                Channel = channel.Name, Kind = channel.Kind, Succeeded = sent, Attempts = pending.Attempts, Duration = Stopwatch.GetElapsedTime(started),
                Message = sent ? Destination(channel) : pending.LastError ?? "",
            };
        }
    }

    /// <summary>A channel of the policy by name.</summary>
    public AlertChannelDefinition GetChannel(string name) =>
        _workspace.Policy.Alerts.Channels.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new TierStorageException(ErrorIds.AlertChannelNotFound, TierErrorKind.ObjectNotFound,
            _workspace.Policy.Alerts.Channels.Count == 0
                ? $"The policy '{_workspace.Policy.Source}' has no alert channels; add them under alerts.channels."
                : $"The policy '{_workspace.Policy.Source}' has no alert channel named '{name}'. Channels: {string.Join(", ", _workspace.Policy.Alerts.Channels.Select(c => c.Name))}.", name);

    private string Destination(AlertChannelDefinition channel) => channel.Kind switch
    {
        AlertChannelKind.Webhook => channel.UrlVariable is { } variable ? $"posted to the URL in ${variable}" : $"posted to the URL in credentials/{channel.UrlFile}",
        AlertChannelKind.File => $"appended to '{AlertChannelFactory.FilePath(channel, _workspace.Layout)}'",
        _ when OperatingSystem.IsWindows() => "written to the Application event log, source TierStorage",
        _ => $"written to syslog at '{channel.Socket ?? SyslogAlertChannel.DefaultSocket}'",
    };

    /// <summary>Opens new conditions, updates those still holding, resolves the rest (queueing their resolved notices).</summary>
    private void Record(AlertState state, List<AlertCondition> conditions, DateTimeOffset now)
    {
        var found = conditions.OrderByDescending(c => c.Severity).Take(AlertBounds.OpenAlerts).ToDictionary(c => c.Key, StringComparer.Ordinal);
        if (conditions.Count > found.Count)
            _workspace.Warn($"The run found {conditions.Count} alert conditions; only the {AlertBounds.OpenAlerts} most severe are kept.");
        foreach (var entry in state.Open.ToList())
        {
            if (found.Remove(entry.Key, out var again))
            {
                entry.Severity = again.Severity;
                entry.Message = AlertBounds.Clip(again.Message, AlertBounds.MessageChars);
                entry.Fix = AlertBounds.Clip(again.Fix, AlertBounds.FixChars);
                entry.LastSeen = now;
                entry.Runs++;
                continue;
            }
            state.Open.Remove(entry);
            entry.ResolvedAt = now;
            state.Resolved.Insert(0, entry);
            _workspace.Inform($"Alert {entry.Key} resolved after {entry.Runs} run(s).");
            if (!_workspace.Policy.Alerts.NotifyResolved) continue;
            var told = entry.DeliveredTo.Concat(state.Outbox.Where(p => p.Notification.Key == entry.Key && p.Notification.Notice == AlertNotice.Opened).Select(p => p.Channel));
            foreach (var channel in told.Distinct(StringComparer.Ordinal).ToList())
                state.Outbox.Add(Pending(channel, Notification(entry, AlertNotice.Resolved, now)));
        }
        foreach (var condition in found.Values)
        {
            state.Open.Add(new AlertEntry
            {
                Key = condition.Key, Condition = condition.Condition, Subject = condition.Subject, Severity = condition.Severity,
                Message = AlertBounds.Clip(condition.Message, AlertBounds.MessageChars), Fix = AlertBounds.Clip(condition.Fix, AlertBounds.FixChars),
                FirstSeen = now, LastSeen = now, Runs = 1,
            });
            _workspace.Inform($"Alert {condition.Key} opened: {condition.Message}");
        }
        state.Resolved = state.Resolved.Where(e => e.ResolvedAt >= now - AlertBounds.ResolvedKeptFor).Take(AlertBounds.ResolvedKept).ToList();
    }

    /// <summary>Every open alert goes once to every channel that takes its severity (a channel added later gets the open
    /// ones too). Notifications for channels the policy no longer has are dropped; each channel's outbox is bounded.</summary>
    private void Enqueue(AlertState state, DateTimeOffset now)
    {
        var channels = _workspace.Policy.Alerts.Channels;
        foreach (var gone in state.Outbox.Where(p => !channels.Any(c => c.Name == p.Channel)).GroupBy(p => p.Channel).ToList())
        {
            _workspace.Warn($"{gone.Count()} alert notification(s) for channel '{gone.Key}', which the policy no longer has, were dropped.");
            state.Outbox.RemoveAll(p => p.Channel == gone.Key);
        }
        foreach (var entry in state.Open)
        {
            foreach (var channel in channels.Where(c => entry.Severity >= c.MinSeverity && !entry.DeliveredTo.Contains(c.Name)))
            {
                if (state.Outbox.Any(p => p.Channel == channel.Name && p.Notification.Key == entry.Key && p.Notification.Notice == AlertNotice.Opened)) continue;
                state.Outbox.Add(Pending(channel.Name, Notification(entry, AlertNotice.Opened, now)));
            }
        }
        foreach (var channel in channels)
        {
            var queued = state.Outbox.Where(p => p.Channel == channel.Name).ToList();
            if (queued.Count <= AlertBounds.OutboxPerChannel) continue;
            var dropped = queued.Take(queued.Count - AlertBounds.OutboxPerChannel).ToList();
            state.Outbox.RemoveAll(dropped.Contains);
            state.Dropped[channel.Name] = state.Dropped.GetValueOrDefault(channel.Name) + dropped.Count;
            _workspace.Warn($"Channel '{channel.Name}' has had {queued.Count} notifications waiting; the {dropped.Count} oldest were dropped (Get-TierAlert -Pending shows the rest).");
        }
    }

    private async Task DeliverAsync(AlertState state, CancellationToken cancellationToken)
    {
        foreach (var channel in _workspace.Policy.Alerts.Channels)
        {
            var queued = state.Outbox.Where(p => p.Channel == channel.Name).ToList();
            if (queued.Count == 0) continue;
            var sender = AlertChannelFactory.Create(channel, _workspace.Layout, Settings);
            var started = Stopwatch.GetTimestamp();
            foreach (var pending in queued)
            {
                if (!await TryDeliverAsync(sender, pending, started, cancellationToken).ConfigureAwait(false))
                {
                    await SaveAsync(state, CancellationToken.None).ConfigureAwait(false);
                    _workspace.Warn($"Alert {pending.Notification.Key} ({pending.Notification.Notice.ToString().ToLowerInvariant()}) could not be sent to channel '{channel.Name}': {pending.LastError}. " +
                                    $"It and {queued.Count - queued.IndexOf(pending) - 1} later one(s) wait for the next run (Get-TierAlert -Pending).");
                    break;
                }
                state.Outbox.Remove(pending);
                if (pending.Notification.Notice == AlertNotice.Opened
                    && state.Open.Concat(state.Resolved).FirstOrDefault(e => e.Key == pending.Notification.Key && e.FirstSeen == pending.Notification.FirstSeen) is { } entry
                    && !entry.DeliveredTo.Contains(channel.Name))
                    entry.DeliveredTo.Add(channel.Name);
                // Saved after each delivery, even when the run is being cancelled: a kill now re-sends nothing already delivered.
                await SaveAsync(state, CancellationToken.None).ConfigureAwait(false);
                _workspace.Inform($"Alert {pending.Notification.Key} ({pending.Notification.Notice.ToString().ToLowerInvariant()}) sent to channel '{channel.Name}'.");
            }
        }
    }

    /// <summary>A local disk too full to save the state is when a critical alert matters most: the notifications still
    /// go out (the next run, not knowing they did, may send them again), with one warning saying so.</summary>
    private async Task SaveAsync(AlertState state, CancellationToken cancellationToken)
    {
        try
        {
            await AlertStateFile.SaveAsync(StatePath, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (_saveFailed) return;
            _saveFailed = true;
            _workspace.Warn($"The alert state '{StatePath}' could not be saved ({ex.Message}); alerts are still sent, and the next run may send them again.");
        }
    }

    private async Task<bool> TryDeliverAsync(IAlertChannel sender, PendingNotification pending, long channelStarted, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            pending.Attempts++;
            pending.LastAttemptAt = _workspace.Now;
            try
            {
                await sender.SendAsync(pending.Notification, cancellationToken).ConfigureAwait(false);
                pending.LastError = null;
                return true;
            }
            catch (AlertDeliveryException ex)
            {
                pending.LastError = ex.Message;
                if (!ex.Retry || attempt >= Settings.AttemptsPerRun) return false;
                var wait = ex.RetryAfter ?? Settings.FirstRetryDelay * Math.Pow(2, attempt - 1);
                if (wait > Settings.MaxRetryAfter || Stopwatch.GetElapsedTime(channelStarted) + wait > Settings.ChannelBudget) return false;
                _workspace.Detail($"Alert channel '{pending.Channel}': {ex.Message}; attempt {attempt + 1} in {wait.TotalSeconds:0.#} s.");
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private AlertNotification Notification(AlertEntry entry, AlertNotice notice, DateTimeOffset now) => new()
    {
        Id = Guid.NewGuid().ToString("N"), Notice = notice, Key = entry.Key, Condition = entry.Condition, Subject = entry.Subject,
        Severity = entry.Severity, Message = entry.Message, Fix = entry.Fix, FirstSeen = entry.FirstSeen, LastSeen = entry.LastSeen,
        Runs = entry.Runs, ResolvedAt = entry.ResolvedAt, Workspace = _workspace.Root, Host = Environment.MachineName, CreatedAt = now,
    };

    private static PendingNotification Pending(string channel, AlertNotification notification) => new() { Channel = channel, Notification = notification };

    private static TierAlert ToRecord(AlertEntry e, TierAlertState state, AlertState all) => new()
    {
        Key = e.Key, Condition = e.Condition, Subject = e.Subject, Severity = e.Severity, State = state, Message = e.Message, Fix = e.Fix,
        FirstSeen = e.FirstSeen, LastSeen = e.LastSeen, Runs = e.Runs, ResolvedAt = e.ResolvedAt, DeliveredTo = e.DeliveredTo.ToList(),
        PendingFor = all.Outbox.Where(p => p.Notification.Key == e.Key && p.Notification.FirstSeen == e.FirstSeen).Select(p => p.Channel).Distinct().ToList(),
    };
}
