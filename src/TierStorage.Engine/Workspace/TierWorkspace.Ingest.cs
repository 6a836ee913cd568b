using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

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
    internal async Task AppendImportedAsync(string sessionId, int? phase, Func<CancellationToken, Task<IReadOnlyList<SessionEvent>>> eventsLocked,
        DateTimeOffset? firstLine, DateTimeOffset? lastLine, Func<CancellationToken, Task> commitLocked, CancellationToken cancellationToken)
    {
        var startedAt = firstLine ?? Now;
        SessionIds.Validate(sessionId);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var written = Imported(sessionId, await eventsLocked(cancellationToken).ConfigureAwait(false));
            var record = await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
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
                // The first line names the log's owner (LocateLog), as for sessions started here.
                written.Insert(0, new SessionEvent
                {
                    Timestamp = startedAt, SessionId = sessionId, Type = SessionEventType.SessionStart,
                    Data = new Dictionary<string, object?> { ["phase"] = (long)number, ["source"] = "claude_code" },
                });
            }
            else if (record.State > SessionState.Completed && written.Count > 0)
            {
                throw new TierStorageException(ErrorIds.SessionNotActive, TierErrorKind.InvalidOperation,
                    $"Session '{sessionId}' is {record.State}; events cannot be imported into a session whose copies already left the local tier.", sessionId);
            }

            if (written.Count > 0)
                record = await AppendLockedAsync(record, written, cancellationToken).ConfigureAwait(false);
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
    internal async Task<bool> CompleteImportedAsync(string sessionId, Func<CancellationToken, Task<IReadOnlyList<SessionEvent>>> lastEventsLocked,
        Func<CancellationToken, Task> commitLocked, CancellationToken cancellationToken)
    {
        SessionIds.Validate(sessionId);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var record = await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) ?? throw SessionNotFound(sessionId);
            if (record.State != SessionState.Completed) return false;
            var written = Imported(sessionId, await lastEventsLocked(cancellationToken).ConfigureAwait(false));
            if (written.Count > 0)
                record = await AppendLockedAsync(record, written, cancellationToken).ConfigureAwait(false);
            await CompleteLockedAsync(record, record.EndedAt ?? record.StartedAt, cancellationToken).ConfigureAwait(false);
            await commitLocked(cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    private List<SessionEvent> Imported(string sessionId, IEnumerable<SessionEvent> events) =>
        events.Select(e => Redaction.Apply(e with { SessionId = sessionId, Timestamp = e.Timestamp.ToUniversalTime() }, Warn)).ToList();
}
