using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Batches events into a session's log and the catalog. Each flush takes the workspace write lock, so parallel
/// writers (agents' hooks in several processes) append whole batches one after another. Not thread-safe; one per writer.
/// </summary>
/// <remarks>One appender is one input (a --stdin stream, one Add-SessionEvent pipeline), and sending an input again
/// (after a crash, or by mistake) stores only what the session does not hold yet (issue 11 #6). Every event keyed by an
/// <see cref="SessionEvent.Id"/> is stored once per session: the sender's own id, or, for an event with its own timestamp
/// and no id, one derived from its content and its occurrence among identical events of this input (the second of two
/// identical lines in one input is stored; the same line sent again in another input is not). An event stamped with the
/// time it arrives has no id and is always stored. The id goes into the log line too, so what a crash left in the log
/// but not in the catalog is indexed with it and recognised by the rerun.</remarks>
/// <remarks>A full batch is written in the background while the caller goes on parsing and redacting the next one
/// (two cores, two stages: this is what takes bulk input past 100,000 events/s). At most one batch is in flight; its
/// failure is thrown by the next AppendAsync, FlushAsync or DisposeAsync, and no later batch is written after it.</remarks>
public sealed class EventAppender : IAsyncDisposable
{
    /// <summary>Events per write: large enough that bulk input costs one lock, one write and one transaction per batch.</summary>
    public const int BatchSize = 4096;

    private readonly TierWorkspace _workspace;
    private List<SessionEvent> _pending = new(BatchSize);
    // Per pending event: whether its id is to be derived from its content (it came with a timestamp and no id).
    private List<bool> _derive = new(BatchSize);
    // How often each content was seen in this input (keyed by 64 bits of its hash; only the writer task touches it).
    private readonly Dictionary<long, int> _occurrences = [];
    private readonly StringBuilder _content = new(256);
    private byte[] _contentBytes = new byte[1024];
    private long _stored, _skipped;
    private Task _inFlight = Task.CompletedTask;
    private string? _sessionId;
    // Written events with their catalog ids, when the caller asked for them; filled by the batch writer (maybe a pool thread).
    private readonly List<SessionEvent>? _written;

    private readonly bool _deriveIds;

    internal EventAppender(TierWorkspace workspace, string? sessionId, bool keepWritten = false, bool deriveIds = true)
    {
        _deriveIds = deriveIds;
        _workspace = workspace;
        _sessionId = sessionId;
        _written = keepWritten ? [] : null;
    }

    /// <summary>The session written to; for an appender opened on the active session, known after the first append.</summary>
    public string? SessionId => _sessionId;

    /// <summary>Events of this input stored so far (written once their batch is).</summary>
    public long StoredCount => Interlocked.Read(ref _stored);

    /// <summary>Events of this input left out so far because the session already held an event with the same Id.</summary>
    public long SkippedCount => Interlocked.Read(ref _skipped);

