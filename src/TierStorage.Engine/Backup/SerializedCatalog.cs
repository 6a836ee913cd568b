using TierStorage.Engine.Catalog;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Backup;

/// <summary>
/// The catalog writes of uploads that run at once (<see cref="BackupOperations"/>'s concurrent file uploads): the
/// catalog is one SQLite connection, which must not be used by two threads at a time, so each saved upload state and
/// each verified object is written in turn, behind one gate. Each write is still its own statement, committed when it
/// returns: a kill between two of them leaves what a sequential backup would have left at that point.
/// </summary>
internal sealed class SerializedCatalog(CatalogDatabase catalog) : IUploadStateStore
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public Task<UploadState?> GetAsync(string tier, string key, CancellationToken cancellationToken) =>
        InTurnAsync(() => catalog.GetAsync(tier, key, cancellationToken), cancellationToken);

    public Task SaveAsync(UploadState state, CancellationToken cancellationToken) =>
        InTurnAsync(async () =>
        {
            await catalog.SaveAsync(state, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task DeleteAsync(string tier, string key, CancellationToken cancellationToken) =>
        InTurnAsync(async () =>
        {
            await catalog.DeleteAsync(tier, key, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task UpsertObjectAsync(StoredObject storedObject, CancellationToken cancellationToken) =>
        InTurnAsync(async () =>
        {
            await catalog.UpsertObjectAsync(storedObject, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> InTurnAsync<T>(Func<Task<T>> write, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await write().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
