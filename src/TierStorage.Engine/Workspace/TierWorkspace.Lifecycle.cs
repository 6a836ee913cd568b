using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    /// <summary>Removes one data class of a session from the local tier (Move-DataTier's local Delete step, after its
    /// safety check): the log, the snapshots or the handoff. Returns the bytes freed. An active session is refused.</summary>
    internal async Task<long> DeleteLocalClassAsync(string sessionId, string? dataClass, CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var record = await ResolveSessionAsync(sessionId, requireActive: false, cancellationToken).ConfigureAwait(false);
            if (record.State == SessionState.Active)
                throw new TierStorageException(ErrorIds.SessionStillActive, TierErrorKind.InvalidOperation, $"Session '{sessionId}' is active; nothing of it is moved.", sessionId);
            var classes = dataClass is null ? ["activity_logs", "snapshots", "handoffs"] : new[] { dataClass };
            long freed = 0;
            foreach (var c in classes)
            {
                var files = c switch
                {
                    "activity_logs" => LocateLog(record) is { } log ? [log] : [],
                    "snapshots" => Layout.EnumerateSnapshots(sessionId).Select(s => s.Path).ToList(),
                    "handoffs" => record.HandoffPath is { } h && File.Exists(h) ? [h] : new List<string>(),
                    _ => throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"'{c}' is not a data class of a session.", c),
                };
                foreach (var file in files.Where(IsOwnFile))
                {
                    freed += new FileInfo(file).Length;
                    IoErrors.Guard("deleting", file, () => File.Delete(file));
                }
                record = c switch
                {
                    "activity_logs" => record with { LogPath = null },
                    "handoffs" => record with { HandoffPath = null },
                    _ => record,
                };
            }
            await _catalog.UpdateSessionAsync(record, cancellationToken).ConfigureAwait(false);
            return freed;
        }
    }
}
