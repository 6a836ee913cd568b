using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Batches events into a session's log and the catalog. Each flush takes the workspace write lock, so parallel
/// writers (agents' hooks in several processes) append whole batches one after another. Not thread-safe; one per writer.
/// </summary>
/// <remarks>A full batch is written in the background while the caller goes on parsing and redacting the next one
/// (two cores, two stages: this is what takes bulk input past 100,000 events/s). At most one batch is in flight; its
/// failure is thrown by the next AppendAsync, FlushAsync or DisposeAsync, and no later batch is written after it.</remarks>
public sealed class EventAppender : IAsyncDisposable
{
    /// <summary>Events per write: large enough that bulk input costs one lock, one write and one transaction per batch.</summary>
    public const int BatchSize = 4096;

    private readonly TierWorkspace _workspace;
    private List<SessionEvent> _pending = new(BatchSize);
    private Task _inFlight = Task.CompletedTask;
    private string? _sessionId;
    // Written events with their catalog ids, when the caller asked for them; filled by the batch writer (maybe a pool thread).
    private readonly List<SessionEvent>? _written;

    internal EventAppender(TierWorkspace workspace, string? sessionId, bool keepWritten = false)
    {
        _workspace = workspace;
        _sessionId = sessionId;
        _written = keepWritten ? [] : null;
    }

    /// <summary>The session written to; for an appender opened on the active session, known after the first append.</summary>
    public string? SessionId => _sessionId;

    /// <summary>Validates, redacts and buffers one event; flushes when the batch is full. Returns the event as it will be written,
    /// whose EventId is still 0: the catalog assigns ids when the batch is stored (see <see cref="TakeWritten"/>).</summary>
    public async ValueTask<SessionEvent> AppendAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        _sessionId ??= (await _workspace.ResolveSessionAsync(null, requireActive: true, cancellationToken).ConfigureAwait(false)).SessionId;
        var e = _workspace.Redaction.Apply(Validate(sessionEvent), _workspace.Warn, _sessionId) with { EventId = 0 };
        _pending.Add(e);
        if (_pending.Count >= BatchSize)
        {
            await WaitInFlightAsync().ConfigureAwait(false);
            var batch = _pending;
            _pending = new List<SessionEvent>(BatchSize);
            _inFlight = Task.Run(() => WriteAsync(batch, cancellationToken), cancellationToken);
        }
        return e;
    }

    private SessionEvent Validate(SessionEvent e)
    {
        if (!string.IsNullOrEmpty(e.SessionId) && !string.Equals(e.SessionId, _sessionId, StringComparison.Ordinal))
            throw Invalid($"session: the event names session '{e.SessionId}' but is being written to '{_sessionId}'.", e);
        if (e.DurationMs is < 0) throw Invalid($"duration_ms: must be 0 or more, not {e.DurationMs}.", e);
        if (e.Tokens is { } t && (t.Input < 0 || t.Output < 0 || t.CacheRead < 0 || t.CacheWrite < 0))
            throw Invalid("tokens: counts must be 0 or more.", e);
        if (e.Type is SessionEventType.SessionStart or SessionEventType.SessionEnd)
            throw Invalid($"type: {EventJson.ToWireName(e.Type)} is written by Start-Session and Complete-Session, not appended.", e);
        return e with
        {
            SessionId = _sessionId!,
            Timestamp = e.Timestamp == default ? _workspace.Now : e.Timestamp.ToUniversalTime(),
        };
    }

    private static TierStorageException Invalid(string message, SessionEvent e) =>
        new(ErrorIds.InvalidEvent, TierErrorKind.InvalidData, "Invalid event: " + message, e);

    /// <summary>Writes everything appended so far (log and catalog) before it returns.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WaitInFlightAsync().ConfigureAwait(false);
        if (_pending.Count == 0) return;
        var batch = _pending;
        _pending = new List<SessionEvent>(BatchSize);
        await WriteAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitInFlightAsync()
    {
        var inFlight = _inFlight;
        _inFlight = Task.CompletedTask;
        try
        {
            await inFlight.ConfigureAwait(false);
        }
        catch
        {
            // A failed batch is reported to the caller once; what was buffered after it is dropped with it rather than
            // written out of order (or reported twice on dispose).
            _pending.Clear();
            throw;
        }
    }

    /// <summary>The events stored since the last call, in append order, each with its catalog EventId. Empty unless the
    /// appender was opened to keep them; an event appears once its batch is written (after a full batch or FlushAsync).</summary>
    public IReadOnlyList<SessionEvent> TakeWritten()
    {
        if (_written is null) return [];
        lock (_written)
        {
            var taken = _written.ToList();
            _written.Clear();
            return taken;
        }
    }

    private async Task WriteAsync(List<SessionEvent> batch, CancellationToken cancellationToken)
    {
        var ids = _written is null ? null : new List<long>(batch.Count);
        using (await _workspace.LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var record = await _workspace.ResolveSessionAsync(_sessionId, requireActive: true, cancellationToken).ConfigureAwait(false);
            await _workspace.AppendLockedAsync(record, batch, ids, cancellationToken).ConfigureAwait(false);
        }

        if (_written is not null)
        {
            lock (_written)
            {
                for (var i = 0; i < batch.Count; i++) _written.Add(batch[i] with { EventId = ids![i] });
            }
        }
    }

    public async ValueTask DisposeAsync() => await FlushAsync(CancellationToken.None).ConfigureAwait(false);
}
