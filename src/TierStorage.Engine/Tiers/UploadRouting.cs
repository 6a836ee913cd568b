using System.Security.Cryptography;

namespace TierStorage.Engine.Tiers;

/// <summary>
/// What every resumable store's PutAsync does alike: content below the store's threshold (or empty) goes in one request;
/// larger content goes through the store's resumable path with a state that lives for this call only; a forward-only
/// stream is buffered when small and spooled to a temp file when large, so its pieces can be read again.
/// </summary>
internal static class UploadRouting
{
    public static async Task<ObjectInfo> PutAsync(IResumableUploadStore store, string key, Stream content, PutOptions options, long threshold,
        Func<byte[], Task<ObjectInfo>> putWhole, CancellationToken cancellationToken)
    {
        if (content.CanSeek)
        {
            var remaining = content.Length - content.Position;
            return remaining < threshold || remaining == 0
                ? await putWhole(await ReadToEndAsync(content, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false)
                : await PutInCallAsync(store, key, content, options, cancellationToken).ConfigureAwait(false);
        }

        var head = new MemoryStream();
        await CopyAtMostAsync(content, head, threshold, cancellationToken).ConfigureAwait(false);
        if (head.Length < threshold || head.Length == 0)
            return await putWhole(head.ToArray()).ConfigureAwait(false);
        await using var spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        head.Position = 0;
        await head.CopyToAsync(spool, cancellationToken).ConfigureAwait(false);
        await content.CopyToAsync(spool, cancellationToken).ConfigureAwait(false);
        spool.Position = 0;
        return await PutInCallAsync(store, key, spool, options, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<byte[]> ReadToEndAsync(Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>A resumable upload within this call only: its state lives in memory, not in the catalog.</summary>
    private static async Task<ObjectInfo> PutInCallAsync(IResumableUploadStore store, string key, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        var start = content.Position;
        var md5 = options.ExpectedMd5 ?? Convert.ToHexString(await MD5.HashDataAsync(content, cancellationToken).ConfigureAwait(false)).ToLowerInvariant();
        content.Position = start;
        return await store.PutResumableAsync(key, content, options with { ExpectedMd5 = md5 }, new CallUploadStates(), cancellationToken).ConfigureAwait(false);
    }

    private static async Task CopyAtMostAsync(Stream source, Stream destination, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long copied = 0;
        int read;
        while (copied < limit && (read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - copied)), cancellationToken).ConfigureAwait(false)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            copied += read;
        }
    }

    /// <summary>Upload state for one PutAsync call: resumable within the call, forgotten after it.</summary>
    private sealed class CallUploadStates : IUploadStateStore
    {
        private UploadState? _state;

        public Task<UploadState?> GetAsync(string tier, string key, CancellationToken cancellationToken) => Task.FromResult(_state);

        public Task SaveAsync(UploadState state, CancellationToken cancellationToken)
        {
            _state = state;
            return Task.CompletedTask;
        }

        public Task DeleteAsync(string tier, string key, CancellationToken cancellationToken)
        {
            _state = null;
            return Task.CompletedTask;
        }
    }
}