    /// <summary>Validates, redacts and buffers one event; flushes when the batch is full. Returns the event as it will be written,
    /// whose EventId is still 0: the catalog assigns ids when the batch is stored (see <see cref="TakeWritten"/>); an Id
    /// derived from its content is set then too.</summary>
    public async ValueTask<SessionEvent> AppendAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        _sessionId ??= (await _workspace.ResolveSessionAsync(null, requireActive: true, cancellationToken).ConfigureAwait(false)).SessionId;
        if (sessionEvent.Id is { } id) EventJson.CheckId(id);
        var derive = _deriveIds && sessionEvent.Id is null && sessionEvent.Timestamp != default;
        var redacted = _workspace.Redaction.Apply(Validate(sessionEvent), _workspace.Warn, _sessionId);
        // The batch is written after this returns: what the caller does with its data then must not change what is stored (the
        // redaction copies only the branches of the data that held a secret, and keeps the caller's maps and lists elsewhere).
        if (redacted.Data is { } data) redacted = redacted with { Data = EventRedaction.Copy(data) };
        var e = redacted with { EventId = 0 };
        _pending.Add(e);
        _derive.Add(derive);
        if (_pending.Count >= BatchSize)
        {
            await WaitInFlightAsync().ConfigureAwait(false);
            var (batch, derived) = (_pending, _derive);
            _pending = new List<SessionEvent>(BatchSize);
            _derive = new List<bool>(BatchSize);
            _inFlight = Task.Run(() => WriteAsync(batch, derived, cancellationToken), cancellationToken);
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
        var (batch, derived) = (_pending, _derive);
        _pending = new List<SessionEvent>(BatchSize);
        _derive = new List<bool>(BatchSize);
        await WriteAsync(batch, derived, cancellationToken).ConfigureAwait(false);
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
            _derive.Clear();
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

    private async Task WriteAsync(List<SessionEvent> batch, List<bool> derive, CancellationToken cancellationToken)
    {
        // Here rather than in AppendAsync: on the writer's core, while the caller parses the next batch.
        for (var i = 0; i < batch.Count; i++)
            if (derive[i]) batch[i] = batch[i] with { Id = ContentId(batch[i]) };

        IReadOnlyList<SessionEvent> stored;
        using (await _workspace.LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var record = await _workspace.ResolveSessionAsync(_sessionId, requireActive: true, cancellationToken).ConfigureAwait(false);
            stored = (await _workspace.AppendNewLockedAsync(record, batch, cancellationToken).ConfigureAwait(false)).Stored;
        }
        Interlocked.Add(ref _stored, stored.Count);
        Interlocked.Add(ref _skipped, batch.Count - stored.Count);

        if (_written is not null)
        {
            lock (_written) _written.AddRange(stored);
        }
    }

    /// <summary>"c:", the event's time (Unix milliseconds, 12 hex digits), 96 bits of the SHA-256 of its fields as stored,
    /// then which occurrence of that content in this input it is: the same input sent again yields the same ids, in the
    /// same order.</summary>
    /// <remarks>The time leads so that ids of a time-ordered input sort in the order they are inserted: ids in hash order
    /// landed on a random page of the unique index each, and every batch rewrote thousands of pages (2.4 times slower).</remarks>
    private string ContentId(SessionEvent e)
    {
        var text = _content.Clear();
        const char separator = '\u001f';
        void Add(string? value) => text.Append(value is null ? "\0" : value).Append(separator);
        void AddNumber(long? value) => (value is { } v ? text.Append(v) : text.Append("\0")).Append(separator);
        AddNumber(e.Timestamp.ToUnixTimeMilliseconds());
        Add(e.SessionId);
        Add(EventJson.ToWireName(e.Type));
        Add(e.Agent);
        Add(e.Tool);
        Add(e.Task);
        AddNumber(e.DurationMs);
        AddNumber(e.Tokens?.Input);
        AddNumber(e.Tokens?.Output);
        AddNumber(e.Tokens?.CacheRead);
        AddNumber(e.Tokens?.CacheWrite);
        Add(e.Model);
        AddNumber(e.Success is { } success ? (success ? 1 : 0) : null);
        Add(e.ErrorType);
        Add(e.File);
        Add(EventJson.SerializeData(e.Data));

        var byteCount = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_contentBytes.Length < byteCount) _contentBytes = new byte[Math.Max(byteCount, _contentBytes.Length * 2)];
        var length = 0;
        foreach (var chunk in text.GetChunks()) length += Encoding.UTF8.GetBytes(chunk.Span, _contentBytes.AsSpan(length));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(_contentBytes.AsSpan(0, length), hash);
        var prefix = BinaryPrimitives.ReadInt64LittleEndian(hash);
        var occurrence = _occurrences.TryGetValue(prefix, out var seen) ? seen + 1 : 1;
        _occurrences[prefix] = occurrence;
        return string.Create(CultureInfo.InvariantCulture,
            $"c:{e.Timestamp.ToUnixTimeMilliseconds():x12}{Convert.ToHexString(hash[..12]).ToLowerInvariant()}:{occurrence}");
    }

    public async ValueTask DisposeAsync() => await FlushAsync(CancellationToken.None).ConfigureAwait(false);
}
