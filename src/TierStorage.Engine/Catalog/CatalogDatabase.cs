using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

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
    /// <summary>The machine the session was recorded on (<see cref="CatalogDatabase.Origin"/> when it was inserted); null for
    /// sessions recorded before catalogs were shared.</summary>
    public string? Machine { get; init; }
    /// <summary>The user it was recorded by (<see cref="CatalogDatabase.Origin"/>); null as for <see cref="Machine"/>.</summary>
    public string? User { get; init; }

    /// <summary>Imported from a Claude Code transcript that may still grow: not yet ended with a handoff note (Import-ClaudeSession
    /// -Complete, or an import after the transcript went idle, ends it). Backups and tier moves treat it as still active.</summary>
    public bool IsUnfinishedImport => State == SessionState.Completed && HandoffPath is null;
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
public sealed partial class CatalogDatabase : IAsyncDisposable, IDisposable
{
    // SQLite result codes that mean "this file is not a usable database" rather than a transient failure.
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;
    private const int SqliteConstraintPrimaryKey = 1555;

    private const string EventColumns =
        "e.event_id, e.session_id, e.ts, e.type, e.agent, e.tool, e.task, e.duration_ms, e.input_tokens, e.output_tokens, " +
        "e.cache_read_tokens, e.cache_write_tokens, e.model, e.success, e.error_type, e.file, e.data, e.event_key";

    private const string SessionColumnsBefore15 =
        "session_id, phase, started_at, ended_at, state, log_path, handoff_path, log_indexed_bytes, event_count";

    /// <summary>The session columns of this catalog's schema (a catalog opened at an older version in tests has no origin).</summary>
    private string SessionColumns => SchemaVersion >= 15 ? SessionColumnsBefore15 + ", machine, user_name" : SessionColumnsBefore15;

    private const int MaxDecisions = 20;

    // A 32 MB page cache keeps the seven event indexes' hot pages in memory during bulk inserts; with the default
    // 2 MB every batch re-read index pages, which cost about a fifth of the insert rate on a 1,000,000-event database.
    // WAL commits do not fsync under synchronous = NORMAL; checkpoints do. At the default of one checkpoint per 1,000 WAL
    // pages, about one single-event append in a hundred paid for one, which alone put the append p99 at 4 ms. One per
    // 16,384 pages (64 MB) moves that to one append in a couple of thousand; the journal size limit truncates the WAL
    // back to 64 MB after each, and the last connection to close checkpoints and removes it as before.
    private const string ConnectionPragmas =
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; " +
        "PRAGMA wal_autocheckpoint = 16384; PRAGMA journal_size_limit = 67108864;";

    private const string FailurePredicate = "(success = 0 OR type = 'error')";

    /// <summary>PostgreSQL's unique_violation: a taken primary key.</summary>
    private const string PostgresUniqueViolation = "23505";

    private readonly DbConnection _connection;
    private readonly CatalogDialect _dialect;
    private IEventInserter? _eventInserter;
    private IIngestKeyLookup? _ingestKeyLookup;

    private CatalogDatabase(DbConnection connection, CatalogLocation location, string root, int schemaVersion)
    {
        _connection = connection;
        Location = location;
        _dialect = CatalogDialect.For(location.Provider);
        Path = location.Provider == CatalogProviderKind.Sqlite ? location.Target : location.Describe();
        SchemaVersion = schemaVersion;
        _root = root;
    }

    /// <summary>The workspace the catalog lies in (&lt;root&gt;/analytics/agent_metrics.db): file paths are stored relative to it.</summary>
    private readonly string _root;

    /// <summary>Opens (creating if needed) and migrates to the current schema. ErrorIds.CatalogCorrupt when the file is not
    /// a SQLite database, ErrorIds.CatalogTooNew when it was written by a newer version.</summary>
    public static Task<CatalogDatabase> OpenAsync(string path, CancellationToken cancellationToken) =>
        OpenAsync(path, Migrations.Latest, cancellationToken);

