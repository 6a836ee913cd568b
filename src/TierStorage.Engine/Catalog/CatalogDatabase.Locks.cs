using Npgsql;
using TierStorage.Engine.Catalog.Postgres;

namespace TierStorage.Engine.Catalog;

/// <summary>
/// Locks that hold across machines when the catalog is shared (issue 14): PostgreSQL session-level advisory locks, each on a
/// connection of its own that is not pooled (a pooled connection is reset when it goes back to the pool, which would release
/// the lock early) and held until the lock is disposed. A holder that dies closes its connection and the server frees the lock:
/// at once for a killed process, within the keepalive time (CatalogLocation sets 30 s) for a machine that vanished.
/// On an SQLite catalog the workspace's file locks already keep one machine's processes apart: nothing to take.
/// </summary>
public sealed partial class CatalogDatabase
{
    /// <summary>Tries to take the lock named <paramref name="name"/> for this catalog, waiting up to <paramref name="wait"/>.
    /// Null when another holder has it still; a no-op lock on SQLite.</summary>
    public async Task<IAsyncDisposable?> TryLockAsync(string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!IsShared) return NoLock.Instance;
        var key = PostgresMigrationDialect.AdvisoryLockKey("lock/" + name);
        // The holder names itself to the server, so that a refused caller can say who has the lock (LockHolderAsync).
        var builder = new NpgsqlConnectionStringBuilder(Location.OpenString())
        {
            Pooling = false,
            // The server keeps 63 bytes of it: who first, then what.
            ApplicationName = Truncate($"tierstorage pid {Environment.ProcessId} on {Origin.Machine}/{Origin.User}: {name}", 63),
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                throw Unavailable(Location, ex);
            }
            var until = DateTimeOffset.UtcNow + wait;
            while (true)
            {
                await using (var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
                {
                    command.Parameters.AddWithValue("key", key);
                    if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true) return new AdvisoryLock(connection);
                }
                if (DateTimeOffset.UtcNow >= until) break;
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>Who holds the lock named <paramref name="name"/> (TryLockAsync's holder as it named itself to the server, where
    /// from and since when), or null when nobody does or the catalog is not shared.</summary>
    public async Task<string?> LockHolderAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!IsShared) return null;
        var key = PostgresMigrationDialect.AdvisoryLockKey("lock/" + name);
        // A bigint advisory key is held as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
        await using var command = Command(
            "SELECT a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " +
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $key LIMIT 1", ("$key", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return $"{reader.GetString(0)}, from {reader.GetString(1)} since {reader.GetFieldValue<DateTime>(2).ToUniversalTime():u}";
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    /// <summary>Held while its connection is open: closing it (or the holder's death) is what frees the lock.</summary>
    private sealed class AdvisoryLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>One object's row, or null.</summary>
    public async Task<StoredObject?> GetObjectAsync(string tier, string key, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT size_bytes, md5, sha256, stored_at, verified_at, session_id, phase FROM objects WHERE tier = $tier AND key = $key",
            ("$tier", tier), ("$key", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StoredObject
        {
            Tier = tier, Key = key, SizeBytes = reader.GetInt64(0), Md5 = reader.IsDBNull(1) ? null : reader.GetString(1), Sha256 = reader.IsDBNull(2) ? null : reader.GetString(2),
            StoredAt = FromUnixMs(reader.GetInt64(3)), VerifiedAt = reader.IsDBNull(4) ? null : FromUnixMs(reader.GetInt64(4)),
            SessionId = reader.IsDBNull(5) ? null : reader.GetString(5), Phase = reader.IsDBNull(6) ? null : reader.GetInt32(6),
        };
    }
}
