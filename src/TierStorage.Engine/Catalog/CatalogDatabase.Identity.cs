using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Catalog;

public sealed partial class CatalogDatabase
{
    /// <summary>The workspace identity the catalog recorded, or null (a new or rebuilt catalog).</summary>
    public async Task<WorkspaceIdentity?> GetIdentityAsync(CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT id, namespace, root, created_at FROM workspace_identity WHERE singleton = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new WorkspaceIdentity { Id = reader.GetString(0), Namespace = reader.GetString(1), Root = reader.GetString(2), CreatedAt = FromUnixMs(reader.GetInt64(3)) };
    }

    public async Task SetIdentityAsync(WorkspaceIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            INSERT INTO workspace_identity (singleton, id, namespace, root, created_at) VALUES (1, $id, $namespace, $root, $created)
            ON CONFLICT (singleton) DO UPDATE SET id = excluded.id, namespace = excluded.namespace, root = excluded.root, created_at = excluded.created_at
            """, ("$id", identity.Id), ("$namespace", identity.Namespace), ("$root", identity.Root), ("$created", ToUnixMs(identity.CreatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the identity only when the catalog has none yet (a shared catalog: the first workspace's is the team's).</summary>
    public async Task SetIdentityIfAbsentAsync(WorkspaceIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            INSERT INTO workspace_identity (singleton, id, namespace, root, created_at) VALUES (1, $id, $namespace, $root, $created)
            ON CONFLICT (singleton) DO NOTHING
            """, ("$id", identity.Id), ("$namespace", identity.Namespace), ("$root", identity.Root), ("$created", ToUnixMs(identity.CreatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when the catalog records an object on any tier but <paramref name="localTier"/>: a workspace that
    /// backed up before namespaces existed, whose objects sit at the tiers' roots.</summary>
    public async Task<bool> HasTierObjectsAsync(string localTier, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT EXISTS (SELECT 1 FROM objects WHERE tier <> $local)", ("$local", localTier));
        return CatalogDialect.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) != 0;
    }

    /// <summary>Forgets every object on a tier but <paramref name="localTier"/> (with uploads in flight, queued backups and
    /// thaws): <paramref name="backToCompleted"/> sessions become Completed, <paramref name="dropped"/> sessions leave the
    /// catalog with their events and snapshots. One transaction.</summary>
    public async Task ForgetTierCopiesAsync(string localTier, IReadOnlyCollection<string> backToCompleted, IReadOnlyCollection<string> dropped, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginAsync(cancellationToken).ConfigureAwait(false);
        async Task RunAsync(string sql, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(sql, parameters);
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await RunAsync("DELETE FROM objects WHERE tier <> $local", ("$local", localTier));
        await RunAsync("DELETE FROM upload_states");
        await RunAsync("DELETE FROM backup_queue");
        await RunAsync("DELETE FROM thaw_requests");
        foreach (var session in backToCompleted)
            await RunAsync("UPDATE sessions SET state = 'Completed' WHERE session_id = $id", ("$id", session));
        foreach (var session in dropped)
        {
            await RunAsync("DELETE FROM events WHERE session_id = $id", ("$id", session));
            await RunAsync("DELETE FROM snapshots WHERE session_id = $id", ("$id", session));
            await RunAsync("DELETE FROM ingest_pending WHERE session_id = $id", ("$id", session));
            await RunAsync("DELETE FROM sessions WHERE session_id = $id", ("$id", session));
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