    /// <summary>Opens and migrates only up to <paramref name="targetVersion"/>: lets tests build a database as an older release left it.</summary>
    internal static async Task<CatalogDatabase> OpenAsync(string path, int targetVersion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SqliteNative.EnsureInitialized();
        var fullPath = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(fullPath) is { } directory) Directory.CreateDirectory(directory);

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Pooling would keep the file open after Dispose, blocking backups, moves and temp-dir cleanup.
            Pooling = false,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            // busy_timeout first, so that switching to WAL waits for another process instead of failing.
            await MigrationRunner.ExecuteAsync(connection, null, "PRAGMA busy_timeout = 10000;", cancellationToken).ConfigureAwait(false);
            // Reading the header before anything writes is what detects a foreign file while leaving it untouched.
            var onDisk = await MigrationRunner.ScalarIntAsync(connection, null, "PRAGMA user_version;", cancellationToken).ConfigureAwait(false);
            ThrowIfTooNew(fullPath, onDisk);
            await MigrationRunner.ExecuteAsync(connection, null, ConnectionPragmas, cancellationToken).ConfigureAwait(false);
            var version = await MigrationRunner.MigrateAsync(connection, SqliteMigrationDialect.Instance, fullPath, targetVersion, cancellationToken).ConfigureAwait(false);
            return new CatalogDatabase(connection, CatalogLocation.Sqlite(fullPath), WorkspacePaths.RootOfCatalog(fullPath), version);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new TierStorageException(ErrorIds.CatalogCorrupt, TierErrorKind.InvalidData,
                $"The catalog '{fullPath}' is not a usable SQLite database ({ex.Message}). Move it aside and open again to start a new catalog.",
                fullPath, ex);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The SQLite file, or (PostgreSQL) where the database is, without the password: for messages.</summary>
    /// <summary>Opens the catalog at <paramref name="location"/>, migrating it to the current schema: an SQLite file (as
    /// <see cref="OpenAsync(string, CancellationToken)"/>), or a PostgreSQL database shared by many machines, whose paths are
    /// stored relative to <paramref name="workspaceRoot"/>. PostgreSQL: ErrorIds.CatalogUnavailable when the server, the
    /// database or the login fails (the message names where, never the password), ErrorIds.CatalogForeign when the database
    /// holds tables of something else, ErrorIds.CatalogTooNew as for SQLite.</summary>
    public static async Task<CatalogDatabase> OpenAsync(CatalogLocation location, string workspaceRoot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (location.Provider == CatalogProviderKind.Sqlite) return await OpenAsync(location.Target, cancellationToken).ConfigureAwait(false);
        var connection = new NpgsqlConnection(location.OpenString());
        try
        {
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                throw Unavailable(location, ex);
            }
            await ThrowIfForeignAsync(connection, location, cancellationToken).ConfigureAwait(false);
            var version = await MigrationRunner.MigrateAsync(connection, Postgres.PostgresMigrationDialect.Instance, location.Describe(), Migrations.Latest, cancellationToken)
                .ConfigureAwait(false);
            return new CatalogDatabase(connection, location, System.IO.Path.GetFullPath(workspaceRoot), version);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The message for a PostgreSQL catalog that cannot be used, naming where and why without the password.</summary>
    internal static TierStorageException Unavailable(CatalogLocation location, Exception ex)
    {
        var why = ex switch
        {
            PostgresException { SqlState: "28P01" or "28000" } => "the server refused the login: check the user and the password (password_env, or your pgpass file)",
            PostgresException { SqlState: "3D000" } => "the database does not exist: create it (createdb) or correct Database= in the connection",
            PostgresException p => $"the server answered {p.SqlState}: {p.MessageText}",
            NpgsqlException { InnerException: System.Net.Sockets.SocketException s } => $"no server answered ({s.SocketErrorCode}): check Host and Port and that PostgreSQL is running",
            TimeoutException or NpgsqlException { InnerException: TimeoutException } => "the server did not answer in time",
            _ => ex.Message,
        };
        return new TierStorageException(ErrorIds.CatalogUnavailable, TierErrorKind.ConnectionError,
            $"The shared catalog {location.Describe()} cannot be used: {why}.", location.Describe(), ex);
    }

    /// <summary>A database with tables but no schema_migrations is someone else's: refuse it rather than add tables to it.</summary>
    private static async Task ThrowIfForeignAsync(NpgsqlConnection connection, CatalogLocation location, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'),
                   EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (reader.GetBoolean(0) && !reader.GetBoolean(1))
        {
            throw new TierStorageException(ErrorIds.CatalogForeign, TierErrorKind.InvalidData,
                $"The database {location.Describe()} holds tables but is not a TierStorage catalog (it has no schema_migrations): name an empty database, or a schema of its own with Search Path=, for the catalog.",
                location.Describe());
        }
    }

    public string Path { get; }
    public int SchemaVersion { get; }
    public CatalogLocation Location { get; }
    public CatalogProviderKind Provider => Location.Provider;
    /// <summary>True for a PostgreSQL catalog that many machines may share.</summary>
    public bool IsShared => Location.Provider == CatalogProviderKind.Postgres;
    internal CatalogDialect Dialect => _dialect;

    /// <summary>The machine and user that sessions inserted through this connection are recorded as (<see cref="CatalogOrigin.Current"/>
    /// unless the workspace was opened with another).</summary>
    public CatalogOrigin Origin
    {
        // Read when a session is inserted or a shared catalog is scoped, not at every open.
        get => _origin ??= CatalogOrigin.Current;
        internal set => _origin = value;
    }

    private CatalogOrigin? _origin;

    /// <summary>The sessions recorded on $machine and by $user (either NULL: any), compared without case: the one text of the
    /// -Machine/-User filters (schema 15 and later). A value with * or ? is a wildcard pattern, as Get-Session takes it: bind
    /// it through <see cref="OriginValue"/>; "*" also matches sessions of no recorded origin (recorded before catalogs were
    /// shared). A plain name stays an equality (the origin index answers it).</summary>
    internal static string OriginFilter(string? machine, string? user) =>
        $"{OriginTerm("machine", "$machine", machine)} AND {OriginTerm("user_name", "$user", user)}";

    private static bool IsOriginPattern(string? value) => value is not null && value.AsSpan().IndexOfAny('*', '?') >= 0;

    private static string OriginTerm(string column, string parameter, string? value) => value is null ? $"(lower({column}) = lower({parameter}) OR {parameter} IS NULL)"
        : IsOriginPattern(value) ? $"(lower({column}) LIKE {parameter} ESCAPE '\\'{(value == "*" ? $" OR {column} IS NULL" : "")})"
        : $"lower({column}) = lower({parameter})";

    /// <summary>What to bind for a -Machine/-User value in <see cref="OriginFilter"/>: a pattern as a lower-case LIKE pattern
    /// (its own %, _ and \ escaped), a name as it is.</summary>
    internal static string? OriginValue(string? value)
    {
        if (!IsOriginPattern(value)) return value;
        var escaped = new System.Text.StringBuilder();
        foreach (var c in value!.ToLowerInvariant())
            escaped.Append(c switch { '*' => "%", '?' => "_", '%' or '_' or '\\' => "\\" + c, _ => c.ToString() });
        return escaped.ToString();
    }

    /// <summary>The open SQLite connection, for tests that inspect query plans or hook commits.</summary>
    internal SqliteConnection Connection => _connection as SqliteConnection
        ?? throw new InvalidOperationException($"The catalog '{Path}' is not an SQLite file.");

    /// <summary>True when this connection wrote to an SQLite catalog since it was opened (total_changes()); false on PostgreSQL.</summary>
    internal async Task<bool> HasChangedAsync(CancellationToken cancellationToken)
    {
        if (!_dialect.IsSqlite) return false;
        await using var command = Command("SELECT total_changes()");
        return CatalogDialect.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) > 0;
    }

