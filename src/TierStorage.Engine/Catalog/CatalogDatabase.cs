using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog;

/// <summary>A session row of the catalog.</summary>
public sealed record SessionRecord
{
    public string SessionId { get; init; } = "";
    public int Phase { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public SessionState State { get; init; }
    /// <summary>Full path of the activity log on the local tier; null once pruned.</summary>
    public string? LogPath { get; init; }
    public string? HandoffPath { get; init; }
    /// <summary>Bytes of the log already indexed into the events table (crash recovery resumes from here).</summary>
    public long LogIndexedBytes { get; init; }
    public long EventCount { get; init; }
}

public sealed record NameCount(string Name, long Count, long TotalDurationMs, long Failures);

public sealed record ErrorSummary(string ErrorType, long Count, IReadOnlyList<string> Files);

/// <summary>Aggregates of one session's events, for the handoff note.</summary>
public sealed record SessionSummary
{
    public string SessionId { get; init; } = "";
    public long EventCount { get; init; }
    public DateTimeOffset? FirstEventAt { get; init; }
    public DateTimeOffset? LastEventAt { get; init; }
    public TokenUsage Tokens { get; init; } = new();
    public IReadOnlyList<NameCount> Tasks { get; init; } = [];
    public IReadOnlyList<NameCount> Agents { get; init; } = [];
    public IReadOnlyList<NameCount> Tools { get; init; } = [];
    public IReadOnlyList<NameCount> Models { get; init; } = [];
    public IReadOnlyList<NameCount> Files { get; init; } = [];
    public IReadOnlyList<ErrorSummary> Errors { get; init; } = [];
    /// <summary>Events with success = false plus events of type error.</summary>
    public long FailureCount { get; init; }
    public IReadOnlyList<string> Decisions { get; init; } = [];
}

/// <summary>One object stored on a tier (what-is-where).</summary>
public sealed record StoredObject
{
    public string Tier { get; init; } = "";
    public string Key { get; init; } = "";
    public string? SessionId { get; init; }
    public int? Phase { get; init; }
    public long SizeBytes { get; init; }
    public string? Md5 { get; init; }
    public string? Sha256 { get; init; }
    public DateTimeOffset StoredAt { get; init; }
    public DateTimeOffset? VerifiedAt { get; init; }
}

/// <summary>
/// analytics/agent_metrics.db: catalog of sessions and of what is where, plus the analytics events.
/// One SQLite connection (WAL, foreign keys on, busy timeout) per instance; not thread-safe, but several
/// processes may use the same file at once.
/// </summary>
public sealed class CatalogDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>Opens (creating if needed) and migrates to the current schema. ErrorIds.CatalogCorrupt when the file is not
    /// a SQLite database, ErrorIds.CatalogTooNew when it was written by a newer version.</summary>
    public static Task<CatalogDatabase> OpenAsync(string path, CancellationToken cancellationToken) => throw new NotImplementedException();

    public string Path => throw new NotImplementedException();
    public int SchemaVersion => throw new NotImplementedException();

    public Task EnsurePhaseAsync(int number, string? name, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>ErrorIds.SessionExists when the id is taken.</summary>
    public Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken) => throw new NotImplementedException();
    public Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken) => throw new NotImplementedException();
    public Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken) => throw new NotImplementedException();
    /// <summary>Oldest first.</summary>
    public IAsyncEnumerable<SessionRecord> ListSessionsAsync(int? phase, SessionState? state, CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>Inserts a batch in one transaction and sets the session's LogIndexedBytes and EventCount in the same transaction.</summary>
    public Task AddEventsAsync(string sessionId, IReadOnlyList<SessionEvent> events, long logIndexedBytes, CancellationToken cancellationToken) => throw new NotImplementedException();
    /// <summary>Streams matching events (oldest first unless Descending), each with its EventId.</summary>
    public IAsyncEnumerable<SessionEvent> QueryEventsAsync(SessionEventQuery query, CancellationToken cancellationToken) => throw new NotImplementedException();
    public Task<SessionSummary> SummarizeSessionAsync(string sessionId, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task RecordSnapshotAsync(SnapshotInfo snapshot, CancellationToken cancellationToken) => throw new NotImplementedException();
    /// <summary>Oldest first; Json is null.</summary>
    public IAsyncEnumerable<SnapshotInfo> ListSnapshotsAsync(string? sessionId, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task UpsertObjectAsync(StoredObject storedObject, CancellationToken cancellationToken) => throw new NotImplementedException();
    public IAsyncEnumerable<StoredObject> ListObjectsAsync(string? tier, string? sessionId, CancellationToken cancellationToken) => throw new NotImplementedException();
    /// <summary>True when a copy of the session on a tier other than <paramref name="localTierName"/> has been verified.</summary>
    public Task<bool> HasVerifiedCopyAsync(string sessionId, string localTierName, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<long> StartBackupRunAsync(string sessionId, string tier, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotImplementedException();
    public Task FinishBackupRunAsync(long runId, string status, long bytesSent, string? error, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
