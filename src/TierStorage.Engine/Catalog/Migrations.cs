namespace TierStorage.Engine.Catalog;

/// <summary>One schema step. Applied once, in its own transaction, and recorded in schema_migrations.</summary>
internal sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// The catalog schema as an ordered list of steps. Never edit a released step: add a new one, because
/// databases already on disk have recorded the old one as applied. Times are unix milliseconds (UTC),
/// which sort and round-trip exactly.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "sessions, phases, events, snapshots", """
            CREATE TABLE phases (
                number      INTEGER PRIMARY KEY,
                name        TEXT,
                started_at  INTEGER NOT NULL,
                ended_at    INTEGER,
                reviewed_at INTEGER
            );

            CREATE TABLE sessions (
                session_id        TEXT PRIMARY KEY NOT NULL,
                phase             INTEGER NOT NULL REFERENCES phases(number),
                started_at        INTEGER NOT NULL,
                ended_at          INTEGER,
                state             TEXT NOT NULL CHECK (state IN ('Active', 'Completed', 'BackedUp', 'Archived')),
                log_path          TEXT,
                handoff_path      TEXT,
                log_indexed_bytes INTEGER NOT NULL DEFAULT 0 CHECK (log_indexed_bytes >= 0),
                event_count       INTEGER NOT NULL DEFAULT 0 CHECK (event_count >= 0)
            );
            CREATE INDEX ix_sessions_phase ON sessions(phase, started_at);

            CREATE TABLE events (
                event_id           INTEGER PRIMARY KEY,
                session_id         TEXT NOT NULL REFERENCES sessions(session_id),
                ts                 INTEGER NOT NULL,
                type               TEXT NOT NULL,
                agent              TEXT,
                tool               TEXT,
                task               TEXT,
                duration_ms        INTEGER,
                input_tokens       INTEGER,
                output_tokens      INTEGER,
                cache_read_tokens  INTEGER,
                cache_write_tokens INTEGER,
                model              TEXT,
                success            INTEGER,
                error_type         TEXT,
                file               TEXT,
                data               TEXT
            );
            -- Every index ends in ts (and implicitly event_id, the rowid), so each filter is answered in
            -- time order straight from the index, without a sort, and LIMIT stops early.
            CREATE INDEX ix_events_session_ts      ON events(session_id, ts);
            CREATE INDEX ix_events_session_type_ts ON events(session_id, type, ts);
            CREATE INDEX ix_events_ts              ON events(ts);
            CREATE INDEX ix_events_type_ts         ON events(type, ts);
            CREATE INDEX ix_events_agent_ts        ON events(agent, ts);
            CREATE INDEX ix_events_tool_ts         ON events(tool, ts);
            CREATE INDEX ix_events_model_ts        ON events(model, ts);

            CREATE TABLE snapshots (
                session_id         TEXT NOT NULL REFERENCES sessions(session_id),
                sequence           INTEGER NOT NULL,
                created_at         INTEGER NOT NULL,
                path               TEXT NOT NULL,
                size_bytes         INTEGER NOT NULL,
                uncompressed_bytes INTEGER NOT NULL,
                sha256             TEXT NOT NULL,
                PRIMARY KEY (session_id, sequence)
            );
            """),

        // No foreign keys to sessions here: invariant 3 rebuilds the catalog from the tiers, where objects
        // and runs are found before (or without) the session rows they belong to.
        new(2, "objects and backup runs", """
            CREATE TABLE objects (
                tier        TEXT NOT NULL COLLATE NOCASE,
                key         TEXT NOT NULL,
                session_id  TEXT,
                phase       INTEGER,
                size_bytes  INTEGER NOT NULL,
                md5         TEXT,
                sha256      TEXT,
                stored_at   INTEGER NOT NULL,
                verified_at INTEGER,
                PRIMARY KEY (tier, key)
            );
            CREATE INDEX ix_objects_session ON objects(session_id, tier);

            CREATE TABLE backup_runs (
                run_id     INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL,
                tier       TEXT NOT NULL COLLATE NOCASE,
                started_at INTEGER NOT NULL,
                ended_at   INTEGER,
                status     TEXT NOT NULL,
                bytes_sent INTEGER NOT NULL DEFAULT 0,
                error      TEXT
            );
            CREATE INDEX ix_backup_runs_session ON backup_runs(session_id, started_at);
            """),

        // Every index costs each appended event a B-tree insert (about 0.8 µs each here): these two served no query
        // that ix_events_session_ts does not answer almost as fast, and model totals are aggregates that scan anyway.
        new(3, "drop the session+type and model event indexes", """
            DROP INDEX IF EXISTS ix_events_session_type_ts;
            DROP INDEX IF EXISTS ix_events_model_ts;
            """),

        // Resumable uploads survive the process (a closed laptop resumes from the offset), and backups that could not
        // reach their tier wait here until Sync-BackupQueue or the next Backup-Session.
        new(4, "upload states and the backup queue", """
            CREATE TABLE upload_states (
                tier         TEXT NOT NULL COLLATE NOCASE,
                key          TEXT NOT NULL,
                session_uri  TEXT NOT NULL,
                offset_bytes INTEGER NOT NULL CHECK (offset_bytes >= 0),
                total_bytes  INTEGER NOT NULL CHECK (total_bytes >= 0),
                content_md5  TEXT NOT NULL,
                updated_at   INTEGER NOT NULL,
                PRIMARY KEY (tier, key)
            );

            CREATE TABLE backup_queue (
                session_id TEXT NOT NULL,
                tier       TEXT NOT NULL COLLATE NOCASE,
                queued_at  INTEGER NOT NULL,
                attempts   INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                PRIMARY KEY (session_id, tier)
            );
            """),

        // A thaw from Deep Archive takes hours and costs money: the request is recorded so a later call reports it
        // (and its price) instead of asking again.
        new(5, "thaw requests", """
            CREATE TABLE thaw_requests (
                tier           TEXT NOT NULL COLLATE NOCASE,
                key            TEXT NOT NULL,
                requested_at   INTEGER NOT NULL,
                retrieval_tier TEXT NOT NULL,
                ready_after    INTEGER NOT NULL,
                cost_usd       TEXT NOT NULL,
                PRIMARY KEY (tier, key)
            );
            """),

        // An archive deleted by retention.archive_days leaves its phase marked, so the phase is never archived again.
        new(6, "phase archive expiry", """
            ALTER TABLE phases ADD COLUMN archive_expired_at INTEGER;
            """),

        // Claude Code transcripts only grow: remembering how far each was imported (and its first line, to notice a
        // file that was replaced) makes a re-import read only the new lines.
        new(7, "ingest offsets", """
            CREATE TABLE ingest_offsets (
                path        TEXT PRIMARY KEY,
                offset      INTEGER NOT NULL CHECK (offset >= 0),
                head_hash   TEXT NOT NULL,
                session_id  TEXT NOT NULL,
                imported_at INTEGER NOT NULL
            );
            """),

        // Incremental Claude Code import (Import-ClaudeSession). The key index lets a re-import ask "was this model call,
        // tool use or subagent run imported already?" of the events themselves, key by key, instead of reading the whole
        // session back; it covers events imported before this step and cannot disagree with them after a crash. What is still
        // open when an import stops (tool uses waiting for their result, subagent runs whose end is not known yet) and the
        // Task calls that started subagents survive between imports.
        new(8, "ingest keys, pending items, subagent links", $"""
            CREATE INDEX ix_events_ingest_key ON events(session_id, {IngestKeySql}) WHERE {IngestKeyFilterSql};

            CREATE TABLE ingest_pending (
                path       TEXT NOT NULL,
                item       TEXT NOT NULL,
                session_id TEXT NOT NULL,
                state      TEXT NOT NULL,
                PRIMARY KEY (path, item)
            );
            CREATE INDEX ix_ingest_pending_session ON ingest_pending(session_id);

            CREATE TABLE ingest_agent_links (
                session_id    TEXT NOT NULL,
                tool_use_id   TEXT NOT NULL,
                subagent_type TEXT NOT NULL,
                prompt_hash   TEXT,
                agent_id      TEXT,
                PRIMARY KEY (session_id, tool_use_id)
            );
            """),

        // Lines of a log or transcript that were not valid events: left out of the catalog, counted so that the phase
        // review can say so instead of reporting figures that silently miss them.
        new(9, "rejected lines per session", """
            ALTER TABLE sessions ADD COLUMN rejected_lines INTEGER NOT NULL DEFAULT 0 CHECK (rejected_lines >= 0);
            """),

        // An event's identity (its log's "id" field, SessionEvent.Id): the input that sent it may be sent again after a
        // crash, and the unique index is what lets a rerun store only what the first run did not (issue 11 #6). Events
        // without one (native appends stamped on arrival, catalog-free hook lines, older logs) stay out of the index.
        new(10, "event ids", """
            ALTER TABLE events ADD COLUMN event_key TEXT;
            CREATE UNIQUE INDEX ux_events_session_key ON events(session_id, event_key) WHERE event_key IS NOT NULL;
            """),

        // Which namespace of the tiers this workspace's objects live under (invariant 7), mirrored from workspace.json so
        // that losing either one loses nothing. One row.
        new(11, "workspace identity", """
            CREATE TABLE workspace_identity (
                singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
                id         TEXT NOT NULL,
                namespace  TEXT NOT NULL,
                root       TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            """),

        // A model call Claude Code copied into another session's transcript (a resumed conversation) is counted once, as
        // ccusage counts it: looking its key up in every other session must be a seek by key, not a scan of every imported event.
        new(12, "ingest keys across sessions", $"""
            CREATE INDEX ix_events_ingest_key_any ON events({IngestKeySql}, session_id) WHERE {IngestKeyFilterSql};
            """),

        // A phase review reads each session's rollup (Review/SessionRollup: its figures folded once, when it completes)
        // instead of every event. A rollup stands for the events it was folded from: event_count, max_event_id and
        // id_sum are those events' count, largest and summed event_id, and prices the price table its costs used; the
        // review recomputes the first three from the events index and rebuilds any rollup that differs (events appended
        // after completion, an import, a catalog rebuild) or was priced by another table. Gone with its session, and with
        // any delete or update of one of its events.
        new(13, "session rollups", """
            CREATE TABLE session_rollups (
                session_id   TEXT PRIMARY KEY NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
                format       INTEGER NOT NULL,
                event_count  INTEGER NOT NULL CHECK (event_count >= 0),
                max_event_id INTEGER NOT NULL,
                id_sum       INTEGER NOT NULL,
                prices       TEXT NOT NULL,
                built_at     INTEGER NOT NULL,
                body         BLOB NOT NULL
            );
            -- An insert always changes the key (the count grows); a delete or an update of an event might not (the same
            -- count and ids again), so either one drops the rollup outright. Appends, the hot path, pay nothing here.
            CREATE TRIGGER tr_events_delete_rollup AFTER DELETE ON events
            BEGIN DELETE FROM session_rollups WHERE session_id = OLD.session_id; END;
            CREATE TRIGGER tr_events_update_rollup AFTER UPDATE ON events
            BEGIN DELETE FROM session_rollups WHERE session_id IN (OLD.session_id, NEW.session_id); END;
            """),

        // The ingest key of migrations 8 and 12 as a stored column, filled by the insert (IngestKeys.Of) instead of computed
        // by SQLite from each inserted event's JSON for two expression indexes: one plain index keyed by it answers both the
        // lookup in a session (key, then session) and the one in every other session. Rows already stored get their key from
        // their data (IngestKeys.Sql, the same key); the rollup trigger is set aside meanwhile, as the backfill changes no
        // figure a rollup holds.
        new(14, "stored ingest keys", $"""
            ALTER TABLE events ADD COLUMN ingest_key TEXT;
            DROP TRIGGER tr_events_update_rollup;
            UPDATE events SET ingest_key = {IngestKeys.Sql()} WHERE {IngestKeyFilterSql};
            CREATE TRIGGER tr_events_update_rollup AFTER UPDATE ON events
            BEGIN DELETE FROM session_rollups WHERE session_id IN (OLD.session_id, NEW.session_id); END;
            DROP INDEX ix_events_ingest_key;
            DROP INDEX ix_events_ingest_key_any;
            CREATE INDEX ix_events_ingest_key ON events(ingest_key, session_id) WHERE ingest_key IS NOT NULL;
            """),
        // Issue 14: a catalog shared by a team's machines (PostgreSQL) tells each machine's sessions apart by where they were
        // recorded. NULL for sessions recorded before (they are this workspace's own).
        new(15, "session origin", """
            ALTER TABLE sessions ADD COLUMN machine TEXT;
            ALTER TABLE sessions ADD COLUMN user_name TEXT;
            CREATE INDEX ix_sessions_origin ON sessions(machine, user_name);
            """),
        // Issue 12: the key index of migration 14 held each whole key with its session (~110 bytes an entry, 8 MB for 70,000
        // imported events), and keys are random, so every transcript an import stored rewrote most of its pages: 2,000 pages of
        // write-ahead log per commit, a quarter of the import's time on its one writer. Keyed by the key's last 12 characters only
        // (the random end of an id; ~20 bytes an entry), it is a sixth of the size; a lookup checks the row's whole key and session.
        new(16, "compact ingest key index", $"""
            DROP INDEX ix_events_ingest_key;
            CREATE INDEX ix_events_ingest_key ON events({IngestKeyTailSql}) WHERE ingest_key IS NOT NULL;
            """),
    ];

    /// <summary>Migrations 8 and 12 only (migration 14 replaced their indexes by the column ingest_key, see IngestKeys).
    /// The dedupe key of an imported event, computed from its data: "tool_call:&lt;tool_use_id&gt;",
    /// "agent_invocation:&lt;tool_use_id or agent_id&gt;", "llm_call:&lt;message_id&gt;|&lt;request_id&gt;" (see ClaudeTranscriptParser.KeyOf).
    /// Kept verbatim: released steps never change.</summary>
    internal const string IngestKeySql =
        "CASE WHEN json_valid(data) THEN coalesce(type || ':' || json_extract(data, '$.tool_use_id'), "
        + "type || ':' || json_extract(data, '$.message_id') || '|' || coalesce(json_extract(data, '$.request_id'), ''), "
        + "type || ':' || json_extract(data, '$.agent_id')) END";

    // Only events that carry an id from a transcript are indexed: a cheap substring test keeps every other event (native
    // ones, hook ones with plain data) out of the index without parsing its JSON on each insert. Migration 14's backfill
    // reads only those rows too.
    internal const string IngestKeyFilterSql =
        "data IS NOT NULL AND type IN ('llm_call', 'tool_call', 'agent_invocation') " +
        "AND (instr(data, '\"tool_use_id\"') > 0 OR instr(data, '\"message_id\"') > 0 OR instr(data, '\"agent_id\"') > 0)";

    /// <summary>What migration 16's ix_events_ingest_key is keyed by; <see cref="IngestKeyLookup"/> asks for the same expression of
    /// each key it looks up. Kept verbatim: released steps never change.</summary>
    internal const string IngestKeyTailSql = "substr(ingest_key, -12)";

    public static int Latest => All[^1].Version;
}
