using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    /// <summary>Takes a restored session's files into the catalog: the log, handoff and phase are recorded, a session the
    /// catalog had lost is added back (state BackedUp), its times taken from its events, and events missing from the
    /// catalog are indexed from the log.</summary>
    internal async Task<SessionRecord> AdoptRestoredSessionAsync(string sessionId, int phase, string? phaseName, string logPath, string? handoffPath,
        CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var (first, last) = FirstAndLastTimestamps(logPath);
            await _catalog.EnsurePhaseAsync(phase, phaseName, first ?? Now, cancellationToken).ConfigureAwait(false);
            var record = await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                record = new SessionRecord
                {
                    SessionId = sessionId, Phase = phase, StartedAt = first ?? Now, EndedAt = last,
                    State = SessionState.BackedUp, LogPath = logPath, HandoffPath = handoffPath,
                };
                await _catalog.InsertSessionAsync(record, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // A row rebuilt from a tier (Update-TierCatalog -FromTier) only knew when the backup was made; the log's
                // session_start and last event say when the session ran (for any other row they are the same times).
                record = record with
                {
                    LogPath = logPath, HandoffPath = handoffPath ?? record.HandoffPath,
                    StartedAt = first ?? record.StartedAt, EndedAt = last ?? record.EndedAt,
                };
                await _catalog.UpdateSessionAsync(record, cancellationToken).ConfigureAwait(false);
            }
            return await CatchUpIndexLockedAsync(record, logPath, cancellationToken).ConfigureAwait(false);
        }
    }

    private static (DateTimeOffset? First, DateTimeOffset? Last) FirstAndLastTimestamps(string logPath)
    {
        DateTimeOffset? first = null, last = null;
        foreach (var (line, _) in ActivityLog.ReadLines(logPath, 0))
        {
            try
            {
                var e = EventJson.Parse(line, null);
                first ??= e.Timestamp;
                last = e.Timestamp;
            }
            catch (TierStorageException)
            {
                // Lines that are not events are reported when the log is indexed.
            }
        }
        return (first, last);
    }
}
