using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Brings the sessions whose activity logs lie in logs/ back into a catalog that lost them (deleted, or set aside as
/// damaged): Update-TierCatalog, with or without -FromTier (issue 11 #7). A session the catalog does not know is added as
/// its log tells (phase and start from its session_start, end from its session_end; Active only in the current slot
/// without a session_end); a session it knows without any event (a row rebuilt from a tier) gets its local log, and the
/// log's times. Sessions that already have events are left alone: their logs are indexed as they are written.
/// </summary>
internal sealed class LocalLogIndexer(TierWorkspace workspace)
{
    private CatalogDatabase Catalog => workspace.Catalog;

    /// <summary>One result per session indexed (Tier "local", Action Added or Indexed, EventCount); nothing for a log
    /// whose session already has its events.</summary>
    public async Task<List<CatalogRebuildResult>> IndexAsync(CancellationToken cancellationToken)
    {
        var layout = workspace.Layout;
        var results = new List<CatalogRebuildResult>();
        if (!Directory.Exists(layout.LogsDirectory)) return results;
        // The shared slots first: when a copy of a log lies beside it (a crash mid-rotation), the slot is the session's own.
        var logs = new[] { layout.CurrentLogPath, layout.PreviousLogPath }.Where(File.Exists)
            .Concat(Directory.EnumerateFiles(layout.LogsDirectory, "*.jsonl").Where(p => p != layout.CurrentLogPath && p != layout.PreviousLogPath).Order(StringComparer.Ordinal))
            .ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in logs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ReadEnds(path) is not { } ends)
            {
                workspace.Warn($"'{path}' does not start with a session_start event naming its session; it was not indexed.");
                continue;
            }
            if (!seen.Add(ends.First.SessionId)) continue;
            if (await IndexOneAsync(path, ends.First, ends.Last, cancellationToken).ConfigureAwait(false) is { } result) results.Add(result);
        }
        return results;
    }

    private async Task<CatalogRebuildResult?> IndexOneAsync(string path, SessionEvent first, SessionEvent last, CancellationToken cancellationToken)
    {
        var sessionId = first.SessionId;
        var ended = last.Type == SessionEventType.SessionEnd;
        var handoff = workspace.Layout.HandoffPath(sessionId);
        var existing = await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        string action;
        SessionRecord record;
        if (existing is null)
        {
            var phase = first.Data?.GetValueOrDefault("phase") is long p and >= 0 and <= int.MaxValue ? (int)p : 0;
            var active = !ended && path == workspace.Layout.CurrentLogPath;
            record = new SessionRecord
            {
                SessionId = sessionId, Phase = phase, StartedAt = first.Timestamp, EndedAt = active ? null : last.Timestamp,
                State = active ? SessionState.Active : SessionState.Completed, LogPath = path,
                HandoffPath = File.Exists(handoff) ? handoff : null,
            };
            await Catalog.EnsurePhaseAsync(phase, null, first.Timestamp, cancellationToken).ConfigureAwait(false);
            await Catalog.InsertSessionAsync(record, cancellationToken).ConfigureAwait(false);
            action = "Added";
        }
        else if (existing.EventCount == 0 && existing.LogIndexedBytes == 0)
        {
            // A row rebuilt from a tier only knew when the backup was made; the log says when the session ran.
            record = existing with
            {
                StartedAt = first.Timestamp, EndedAt = existing.State == SessionState.Active ? existing.EndedAt : last.Timestamp, LogPath = path,
                HandoffPath = existing.HandoffPath ?? (File.Exists(handoff) ? handoff : null),
            };
            await Catalog.UpdateSessionAsync(record, cancellationToken).ConfigureAwait(false);
            action = "Indexed";
        }
        else
        {
            return null;
        }

        record = await workspace.IndexLogAsync(record, path, cancellationToken).ConfigureAwait(false);
        workspace.Inform($"Session '{sessionId}': {record.EventCount:N0} events indexed from '{path}'.");
        return new CatalogRebuildResult
        {
            SessionId = sessionId, Phase = record.Phase, Tier = workspace.LocalTierName, Action = action, EventCount = record.EventCount, Key = path,
        };
    }

    /// <summary>The first event (which must be the session's session_start) and the last complete line's event, or null
    /// when the first line is not a session_start naming a valid session.</summary>
    private static (SessionEvent First, SessionEvent Last)? ReadEnds(string path)
    {
        try
        {
            var firstLine = ActivityLog.ReadLines(path, 0).Select(l => l.Line).FirstOrDefault(l => l.Length > 0);
            if (firstLine is null) return null;
            var first = EventJson.Parse(firstLine, null);
            if (first.Type != SessionEventType.SessionStart || !SessionIds.IsValid(first.SessionId)) return null;
            var last = first;
            if (ActivityLog.ReadLastLine(path) is { Length: > 0 } lastLine)
            {
                try
                {
                    last = EventJson.Parse(lastLine, first.SessionId);
                }
                catch (TierStorageException)
                {
                    // A last line that is not an event is left out when the log is indexed; the start stands for the end.
                }
            }
            return (first, last);
        }
        catch (TierStorageException)
        {
            return null;
        }
    }
}
