using Microsoft.Data.Sqlite;
using Npgsql;

namespace TierStorage.Engine.Catalog;

/// <summary>How far a transcript was imported: bytes of complete lines, a hash of its first line, and the session it feeds.</summary>
public sealed record IngestOffset(string Path, long Offset, string HeadHash, string SessionId, DateTimeOffset ImportedAt);

/// <summary>Something a transcript left open (a tool use waiting for its result, a subagent run whose end is not known yet), as the
/// importer serialized it; <paramref name="Item"/> names it within the transcript.</summary>
public sealed record PendingRow(string Path, string Item, string State);

/// <summary>A Task call that started a subagent: its type, a hash of the prompt it was given, and (once its result names it) the agent id
/// Claude Code gave the subagent, which also names the subagent's transcript (agent-&lt;agentId&gt;.jsonl).</summary>
public sealed record AgentLink(string ToolUseId, string SubagentType, string? PromptHash, string? AgentId);

/// <summary>Import progress of external transcripts (migrations 7 and 8).</summary>
public sealed partial class CatalogDatabase
{
    public async Task<IngestOffset?> GetIngestOffsetAsync(string path, CancellationToken cancellationToken)
    {
        await using var command = Command("""SELECT "offset", head_hash, session_id, imported_at FROM ingest_offsets WHERE path = $path""", ("$path", path));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new IngestOffset(path, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), FromUnixMs(reader.GetInt64(3)));
    }

    /// <summary>Saves how far a transcript was imported together with what it leaves open, the Task calls it started and
    /// the count of its lines read now that were not valid events (<paramref name="rejectedLines"/>), in one transaction,
    /// so a crash leaves either the old state or the new one.</summary>
    public async Task SaveIngestStateAsync(IngestOffset offset, IReadOnlyList<PendingRow> pending, IReadOnlyList<AgentLink> links, long rejectedLines,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rejectedLines);
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(links);
        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        async Task RunAsync(string sql, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(sql, parameters);
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await RunAsync("""
            INSERT INTO ingest_offsets(path, "offset", head_hash, session_id, imported_at) VALUES ($path, $offset, $head, $session, $at)
            ON CONFLICT(path) DO UPDATE SET "offset" = excluded."offset", head_hash = excluded.head_hash,
                session_id = excluded.session_id, imported_at = excluded.imported_at
            """, ("$path", offset.Path), ("$offset", offset.Offset), ("$head", offset.HeadHash), ("$session", offset.SessionId),
            ("$at", ToUnixMs(offset.ImportedAt)));
        if (rejectedLines > 0)
            await RunAsync("UPDATE sessions SET rejected_lines = rejected_lines + $count WHERE session_id = $session",
                ("$count", rejectedLines), ("$session", offset.SessionId));
        await RunAsync("DELETE FROM ingest_pending WHERE path = $path", ("$path", offset.Path));
        foreach (var row in pending)
            await RunAsync("INSERT INTO ingest_pending(path, item, session_id, state) VALUES ($path, $item, $session, $state)",
                ("$path", offset.Path), ("$item", row.Item), ("$session", offset.SessionId), ("$state", row.State));
        foreach (var link in links)
            await RunAsync("""
                INSERT INTO ingest_agent_links(session_id, tool_use_id, subagent_type, prompt_hash, agent_id) VALUES ($session, $id, $type, $prompt, $agent)
                ON CONFLICT(session_id, tool_use_id) DO UPDATE SET subagent_type = excluded.subagent_type,
                    prompt_hash = coalesce(excluded.prompt_hash, ingest_agent_links.prompt_hash), agent_id = coalesce(excluded.agent_id, ingest_agent_links.agent_id)
                """, ("$session", offset.SessionId), ("$id", link.ToolUseId), ("$type", link.SubagentType), ("$prompt", link.PromptHash), ("$agent", link.AgentId));
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What transcripts left open: of one transcript, or (path null) of every transcript feeding the session.</summary>
    public async Task<IReadOnlyList<PendingRow>> GetPendingAsync(string sessionId, string? path, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT path, item, state FROM ingest_pending WHERE session_id = $session AND ($path IS NULL OR path = $path) ORDER BY path, rowid
            """, ("$session", sessionId), ("$path", path));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<PendingRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) rows.Add(new PendingRow(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return rows;
    }

    /// <summary>Forgets what the session's transcripts left open (written as events when the session was completed).</summary>
    public async Task DeletePendingAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM ingest_pending WHERE session_id = $session", ("$session", sessionId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AgentLink>> GetAgentLinksAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT tool_use_id, subagent_type, prompt_hash, agent_id FROM ingest_agent_links WHERE session_id = $session ORDER BY rowid",
            ("$session", sessionId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var links = new List<AgentLink>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            links.Add(new AgentLink(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        return links;
    }

    /// <summary>Which of <paramref name="keys"/> (see <see cref="IngestKeys"/>) the session's events already hold; each looked up
    /// in ix_events_ingest_key (by the key's tail, then the row's whole key and session), so the cost follows the number of keys, not the size of the session.</summary>
    public Task<IReadOnlySet<string>> FindIngestKeysAsync(string sessionId, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return FindKeysAsync(sessionId, keys, elsewhere: false, cancellationToken);
    }

    /// <summary>Which of the model-call <paramref name="keys"/> ("llm_call:&lt;message id&gt;|&lt;request id&gt;") events of other sessions
    /// hold: calls Claude Code copied into another session's transcript (a resumed conversation). One seek per key in
    /// ix_events_ingest_key (keyed by the ingest key, or its tail), so its cost follows the keys asked for, not the catalog's size.</summary>
    public Task<IReadOnlySet<string>> FindIngestKeysElsewhereAsync(string sessionId, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return FindKeysAsync(sessionId, keys, elsewhere: true, cancellationToken);
    }

    private async Task<IReadOnlySet<string>> FindKeysAsync(string sessionId, IReadOnlyCollection<string> keys, bool elsewhere, CancellationToken cancellationToken)
    {
        _ingestKeyLookup ??= _connection is SqliteConnection sqlite ? new IngestKeyLookup(sqlite, SchemaVersion) : new PostgresIngestKeyLookup((NpgsqlConnection)_connection);
        return await _ingestKeyLookup.FindAsync(sessionId, keys, elsewhere, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The detail lines of EXPLAIN QUERY PLAN for the key lookup of <see cref="FindIngestKeysAsync"/> (or, <paramref name="elsewhere"/>,
    /// of <see cref="FindIngestKeysElsewhereAsync"/>).</summary>
    internal async Task<IReadOnlyList<string>> ExplainIngestKeyQueryAsync(string sessionId, CancellationToken cancellationToken, bool elsewhere = false)
    {
        var parameters = new (string Name, object? Value)[IngestKeyLookup.KeysPerQuery + 1];
        parameters[0] = ("?1", sessionId);
        for (var i = 1; i < parameters.Length; i++) parameters[i] = ("?" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), i == 1 ? "llm_call:m|r" : null);
        await using var command = Command("EXPLAIN QUERY PLAN " + IngestKeyLookup.Sql(IngestKeyLookup.KeysPerQuery, elsewhere, SchemaVersion), parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var details = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) details.Add(reader.GetString(3));
        return details;
    }
}
