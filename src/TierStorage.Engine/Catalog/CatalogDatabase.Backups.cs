using System.Runtime.CompilerServices;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Catalog;

/// <summary>A thaw asked of an archive tier: when, how (Standard or Bulk), when it should be readable, and its price.</summary>
public sealed record ThawRequest(string Tier, string Key, DateTimeOffset RequestedAt, string RetrievalTier, DateTimeOffset ReadyAfter, decimal CostUsd);

/// <summary>A phase row: when it started, and when its archive was deleted by retention.archive_days (null if never).</summary>
public sealed record PhaseRecord(int Number, string? Name, DateTimeOffset StartedAt, DateTimeOffset? ArchiveExpiredAt)
{
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? ReviewedAt { get; init; }
}

/// <summary>A backup waiting for its tier.</summary>
public sealed record QueuedBackup(string SessionId, string Tier, DateTimeOffset QueuedAt, int Attempts, string? LastError);

/// <summary>Upload states and the backup queue (migration 4).</summary>
public sealed partial class CatalogDatabase : IUploadStateStore
{
    public async Task<UploadState?> GetAsync(string tier, string key, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT session_uri, offset_bytes, total_bytes, content_md5, updated_at FROM upload_states WHERE tier = $tier AND key = $key
            """, ("$tier", tier), ("$key", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new UploadState
        {
            Tier = tier,
            Key = key,
            SessionUri = reader.GetString(0),
            Offset = reader.GetInt64(1),
            TotalBytes = reader.GetInt64(2),
            ContentMd5 = reader.GetString(3),
            UpdatedAt = FromUnixMs(reader.GetInt64(4)),
        };
    }

    public async Task SaveAsync(UploadState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        await using var command = Command("""
            INSERT INTO upload_states(tier, key, session_uri, offset_bytes, total_bytes, content_md5, updated_at)
            VALUES ($tier, $key, $uri, $offset, $total, $md5, $at)
            ON CONFLICT(tier, key) DO UPDATE SET session_uri = excluded.session_uri, offset_bytes = excluded.offset_bytes,
                total_bytes = excluded.total_bytes, content_md5 = excluded.content_md5, updated_at = excluded.updated_at
            """, ("$tier", state.Tier), ("$key", state.Key), ("$uri", state.SessionUri), ("$offset", state.Offset),
            ("$total", state.TotalBytes), ("$md5", state.ContentMd5), ("$at", ToUnixMs(state.UpdatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string tier, string key, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM upload_states WHERE tier = $tier AND key = $key", ("$tier", tier), ("$key", key));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues a backup (or counts one more failed attempt of a queued one).</summary>
    public async Task EnqueueBackupAsync(string sessionId, string tier, string? error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            INSERT INTO backup_queue(session_id, tier, queued_at, attempts, last_error) VALUES ($session, $tier, $at, 1, $error)
            ON CONFLICT(session_id, tier) DO UPDATE SET attempts = backup_queue.attempts + 1, last_error = excluded.last_error
            """, ("$session", sessionId), ("$tier", tier), ("$at", ToUnixMs(at)), ("$error", error));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DequeueBackupAsync(string sessionId, string tier, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM backup_queue WHERE session_id = $session AND tier = $tier", ("$session", sessionId), ("$tier", tier));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queued backups, oldest first.</summary>
    public async IAsyncEnumerable<QueuedBackup> ListQueuedBackupsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT session_id, tier, queued_at, attempts, last_error FROM backup_queue ORDER BY queued_at, session_id");
        await foreach (var queued in RowsAsync(command, reader => new QueuedBackup(reader.GetString(0), reader.GetString(1), FromUnixMs(reader.GetInt64(2)), reader.GetInt32(3),
            reader.IsDBNull(4) ? null : reader.GetString(4)), cancellationToken).ConfigureAwait(false))
            yield return queued;
    }