    /// <summary>The open connection, whichever the provider.</summary>
    internal DbConnection DbConnection => _connection;

    public async Task EnsurePhaseAsync(int number, string? name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            INSERT INTO phases(number, name, started_at) VALUES ($number, $name, $at)
            ON CONFLICT(number) DO UPDATE SET name = COALESCE(excluded.name, phases.name)
            """, ("$number", number), ("$name", name), ("$at", ToUnixMs(at)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>ErrorIds.SessionExists when the id is taken.</summary>
    public async Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        SessionIds.Validate(session.SessionId);
        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        // A session implies its phase: creating the phase row here keeps callers from tripping the foreign key.
        await using (var phase = Command("INSERT INTO phases(number, started_at) VALUES ($phase, $at) ON CONFLICT(number) DO NOTHING",
                         ("$phase", session.Phase), ("$at", ToUnixMs(session.StartedAt))))
        {
            phase.Transaction = transaction;
            await phase.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var insert = Command($"INSERT INTO sessions({SessionColumns}) VALUES ($id, $phase, $started, $ended, $state, $log, $handoff, $indexed, $count{(SchemaVersion >= 15 ? ", $machine, $user" : "")})",
                         SessionParameters(session with { Machine = session.Machine ?? Origin.Machine, User = session.User ?? Origin.User })))
        {
            insert.Transaction = transaction;
            try
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SqliteException { SqliteExtendedErrorCode: SqliteConstraintPrimaryKey } or PostgresException { SqlState: PostgresUniqueViolation })
            {
                throw new TierStorageException(ErrorIds.SessionExists, TierErrorKind.ResourceExists,
                    $"Session '{session.SessionId}' is already in the catalog.", session.SessionId, ex);
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Updates everything but LogIndexedBytes and EventCount, which only AddEventsAsync moves, so that a
    /// record read before a batch was indexed cannot roll the counters back. ErrorIds.SessionNotFound when absent.</summary>
    public async Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var command = Command("""
            UPDATE sessions SET phase = $phase, started_at = $started, ended_at = $ended, state = $state,
                                log_path = $log, handoff_path = $handoff
            WHERE session_id = $id
            """, SessionParameters(session));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0) throw SessionNotFound(session.SessionId);
    }

    public async Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = Command($"SELECT {SessionColumns} FROM sessions WHERE session_id = $id", ("$id", sessionId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadSession(reader) : null;
    }

    /// <summary>Oldest first.</summary>
    public IAsyncEnumerable<SessionRecord> ListSessionsAsync(int? phase, SessionState? state, CancellationToken cancellationToken) =>
        ListSessionsAsync(phase, state, null, null, cancellationToken);

    /// <summary>Oldest first; <paramref name="machine"/> and <paramref name="user"/> (compared without case), when given, keep
    /// only the sessions recorded there (sessions recorded before catalogs were shared have neither).</summary>
    public async IAsyncEnumerable<SessionRecord> ListSessionsAsync(int? phase, SessionState? state, string? machine, string? user,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var origin = SchemaVersion >= 15 ? " AND " + OriginFilter(machine, user) : "";
        await using var command = Command($"""
            SELECT {SessionColumns} FROM sessions
            WHERE ($phase IS NULL OR phase = $phase) AND ($state IS NULL OR state = $state){origin}
            ORDER BY started_at, session_id
            """, ("$phase", phase), ("$state", state?.ToString()), ("$machine", OriginValue(machine)), ("$user", OriginValue(user)));
        await foreach (var session in RowsAsync(command, ReadSession, cancellationToken).ConfigureAwait(false)) yield return session;
    }

    /// <summary>
    /// The rows of a list its callers walk while they run other catalog commands (draining the queue, restoring a session's
    /// objects). SQLite runs those on the connection while the reader is open; PostgreSQL (Npgsql) runs one command at a
    /// time per connection and refuses the second (NpgsqlOperationInProgressException), so there the rows are read whole
    /// first: these lists are a session's or a tier's rows, never the events.
    /// </summary>
    private async IAsyncEnumerable<T> RowsAsync<T>(DbCommand command, Func<DbDataReader, T> read, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_dialect.IsSqlite)
        {
            await using var streaming = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await streaming.ReadAsync(cancellationToken).ConfigureAwait(false)) yield return read(streaming);
            yield break;
        }
        var rows = new List<T>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) rows.Add(read(reader));
        foreach (var row in rows) yield return row;
    }

    /// <summary>Inserts a batch in one transaction and sets the session's LogIndexedBytes and EventCount in the same transaction.</summary>
    /// <returns>Each event's event_id, in the order given.</returns>
    public Task<long[]> AddEventsAsync(string sessionId, IReadOnlyList<SessionEvent> events, long logIndexedBytes, CancellationToken cancellationToken) =>
        AddEventsAsync(sessionId, events, logIndexedBytes, 0, cancellationToken);

    /// <summary>As <see cref="AddEventsAsync(string, IReadOnlyList{SessionEvent}, long, CancellationToken)"/>, also counting
    /// <paramref name="rejectedLines"/> lines of the log up to <paramref name="logIndexedBytes"/> that were not valid events.</summary>
    public Task<long[]> AddEventsAsync(string sessionId, IReadOnlyList<SessionEvent> events, long logIndexedBytes, long rejectedLines, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(logIndexedBytes);
        return AddEventsAsync(sessionId, events, _ => logIndexedBytes, rejectedLines, cancellationToken);
    }

    /// <summary>
    /// Inserts a batch in one transaction, leaving out each event whose <see cref="SessionEvent.Id"/> the session already
    /// holds (its id is 0 in the result), then, before the commit, calls <paramref name="beforeCommit"/> with the ids (the
    /// caller appends the stored events to the log) and records the log offset it returns with the session's EventCount.
    /// If <paramref name="beforeCommit"/> throws, nothing of the batch is stored.
    /// </summary>
    /// <returns>Each event's event_id, in the order given; 0 for an event left out.</returns>
    public Task<long[]> AddEventsAsync(string sessionId, IReadOnlyList<SessionEvent> events, Func<long[], long> beforeCommit, long rejectedLines,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        return AddEventsAsync(sessionId, events.Select(EncodedEvent.ForCatalog).ToList(), beforeCommit, rejectedLines, cancellationToken);
    }

    /// <summary>As <see cref="AddEventsAsync(string, IReadOnlyList{SessionEvent}, Func{long[], long}, long, CancellationToken)"/>, for
    /// events encoded already.</summary>
    internal async Task<long[]> AddEventsAsync(string sessionId, IReadOnlyList<EncodedEvent> events, Func<long[], long> beforeCommit, long rejectedLines,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(beforeCommit);
        ArgumentOutOfRangeException.ThrowIfNegative(rejectedLines);
        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        // PostgreSQL: no look-up of its own (a round trip in four of a one-event append): the events' foreign key refuses a
        // batch for a session that is not there (mapped to SessionNotFound below), before beforeCommit runs, as here.
        if (_dialect.IsSqlite || events.Count == 0)
        {
            await using var known = Command("SELECT EXISTS (SELECT 1 FROM sessions WHERE session_id = $id)", ("$id", sessionId));
            known.Transaction = transaction;
            if (CatalogDialect.ToInt64(await known.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) == 0)
                throw SessionNotFound(sessionId);
        }
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i].Event;
            if (e.SessionId.Length > 0 && !string.Equals(e.SessionId, sessionId, StringComparison.Ordinal))
            {
                throw new TierStorageException(ErrorIds.InvalidEvent, TierErrorKind.InvalidData,
                    $"Event {i} of the batch belongs to session '{e.SessionId}', not '{sessionId}'; nothing of the batch was stored.", e);
            }
        }
        var inserter = _eventInserter ??= _connection is SqliteConnection sqlite
            ? new EventInserter(sqlite, SchemaVersion) : new PostgresEventInserter((NpgsqlConnection)_connection);
        long[] ids;
        try
        {
            ids = await inserter.InsertAsync(sessionId, events, transaction, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw SessionNotFound(sessionId);
        }
        var added = ids.Count(id => id != 0);

        var logIndexedBytes = beforeCommit(ids);
        ArgumentOutOfRangeException.ThrowIfNegative(logIndexedBytes);
        // Counted after the inserts: an event whose id the session already held was not stored again.
        await using (var update = Command("""
            UPDATE sessions SET log_indexed_bytes = $indexed, event_count = event_count + $added, rejected_lines = rejected_lines + $rejected
            WHERE session_id = $id
            """, ("$indexed", logIndexedBytes), ("$added", added), ("$rejected", rejectedLines), ("$id", sessionId)))
        {
            update.Transaction = transaction;
            // Prepared once per connection (later prepares find it by its text): the server parses and plans it once.
            if (!_dialect.IsSqlite) await update.PrepareAsync(cancellationToken).ConfigureAwait(false);
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0) throw SessionNotFound(sessionId);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    /// <summary>Streams matching events (oldest first unless Descending), each with its EventId.
    /// Since and Until are both inclusive; a Limit of 0 returns nothing.</summary>
    public async IAsyncEnumerable<SessionEvent> QueryEventsAsync(SessionEventQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = BuildEventQuery(query);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        // Npgsql reads rows the server already sent without looking at the token: checked per row.
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ReadEvent(reader);
        }
    }

    /// <summary>The detail lines of EXPLAIN QUERY PLAN for the SQL that QueryEventsAsync would run; on PostgreSQL one line,
    /// the plan as EXPLAIN (FORMAT JSON) gives it (with the query's parameter values), run with ANALYZE when
    /// <paramref name="analyze"/> (the rows each node really read).</summary>
    internal async Task<IReadOnlyList<string>> ExplainEventQueryAsync(SessionEventQuery query, CancellationToken cancellationToken, bool analyze = false)
    {
        await using var command = BuildEventQuery(query);
        if (!_dialect.IsSqlite)
        {
            command.CommandText = (analyze ? "EXPLAIN (ANALYZE, FORMAT JSON) " : "EXPLAIN (FORMAT JSON) ") + command.CommandText;
            return [Convert.ToString(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture)!];
        }
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var details = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) details.Add(reader.GetString(3));
        return details;
    }

    public async Task<SessionSummary> SummarizeSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        long count = 0, failures = 0;
        DateTimeOffset? first = null, last = null;
        var tokens = new TokenUsage();
        await using (var totals = Command($"""
            SELECT COUNT(*), MIN(ts), MAX(ts),
                   TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(cache_read_tokens), TOTAL(cache_write_tokens),
                   TOTAL(CASE WHEN {FailurePredicate} THEN 1 ELSE 0 END)
            FROM events WHERE session_id = $id
            """, ("$id", sessionId)))
        {
            await using var reader = await totals.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                count = reader.GetInt64(0);
                first = reader.IsDBNull(1) ? null : FromUnixMs(reader.GetInt64(1));
                last = reader.IsDBNull(2) ? null : FromUnixMs(reader.GetInt64(2));
                tokens = new TokenUsage
                {
                    Input = (long)reader.GetDouble(3),
                    Output = (long)reader.GetDouble(4),
                    CacheRead = (long)reader.GetDouble(5),
                    CacheWrite = (long)reader.GetDouble(6),
                };
                failures = (long)reader.GetDouble(7);
            }
        }

        return new SessionSummary
        {
            SessionId = sessionId,
            EventCount = count,
            FirstEventAt = first,
            LastEventAt = last,
            Tokens = tokens,
            Tasks = await CountByAsync("task", sessionId, cancellationToken).ConfigureAwait(false),
            Agents = await CountByAsync("agent", sessionId, cancellationToken).ConfigureAwait(false),
            Tools = await CountByAsync("tool", sessionId, cancellationToken).ConfigureAwait(false),
            Models = await CountByAsync("model", sessionId, cancellationToken).ConfigureAwait(false),
            Files = await CountByAsync("file", sessionId, cancellationToken).ConfigureAwait(false),
            Errors = await SummarizeErrorsAsync(sessionId, cancellationToken).ConfigureAwait(false),
            FailureCount = failures,
            Decisions = await ListDecisionsAsync(sessionId, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>Recording the same (session, sequence) again replaces it, so a retried snapshot is not an error.</summary>
    public async Task RecordSnapshotAsync(SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await using var command = Command("""
            INSERT INTO snapshots(session_id, sequence, created_at, path, size_bytes, uncompressed_bytes, sha256)
            VALUES ($id, $seq, $created, $path, $size, $raw, $sha)
            ON CONFLICT(session_id, sequence) DO UPDATE SET created_at = excluded.created_at, path = excluded.path,
                size_bytes = excluded.size_bytes, uncompressed_bytes = excluded.uncompressed_bytes, sha256 = excluded.sha256
            """, ("$id", snapshot.SessionId), ("$seq", snapshot.Sequence), ("$created", ToUnixMs(snapshot.CreatedAt)),
            ("$path", WorkspacePaths.ToStored(_root, snapshot.Path)), ("$size", snapshot.SizeBytes), ("$raw", snapshot.UncompressedBytes), ("$sha", snapshot.Sha256));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Oldest first; Json is null.</summary>
    public async IAsyncEnumerable<SnapshotInfo> ListSnapshotsAsync(string? sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT session_id, sequence, created_at, path, size_bytes, uncompressed_bytes, sha256 FROM snapshots
            WHERE $id IS NULL OR session_id = $id
            ORDER BY created_at, session_id, sequence
            """, ("$id", sessionId));
        await foreach (var snapshot in RowsAsync(command, reader => new SnapshotInfo
            {
                SessionId = reader.GetString(0),
                Sequence = reader.GetInt32(1),
                CreatedAt = FromUnixMs(reader.GetInt64(2)),
                Path = WorkspacePaths.FromStored(_root, reader.GetString(3))!,
                SizeBytes = reader.GetInt64(4),
                UncompressedBytes = reader.GetInt64(5),
                Sha256 = reader.GetString(6),
            }, cancellationToken).ConfigureAwait(false))
            yield return snapshot;
    }

    public async Task UpsertObjectAsync(StoredObject storedObject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storedObject);
        await using var command = Command("""
            INSERT INTO objects(tier, key, session_id, phase, size_bytes, md5, sha256, stored_at, verified_at)
            VALUES ($tier, $key, $session, $phase, $size, $md5, $sha, $stored, $verified)
            ON CONFLICT(tier, key) DO UPDATE SET session_id = excluded.session_id, phase = excluded.phase,
                size_bytes = excluded.size_bytes, md5 = excluded.md5, sha256 = excluded.sha256,
                stored_at = excluded.stored_at, verified_at = excluded.verified_at
            """, ("$tier", storedObject.Tier), ("$key", storedObject.Key), ("$session", storedObject.SessionId),
            ("$phase", storedObject.Phase), ("$size", storedObject.SizeBytes), ("$md5", storedObject.Md5), ("$sha", storedObject.Sha256),
            ("$stored", ToUnixMs(storedObject.StoredAt)), ("$verified", storedObject.VerifiedAt is { } v ? ToUnixMs(v) : null));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets (or clears, with null) when an object was last verified, but only while its row still holds the size
    /// and MD5 that were checked: a check that read the row earlier must not undo a backup that replaced the object since
    /// (Test-Backup streams its findings into Backup-Session, which rewrites objects while the check goes on).</summary>
    /// <returns>False when the row changed (or went) in between, and nothing was written.</returns>
    public async Task<bool> SetObjectVerifiedIfUnchangedAsync(StoredObject checkedObject, DateTimeOffset? verifiedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkedObject);
        await using var command = Command("""
            UPDATE objects SET verified_at = $verified
            WHERE tier = $tier AND key = $key AND size_bytes = $size AND md5 IS $md5
            """, ("$tier", checkedObject.Tier), ("$key", checkedObject.Key), ("$size", checkedObject.SizeBytes), ("$md5", checkedObject.Md5),
            ("$verified", verifiedAt is { } v ? ToUnixMs(v) : null));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async IAsyncEnumerable<StoredObject> ListObjectsAsync(string? tier, string? sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT tier, key, session_id, phase, size_bytes, md5, sha256, stored_at, verified_at FROM objects
            WHERE ($tier IS NULL OR tier = $tier) AND ($session IS NULL OR session_id = $session)
            ORDER BY tier, key
            """, ("$tier", tier), ("$session", sessionId));
        await foreach (var stored in RowsAsync(command, reader => new StoredObject
            {
                Tier = reader.GetString(0),
                Key = reader.GetString(1),
                SessionId = reader.IsDBNull(2) ? null : reader.GetString(2),
                Phase = reader.IsDBNull(3) ? null : reader.GetInt32(3),
                SizeBytes = reader.GetInt64(4),
                Md5 = reader.IsDBNull(5) ? null : reader.GetString(5),
                Sha256 = reader.IsDBNull(6) ? null : reader.GetString(6),
                StoredAt = FromUnixMs(reader.GetInt64(7)),
                VerifiedAt = reader.IsDBNull(8) ? null : FromUnixMs(reader.GetInt64(8)),
            }, cancellationToken).ConfigureAwait(false))
            yield return stored;
    }

    /// <summary>True when a copy of the session on a tier other than <paramref name="localTierName"/> has been verified:
    /// its manifest, which a backup stores and verifies only after every other file of the session.
    /// Tier names compare case-insensitively, as the policy does.</summary>
    public async Task<bool> HasVerifiedCopyAsync(string sessionId, string localTierName, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT EXISTS(SELECT 1 FROM objects WHERE session_id = $session AND tier <> $local AND verified_at IS NOT NULL
                                                AND (key = 'manifest.json' OR key LIKE '%/manifest.json'))
            """, ("$session", sessionId), ("$local", localTierName));
        return CatalogDialect.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) == 1;
    }

    /// <summary>Starts a run in status "Running" and returns its id.</summary>
    public async Task<long> StartBackupRunAsync(string sessionId, string tier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            INSERT INTO backup_runs(session_id, tier, started_at, status) VALUES ($session, $tier, $at, 'Running') RETURNING run_id
            """, ("$session", sessionId), ("$tier", tier), ("$at", ToUnixMs(at)));
        return CatalogDialect.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
    }

    public async Task FinishBackupRunAsync(long runId, string status, long bytesSent, string? error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            UPDATE backup_runs SET ended_at = $at, status = $status, bytes_sent = $bytes, error = $error WHERE run_id = $run
            """, ("$at", ToUnixMs(at)), ("$status", status), ("$bytes", bytesSent), ("$error", error), ("$run", runId));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            throw new ArgumentException($"No backup run {runId} in the catalog '{Path}'.", nameof(runId));
    }

    public void Dispose()
    {
        _eventInserter?.Dispose();
        _ingestKeyLookup?.Dispose();
        _connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _eventInserter?.Dispose();
        _ingestKeyLookup?.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    internal static void ThrowIfTooNew(string path, int version)
    {
        if (version > Migrations.Latest)
        {
            throw new TierStorageException(ErrorIds.CatalogTooNew, TierErrorKind.InvalidOperation,
                $"The catalog '{path}' has schema version {version}, newer than this TierStorage understands ({Migrations.Latest}). Update TierStorage.",
                path);
        }
    }

    private async Task<DbTransaction> BeginAsync(CancellationToken cancellationToken) =>
        await _connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

    private DbCommand Command(string sql, params (string Name, object? Value)[] parameters) => _dialect.Command(_connection, null, sql, parameters);

    private DbCommand BuildEventQuery(SessionEventQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 0) throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "Limit must not be negative.");
        var command = _connection.CreateCommand();
        var sql = new StringBuilder("SELECT ").Append(EventColumns).Append(" FROM events e");
        var where = new List<string>();
        void Filter(string condition, string name, object value)
        {
            where.Add(condition);
            _dialect.Bind(command, name, value);
        }
        if (query.SessionId is { } session) Filter("e.session_id = $session", "$session", session);
        // A semi-join on the phase's sessions rather than a JOIN: with a JOIN the planner walks a time index from
        // the start of history and probes each row's session, which on a large database reads every older phase.
        if (query.Phase is { } phase) Filter("e.session_id IN (SELECT session_id FROM sessions WHERE phase = $phase)", "$phase", phase);
        // The origin filters: a semi-join on the machine's sessions (ix_sessions_origin), as for the phase.
        if (SchemaVersion >= 15 && query.Machine is { } machine) Filter($"e.session_id IN (SELECT session_id FROM sessions WHERE {OriginTerm("machine", "$machine", machine)})", "$machine", OriginValue(machine)!);
        if (SchemaVersion >= 15 && query.User is { } user) Filter($"e.session_id IN (SELECT session_id FROM sessions WHERE {OriginTerm("user_name", "$user", user)})", "$user", OriginValue(user)!);
        // A session holds a small share of all events, a type, agent or tool a large one; without statistics the planner
        // cannot tell, so with a session given the unary + keeps it off those indexes (ix_events_session_ts answers).
        var column = query.SessionId is null || !_dialect.IsSqlite ? "e." : "+e.";
        if (query.Type is { } type) Filter(column + "type = $type", "$type", EventJson.ToWireName(type));
        if (query.Agent is { } agent) Filter(column + "agent = $agent", "$agent", agent);
        if (query.Tool is { } tool) Filter(column + "tool = $tool", "$tool", tool);
        if (query.Model is { } model) Filter("e.model = $model", "$model", model);
        if (query.Task is { } task) Filter("e.task = $task", "$task", task);
        if (query.Success is { } success) Filter("e.success = $success", "$success", success ? 1L : 0L);
        if (query.Since is { } since) Filter("e.ts >= $since", "$since", ToUnixMs(since));
        if (query.Until is { } until) Filter("e.ts <= $until", "$until", ToUnixMs(until));
        var order = query.Descending ? " ORDER BY e.ts DESC, e.event_id DESC" : " ORDER BY e.ts, e.event_id";
        if (!_dialect.IsSqlite && query.SessionId is null && query.Limit is not null && (query.Phase is not null || query.Machine is not null || query.User is not null))
        {
            // PostgreSQL, the first (or last) N of a phase's (or a machine's) sessions: the planner walks ix_events_ts from the
            // start of history and probes each row's session, which on 10,000,000 events read 900,000 rows for the first 100 of
            // one phase (5.6 s). Instead, from ix_events_session_ts: (c) each of those sessions' first matching event, one
            // index probe each; (b) the N-th matching event of the session that starts first, a bound on the N-th overall,
            // since that session alone has N events up to it; then each session that starts no later than that bound gives its
            // own first N (a LATERAL join), and the N are taken from their merge. The same rows and order as the plain query:
            // a session starting after the bound has no event among the first N. (Last N: the same, mirrored.)
            var sessionFilter = new List<string>();
            if (query.Phase is not null) sessionFilter.Add("s.phase = $phase");
            if (query.Machine is not null && SchemaVersion >= 15) sessionFilter.Add(OriginTerm("s.machine", "$machine", query.Machine));
            if (query.User is not null && SchemaVersion >= 15) sessionFilter.Add(OriginTerm("s.user_name", "$user", query.User));
            var eventFilter = string.Join(" AND ", where.Where(w => !w.StartsWith("e.session_id IN", StringComparison.Ordinal)).Prepend("e.session_id = {0}.session_id"));
            var direction = query.Descending ? " DESC" : "";
            var columns = EventColumns.Replace("e.", "x.", StringComparison.Ordinal);
            sql.Clear()
                .Append("WITH c AS MATERIALIZED (SELECT s.session_id, f.ts AS edge FROM sessions s CROSS JOIN LATERAL (SELECT e.ts FROM events e WHERE ")
                .Append(eventFilter.Replace("{0}", "s", StringComparison.Ordinal)).Append(" ORDER BY e.ts").Append(direction).Append(" LIMIT 1) f")
                .Append(sessionFilter.Count > 0 ? " WHERE " + string.Join(" AND ", sessionFilter) : "").Append("), ")
                .Append("b AS (SELECT x.ts FROM (SELECT session_id FROM c ORDER BY edge").Append(direction).Append(" LIMIT 1) one CROSS JOIN LATERAL (SELECT e.ts FROM events e WHERE ")
                .Append(eventFilter.Replace("{0}", "one", StringComparison.Ordinal)).Append(" ORDER BY e.ts").Append(direction).Append(" OFFSET GREATEST($limit - 1, 0) LIMIT 1) x) ")
                .Append("SELECT ").Append(columns).Append(" FROM c CROSS JOIN LATERAL (SELECT ").Append(EventColumns).Append(" FROM events e WHERE ")
                .Append(eventFilter.Replace("{0}", "c", StringComparison.Ordinal)).Append(order).Append(" LIMIT $limit) x")
                .Append(" WHERE NOT EXISTS (SELECT 1 FROM b) OR c.edge ").Append(query.Descending ? ">=" : "<=").Append(" (SELECT ts FROM b)")
                .Append(order.Replace("e.", "x.", StringComparison.Ordinal)).Append(" LIMIT $limit");
            _dialect.Bind(command, "$limit", query.Limit.Value);
            command.CommandText = _dialect.Translate(sql.ToString());
            return command;
        }
        if (where.Count > 0) sql.Append(" WHERE ").AppendJoin(" AND ", where);
        sql.Append(order);
        if (query.Limit is { } limit)
        {
            sql.Append(" LIMIT $limit");
            _dialect.Bind(command, "$limit", limit);
        }
        command.CommandText = _dialect.Translate(sql.ToString());
        return command;
    }

    private async Task<IReadOnlyList<NameCount>> CountByAsync(string column, string sessionId, CancellationToken cancellationToken)
    {
        // column comes from the fixed set in SummarizeSessionAsync, never from input.
        await using var command = Command($"""
            SELECT {column}, COUNT(*), TOTAL(duration_ms), TOTAL(CASE WHEN {FailurePredicate} THEN 1 ELSE 0 END)
            FROM events WHERE session_id = $id AND {column} IS NOT NULL
            GROUP BY {column} ORDER BY COUNT(*) DESC, {column}
            """, ("$id", sessionId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<NameCount>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            result.Add(new NameCount(reader.GetString(0), reader.GetInt64(1), (long)reader.GetDouble(2), (long)reader.GetDouble(3)));
        return result;
    }

    /// <summary>Events of type error and events that name an error_type, grouped by error_type ("unspecified" when absent).</summary>
    private async Task<IReadOnlyList<ErrorSummary>> SummarizeErrorsAsync(string sessionId, CancellationToken cancellationToken)
    {
        var counts = new List<(string Type, long Count)>();
        var files = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var command = Command("""
            SELECT COALESCE(error_type, 'unspecified') AS kind, COUNT(*) FROM events
            WHERE session_id = $id AND (type = 'error' OR error_type IS NOT NULL)
            GROUP BY kind ORDER BY COUNT(*) DESC, kind
            """, ("$id", sessionId)))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) counts.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        await using (var command = Command("""
            SELECT DISTINCT COALESCE(error_type, 'unspecified'), file FROM events
            WHERE session_id = $id AND (type = 'error' OR error_type IS NOT NULL) AND file IS NOT NULL
            ORDER BY 1, 2
            """, ("$id", sessionId)))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var kind = reader.GetString(0);
                if (!files.TryGetValue(kind, out var list)) files[kind] = list = [];
                list.Add(reader.GetString(1));
            }
        }
        return counts.Select(c => new ErrorSummary(c.Type, c.Count, files.TryGetValue(c.Type, out var f) ? f : [])).ToList();
    }

    /// <summary>The first decisions of the session in time order: the task, else the data's summary
    /// (or decision/text) string, else the data object as JSON.</summary>
    private async Task<IReadOnlyList<string>> ListDecisionsAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT task, data FROM events
            WHERE session_id = $id AND type = 'decision' AND (task IS NOT NULL OR data IS NOT NULL)
            ORDER BY ts, event_id LIMIT $max
            """, ("$id", sessionId), ("$max", MaxDecisions));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(0))
            {
                result.Add(reader.GetString(0));
                continue;
            }
            var json = reader.GetString(1);
            var data = EventJson.ParseData(json)!;
            var text = new[] { "summary", "decision", "text" }
                .Select(key => data.TryGetValue(key, out var value) ? value as string : null)
                .FirstOrDefault(value => !string.IsNullOrWhiteSpace(value));
            result.Add(text ?? json);
        }
        return result;
    }

    private (string, object?)[] SessionParameters(SessionRecord session) =>
    [
        ("$id", session.SessionId), ("$phase", session.Phase), ("$started", ToUnixMs(session.StartedAt)),
        ("$ended", session.EndedAt is { } ended ? ToUnixMs(ended) : null), ("$state", session.State.ToString()),
        ("$log", WorkspacePaths.ToStored(_root, session.LogPath)), ("$handoff", WorkspacePaths.ToStored(_root, session.HandoffPath)),
        ("$indexed", session.LogIndexedBytes), ("$count", session.EventCount), ("$machine", session.Machine), ("$user", session.User),
    ];

    private SessionRecord ReadSession(DbDataReader reader) => new()
    {
        SessionId = reader.GetString(0),
        Phase = reader.GetInt32(1),
        StartedAt = FromUnixMs(reader.GetInt64(2)),
        EndedAt = reader.IsDBNull(3) ? null : FromUnixMs(reader.GetInt64(3)),
        State = Enum.Parse<SessionState>(reader.GetString(4)),
        LogPath = WorkspacePaths.FromStored(_root, reader.IsDBNull(5) ? null : reader.GetString(5)),
        HandoffPath = WorkspacePaths.FromStored(_root, reader.IsDBNull(6) ? null : reader.GetString(6)),
        LogIndexedBytes = reader.GetInt64(7),
        EventCount = reader.GetInt64(8),
        Machine = reader.FieldCount > 9 && !reader.IsDBNull(9) ? reader.GetString(9) : null,
        User = reader.FieldCount > 10 && !reader.IsDBNull(10) ? reader.GetString(10) : null,
    };

    private static SessionEvent ReadEvent(DbDataReader reader)
    {
        EventJson.TryParseType(reader.GetString(3), out var type);
        return new SessionEvent
        {
            EventId = reader.GetInt64(0),
            SessionId = reader.GetString(1),
            Timestamp = FromUnixMs(reader.GetInt64(2)),
            Type = type,
            Agent = reader.IsDBNull(4) ? null : reader.GetString(4),
            Tool = reader.IsDBNull(5) ? null : reader.GetString(5),
            Task = reader.IsDBNull(6) ? null : reader.GetString(6),
            DurationMs = reader.IsDBNull(7) ? null : reader.GetInt64(7),
            Tokens = reader.IsDBNull(8) ? null : new TokenUsage
            {
                Input = reader.GetInt64(8),
                Output = reader.GetInt64(9),
                CacheRead = reader.GetInt64(10),
                CacheWrite = reader.GetInt64(11),
            },
            Model = reader.IsDBNull(12) ? null : reader.GetString(12),
            Success = reader.IsDBNull(13) ? null : reader.GetInt64(13) != 0,
            ErrorType = reader.IsDBNull(14) ? null : reader.GetString(14),
            File = reader.IsDBNull(15) ? null : reader.GetString(15),
            Data = reader.IsDBNull(16) ? null : EventJson.ParseData(reader.GetString(16)),
            Id = reader.IsDBNull(17) ? null : reader.GetString(17),
        };
    }

    private static TierStorageException SessionNotFound(string sessionId) =>
        new(ErrorIds.SessionNotFound, TierErrorKind.ObjectNotFound, $"Session '{sessionId}' is not in the catalog.", sessionId);

    private static long ToUnixMs(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromUnixMs(long value) => DateTimeOffset.FromUnixTimeMilliseconds(value);
}
