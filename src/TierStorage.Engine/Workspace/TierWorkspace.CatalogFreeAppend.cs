using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Appends that skip the catalog, for a process whose whole life is one event (a Claude Code hook): opening SQLite and
/// loading the policy cost it several times the append. The line goes to the active session's log under the write lock,
/// like every append; the catalog indexes it at the next append, Complete-Session, or open of the workspace.
/// </summary>
public sealed partial class TierWorkspace
{
    /// <summary>Appends one event, already redacted, to the active session's log without opening the catalog. Returns the
    /// session written to, or null (nothing written) when the current log is not an active session's: the caller then
    /// opens the workspace, which decides as the catalog says (start a session, or refuse). Synchronous, like the rest of a
    /// hook's fast path: for one event in a process of its own, async costs more to compile than it saves.</summary>
    /// <remarks>Active is read from the log itself, under the lock: its first line names the session, and Complete-Session
    /// always ends it with session_end before the catalog calls the session completed. Both lines are read as plain JSON,
    /// not as events: in a process this short every parser used costs its compilation, and the event parser is a big one.</remarks>
    internal static string? TryAppendWithoutCatalog(WorkspaceLayout layout, SessionEvent redacted, Action<string>? warning,
        CancellationToken cancellationToken)
    {
        using (IoErrors.Guard("locking", layout.WriteLockPath, () => FileLock.Acquire(layout.WriteLockPath, LockTimeout, cancellationToken)))
        {
            var logPath = layout.CurrentLogPath;
            if (!File.Exists(logPath)) return null;
            var first = ActivityLog.ReadLines(logPath, 0).Select(l => l.Line).FirstOrDefault();
            if (StringField(first, "session") is not { } sessionId || !SessionIds.IsValid(sessionId)) return null;
            // Any last line but a well-formed non-end event (session_end, a line that is not an event) is for the workspace to handle.
            if (StringField(ActivityLog.ReadLastLine(logPath), "type") is not { } lastType || lastType == EventJson.ToWireName(SessionEventType.SessionEnd))
                return null;
            var lines = EventLines.Encode([redacted with { SessionId = sessionId, Timestamp = redacted.Timestamp.ToUniversalTime() }]);
            IoErrors.Guard("appending to", logPath, () => ActivityLog.Append(logPath, lines.Span, layout.QuarantineDirectory, warning));
            return sessionId;
        }
    }

    private static string? StringField(string? line, string name)
    {
        if (line is null) return null;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Indexes what catalog-free appends left in active sessions' logs, so that whatever reads the catalog next
    /// (Get-SessionEvent, the review, a backup) sees every event. A failure (the lock held too long, a read-only
    /// workspace) is a warning: the events stay in the log and the next writer indexes them.</summary>
    private async Task CatchUpActiveLogsAsync(CancellationToken cancellationToken)
    {
        var active = await ListRecordsAsync(SessionState.Active, cancellationToken).ConfigureAwait(false);
        foreach (var session in active)
        {
            if (LocateLog(session) is not { } logPath || new FileInfo(logPath).Length <= session.LogIndexedBytes) continue;
            try
            {
                using (await LockAsync(cancellationToken).ConfigureAwait(false))
                {
                    // Another writer may have indexed the lines while this one waited for the lock.
                    if (await _catalog.GetSessionAsync(session.SessionId, cancellationToken).ConfigureAwait(false) is { State: SessionState.Active } fresh
                        && LocateLog(fresh) is { } freshLog)
                        await CatchUpIndexLockedAsync(fresh, freshLog, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (TierStorageException ex)
            {
                Warn($"Events at the end of session '{session.SessionId}''s log are not in the catalog yet: {ex.Message}");
            }
        }
    }
}