    /// <summary>Removes the catalog rows of a tier's objects under a key prefix (a session folder that is gone).</summary>
    public async Task DeleteObjectsAsync(string tier, string keyPrefix, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM objects WHERE tier = $tier AND substr(key, 1, length($prefix)) = $prefix",
            ("$tier", tier), ("$prefix", keyPrefix));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Name of a phase, or null when it has none (or is unknown).</summary>
    public async Task<string?> GetPhaseNameAsync(int number, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT name FROM phases WHERE number = $n", ("$n", number));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>Records (or replaces) a thaw request for an archived object.</summary>
    public async Task RecordThawAsync(ThawRequest thaw, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(thaw);
        await using var command = Command("""
            INSERT INTO thaw_requests(tier, key, requested_at, retrieval_tier, ready_after, cost_usd) VALUES ($tier, $key, $at, $retrieval, $ready, $cost)
            ON CONFLICT(tier, key) DO UPDATE SET requested_at = excluded.requested_at, retrieval_tier = excluded.retrieval_tier,
                ready_after = excluded.ready_after, cost_usd = excluded.cost_usd
            """, ("$tier", thaw.Tier), ("$key", thaw.Key), ("$at", ToUnixMs(thaw.RequestedAt)), ("$retrieval", thaw.RetrievalTier),
            ("$ready", ToUnixMs(thaw.ReadyAfter)), ("$cost", thaw.CostUsd.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ThawRequest?> GetThawAsync(string tier, string key, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT requested_at, retrieval_tier, ready_after, cost_usd FROM thaw_requests WHERE tier = $tier AND key = $key",
            ("$tier", tier), ("$key", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new ThawRequest(tier, key, FromUnixMs(reader.GetInt64(0)), reader.GetString(1), FromUnixMs(reader.GetInt64(2)),
            decimal.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>True when the catalog records any object on the tier (one indexed probe, not a sum over all of them).</summary>
    public async Task<bool> HasObjectsAsync(string tier, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT EXISTS (SELECT 1 FROM objects WHERE tier = $tier AND instr(key, '#') = 0)", ("$tier", tier));
        return CatalogDialect.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) != 0;
    }

    /// <summary>One tier's objects as the catalog knows them: count, bytes, and bytes stored since <paramref name="since"/>
    /// (growth). Members of an archive (key#path) are not objects of the store and are left out. One indexed aggregate.</summary>
    public Task<(long Count, long Bytes, long BytesSince)> SumObjectsAsync(string tier, DateTimeOffset since, CancellationToken cancellationToken) =>
        SumObjectsAsync(tier, since, null, null, cancellationToken);

    /// <summary>As <see cref="SumObjectsAsync(string, DateTimeOffset, CancellationToken)"/>, for the objects of the sessions recorded on
    /// <paramref name="machine"/> and/or by <paramref name="user"/> (a shared catalog; compared without case): their share of the tier.
    /// A phase archive is the team's (one object of no session), so a slice counts its sessions' members in it at their size
    /// there: after an archive, a machine's share of the archive tier is what its sessions take in it, not nothing.</summary>
    public async Task<(long Count, long Bytes, long BytesSince)> SumObjectsAsync(string tier, DateTimeOffset since, string? machine, string? user, CancellationToken cancellationToken)
    {
        var whole = machine is null && user is null || SchemaVersion < 15;
        var which = whole ? "instr(key, '#') = 0" : $"session_id IN (SELECT session_id FROM sessions WHERE {OriginFilter(machine, user)})";
        await using var command = Command($"""
            SELECT COUNT(*), TOTAL(size_bytes), TOTAL(CASE WHEN stored_at >= $since THEN size_bytes ELSE 0 END)
            FROM objects WHERE tier = $tier AND {which}
            """, ("$tier", tier), ("$since", ToUnixMs(since)), ("$machine", OriginValue(machine)), ("$user", OriginValue(user)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), (long)reader.GetDouble(1), (long)reader.GetDouble(2));
    }

    public async Task<IReadOnlyList<PhaseRecord>> ListPhasesAsync(CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT number, name, started_at, archive_expired_at, ended_at, reviewed_at FROM phases ORDER BY number");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var phases = new List<PhaseRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            phases.Add(new PhaseRecord(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1), FromUnixMs(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : FromUnixMs(reader.GetInt64(3)))
            {
                EndedAt = reader.IsDBNull(4) ? null : FromUnixMs(reader.GetInt64(4)),
                ReviewedAt = reader.IsDBNull(5) ? null : FromUnixMs(reader.GetInt64(5)),
            });
        return phases;
    }

    public async Task MarkArchiveExpiredAsync(int phase, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command("UPDATE phases SET archive_expired_at = $at WHERE number = $n", ("$at", ToUnixMs(at)), ("$n", phase));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteObjectAsync(string tier, string key, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM objects WHERE tier = $tier AND key = $key", ("$tier", tier), ("$key", key));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Names a phase (keeping its start) and ends every other open phase at <paramref name="at"/>.</summary>
    public async Task StartPhaseAsync(int number, string? name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        await using (var upsert = Command("""
            INSERT INTO phases(number, name, started_at) VALUES ($n, $name, $at)
            ON CONFLICT(number) DO UPDATE SET name = COALESCE(excluded.name, phases.name), ended_at = NULL
            """, ("$n", number), ("$name", name), ("$at", ToUnixMs(at))))
        {
            upsert.Transaction = transaction;
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var end = Command("UPDATE phases SET ended_at = $at WHERE number <> $n AND ended_at IS NULL", ("$at", ToUnixMs(at)), ("$n", number)))
        {
            end.Transaction = transaction;
            await end.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when the session's manifest on <paramref name="tier"/> is verified.</summary>
    public async Task<bool> HasVerifiedCopyOnAsync(string sessionId, string tier, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT EXISTS(SELECT 1 FROM objects WHERE session_id = $session AND tier = $tier AND verified_at IS NOT NULL
                                                AND (key = 'manifest.json' OR key LIKE '%/manifest.json'))
            """, ("$session", sessionId), ("$tier", tier));
        return CatalogDialect.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) == 1;
    }

    public async Task MarkReviewedAsync(int phase, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command("UPDATE phases SET reviewed_at = $at WHERE number = $n", ("$at", ToUnixMs(at)), ("$n", phase));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
