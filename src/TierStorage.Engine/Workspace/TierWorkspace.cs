using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>How to find a workspace and its policy. Every field is optional.</summary>
public sealed record WorkspaceOptions
{
    /// <summary>Workspace directory; default $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage.</summary>
    public string? WorkspacePath { get; init; }
    /// <summary>Policy file; default $env:TIERSTORAGE_POLICY, else &lt;workspace&gt;/tierstorage.yaml, else the embedded default.</summary>
    public string? PolicyPath { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

public sealed record StartSessionRequest
{
    /// <summary>Phase number; default the phase of the most recent session, else 0.</summary>
    public int? Phase { get; init; }
    /// <summary>Explicit id (session_YYYYMMDD_HHMMSS form); default generated from the clock.</summary>
    public string? SessionId { get; init; }
    /// <summary>Complete a session that is still active instead of refusing.</summary>
    public bool CompleteActive { get; init; }
}

public sealed record SessionFilter
{
    public string? SessionId { get; init; }
    public int? Phase { get; init; }
    public SessionState? State { get; init; }
}

/// <summary>
/// The local tier: one workspace directory with its policy and catalog.
/// Every operation of the foundation is a method here; the cmdlets and the CLI only call them.
/// </summary>
public sealed partial class TierWorkspace : IAsyncDisposable
{
    /// <summary>Workspace directory to use: the argument, else $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage (full path).</summary>
    public static string ResolveWorkspacePath(string? workspacePath) => throw new NotImplementedException();

    /// <summary>Policy file to use for a workspace, or null for the embedded default.</summary>
    public static string? ResolvePolicyPath(string workspaceRoot, string? policyPath) => throw new NotImplementedException();

    /// <summary>Creates the layout and writes a policy (the embedded default, or a copy of <paramref name="policyTemplatePath"/>).
    /// Refuses (ErrorIds.PolicyExists) to overwrite an existing policy unless <paramref name="force"/>. Idempotent otherwise.</summary>
    public static Task<WorkspaceInfo> InitializeAsync(string? workspacePath, string? policyTemplatePath, bool force, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Opens an initialized workspace (ErrorIds.WorkspaceNotFound otherwise), loads its policy and catalog.</summary>
    public static Task<TierWorkspace> OpenAsync(WorkspaceOptions options, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    public string Root => throw new NotImplementedException();
    public TierPolicy Policy => throw new NotImplementedException();

    /// <summary>Starts a session: the current log rotates to previous; an active session is completed first
    /// (CompleteActive) or refused (ErrorIds.SessionStillActive).</summary>
    public Task<SessionInfo> StartSessionAsync(StartSessionRequest request, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Writes the handoff note, appends session_end and marks the session Completed. Null = the active session.</summary>
    public Task<SessionInfo> CompleteSessionAsync(string? sessionId, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    public IAsyncEnumerable<SessionInfo> GetSessionsAsync(SessionFilter filter, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Buffers events for a session (null = the active one) and writes them in batches:
    /// log lines under the session's lock, then one catalog transaction per batch.</summary>
    public EventAppender OpenEventAppender(string? sessionId) => throw new NotImplementedException();

    /// <summary>Appends events and returns them as written (redacted, session filled in).</summary>
    public Task<IReadOnlyList<SessionEvent>> AppendEventsAsync(IEnumerable<SessionEvent> events, string? sessionId, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    public IAsyncEnumerable<SessionEvent> GetEventsAsync(SessionEventQuery query, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Writes state/&lt;session&gt;_snapNNN.json.gz through a temp file and an atomic rename. The JSON must parse.</summary>
    public Task<SnapshotInfo> SaveSnapshotAsync(string? sessionId, string json, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Lists snapshots (no content) of a session, or of every session when null.</summary>
    public IAsyncEnumerable<SnapshotInfo> GetSnapshotsAsync(string? sessionId, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Reads one snapshot with its JSON. sequence null = the latest readable one (the recovery path:
    /// a corrupt latest is skipped and reported through <paramref name="warn"/>).</summary>
    public Task<SnapshotInfo> ReadSnapshotAsync(string? sessionId, int? sequence, Action<string>? warn, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

/// <summary>Batches events into a session's log and the catalog. Not thread-safe; one per writer.</summary>
public sealed class EventAppender : IAsyncDisposable
{
    internal EventAppender() { }

    public string SessionId => throw new NotImplementedException();

    /// <summary>Validates, redacts and buffers one event; flushes when the batch is full. Returns the event as it will be written.</summary>
    public ValueTask<SessionEvent> AppendAsync(SessionEvent sessionEvent, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task FlushAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
