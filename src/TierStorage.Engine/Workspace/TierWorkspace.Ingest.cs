using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

/// <summary>A transcript's event readied for storage (<see cref="TierWorkspace.PrepareImported"/>): as parsed (its keys decide whether
/// it is new), redacted and encoded (what is stored), and what its redaction warned of.</summary>
internal sealed record ImportedEvent(SessionEvent Parsed, EncodedEvent Stored, IReadOnlyList<string>? Warnings);

public sealed partial class TierWorkspace
{
    /// <summary>
    /// Appends imported events to a session under the write lock (<paramref name="eventsLocked"/> chooses them while the lock is held,
    /// so two imports of the same lines cannot both store them), creating it (Completed, with its own log
    /// logs/&lt;session&gt;.jsonl) when it does not exist yet, then runs <paramref name="commitLocked"/> while the lock is still
    /// held so the caller's progress marker moves together with the events. Sessions already backed up or archived refuse new
    /// events (a rerun that finds nothing new is fine). <paramref name="firstLine"/> and <paramref name="lastLine"/> are the times of
    /// the lines read, null when none had one: the session's EndedAt follows its transcript, never the clock of the import.
    /// </summary>
    internal async Task AppendImportedAsync(string sessionId, int? phase, Func<CancellationToken, Task<IReadOnlyList<ImportedEvent>>> eventsLocked,
        DateTimeOffset? firstLine, DateTimeOffset? lastLine, Func<CancellationToken, Task> commitLocked, CancellationToken cancellationToken)
    {
        var startedAt = firstLine ?? Now;
        SessionIds.Validate(sessionId);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            await CatchUpImportedLockedAsync(sessionId, cancellationToken).ConfigureAwait(false);
            var chosen = await eventsLocked(cancellationToken).ConfigureAwait(false);
            var written = new List<EncodedEvent>(chosen.Count + 1);
            foreach (var imported in chosen)
            {
                foreach (var warning in imported.Warnings ?? []) Warn(warning);
                written.Add(imported.Stored);
            }
            var record = await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            // A session without a single event or log line is one a killed import created and stopped before its first events were
            // committed: its session_start is written now, as it would have been then.
            var started = record is not null && record.EventCount == 0 && record.LogIndexedBytes == 0 && record.State == SessionState.Completed
                && (LocateLog(record) is not { } log || new FileInfo(log).Length == 0);
            if (record is null)
            {
                var sessions = await ListRecordsAsync(cancellationToken).ConfigureAwait(false);
                var number = phase ?? CurrentPhaseNumber() ?? sessions.LastOrDefault()?.Phase ?? 0;
                await _catalog.EnsurePhaseAsync(number, null, startedAt, cancellationToken).ConfigureAwait(false);
                record = new SessionRecord
                {
                    SessionId = sessionId,
                    Phase = number,
                    StartedAt = startedAt,
                    EndedAt = lastLine ?? startedAt,
                    State = SessionState.Completed,
                    LogPath = Layout.RetainedLogPath(sessionId),
                };
                await _catalog.InsertSessionAsync(record, cancellationToken).ConfigureAwait(false);
                started = true;
            }
            else if (record.State > SessionState.Completed && written.Count > 0)
            {
                throw new TierStorageException(ErrorIds.SessionNotActive, TierErrorKind.InvalidOperation,
                    $"Session '{sessionId}' is {record.State}; events cannot be imported into a session whose copies already left the local tier.", sessionId);
            }
            if (started)
            {
                // The first line names the log's owner (LocateLog), as for sessions started here.
                written.Insert(0, EncodedEvent.ForCatalog(new SessionEvent
                {
                    Timestamp = record.StartedAt, SessionId = sessionId, Type = SessionEventType.SessionStart,
                    Data = new Dictionary<string, object?> { ["phase"] = (long)record.Phase, ["source"] = "claude_code" },
                }));
            }

            if (written.Count > 0)
                record = (await AppendNewLockedAsync(record, written, cancellationToken).ConfigureAwait(false)).Record;
            if (record.State == SessionState.Completed && lastLine is { } ended && (record.EndedAt is null || record.EndedAt < ended))
                await _catalog.UpdateSessionAsync(record with { EndedAt = ended }, cancellationToken).ConfigureAwait(false);
            await commitLocked(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Completes an imported session as Complete-Session completes a native one (session_end, handoff note), ended at its last
    /// transcript line (its EndedAt, which imports keep there), after appending what <paramref name="lastEventsLocked"/> chooses under
    /// the lock (tool uses never answered, subagent runs). <paramref name="commitLocked"/> runs under the same lock. False, and nothing
    /// changed, when the session is active (a native one) or its copies already left the local tier.
    /// </summary>
    /// <param name="rollUp">Store the session's review rollup too (see <see cref="CompleteLockedAsync"/>).</param>
    internal async Task<bool> CompleteImportedAsync(string sessionId, Func<CancellationToken, Task<IReadOnlyList<SessionEvent>>> lastEventsLocked,
        Func<CancellationToken, Task> commitLocked, CancellationToken cancellationToken, bool rollUp = true)
    {
        SessionIds.Validate(sessionId);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            await CatchUpImportedLockedAsync(sessionId, cancellationToken).ConfigureAwait(false);
            var record = await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) ?? throw SessionNotFound(sessionId);
            if (record.State != SessionState.Completed) return false;
            var written = Imported(sessionId, await lastEventsLocked(cancellationToken).ConfigureAwait(false));
            if (written.Count > 0)
                record = await AppendLockedAsync(record, written, cancellationToken).ConfigureAwait(false);
            await CompleteLockedAsync(record, record.EndedAt ?? record.StartedAt, cancellationToken, rollUp).ConfigureAwait(false);
            await commitLocked(cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    /// <summary>Indexes the lines a killed import left in the session's log but not in the catalog (appended, the catalog's transaction
    /// not committed) before the caller asks the catalog which events it holds: asked first, the catalog did not know them, and a
    /// rerun stored them a second time beside the lines the append then indexed.</summary>
    private async Task CatchUpImportedLockedAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is { } record && LocateLog(record) is { } logPath)
            await CatchUpIndexLockedAsync(record, logPath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Readies a transcript's events for <see cref="AppendImportedAsync"/> where they were parsed, off the path that stores them: each
    /// redacted (secrets never reach the catalog or the log) and encoded for the catalog and the log, with what its redaction warned of,
    /// told when the event is stored. Uses nothing but the policy's redaction, so it may run beside the catalog's work.
    /// </summary>
    internal IReadOnlyList<ImportedEvent> PrepareImported(string sessionId, IReadOnlyList<SessionEvent> events)
    {
        SessionIds.Validate(sessionId);
        ArgumentNullException.ThrowIfNull(events);
        var redacted = new SessionEvent[events.Count];
        List<(int Index, string Message)>? warned = null;
        var current = 0;
        void Warned(string message) => (warned ??= []).Add((current, message));
        for (current = 0; current < events.Count; current++)
        {
            var e = events[current];
            redacted[current] = Redaction.Apply(e with { SessionId = sessionId, Timestamp = e.Timestamp.ToUniversalTime() }, Warned);
        }
        var encoded = EncodedEvent.Encode(redacted);
        var prepared = new ImportedEvent[events.Count];
        for (var i = 0; i < prepared.Length; i++) prepared[i] = new ImportedEvent(events[i], encoded[i], null);
        foreach (var group in (warned ?? []).GroupBy(w => w.Index))
            prepared[group.Key] = prepared[group.Key] with { Warnings = [.. group.Select(w => w.Message)] };
        return prepared;
    }

    private List<SessionEvent> Imported(string sessionId, IEnumerable<SessionEvent> events) =>
        events.Select(e => Redaction.Apply(e with { SessionId = sessionId, Timestamp = e.Timestamp.ToUniversalTime() }, Warn)).ToList();
}
