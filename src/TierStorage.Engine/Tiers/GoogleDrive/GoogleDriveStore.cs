using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>
/// A tier on Google Drive (API v3). Keys map to nested folders under <see cref="GoogleDriveStoreOptions.RootFolder"/>
/// in My Drive, found or created by name (ids cached; of same-named duplicates the oldest is used, and none is ever
/// added); the last key segment is the file name, and there is at most one file per key. Small content goes up in
/// one multipart request, large content resumable in chunks whose progress survives a crash via
/// <see cref="IUploadStateStore"/>. Every answer Drive gives about a file carries its md5Checksum, which is checked
/// against the caller's (or our own) MD5.
/// </summary>
public sealed partial class GoogleDriveStore : IResumableUploadStore, IQuotaStore
{
    private const string FileFields = DriveFile.Fields;
    private readonly GoogleDriveStoreOptions _options;
    private readonly DriveHttp _http;
    /// <summary>Folder ids by path relative to the root folder ("" is the root folder itself).</summary>
    private readonly Dictionary<string, string> _folderIds = new(StringComparer.Ordinal);

    public GoogleDriveStore(GoogleDriveStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _http = new DriveHttp(options);
    }

    public string TierName => _options.TierName;
    public TierKind Kind => TierKind.GoogleDrive;
    public string Location => $"Google Drive: My Drive/{_options.RootFolder}";
    public long ResumableThreshold => _options.ResumableThreshold;

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var (folders, name) = SplitKey(key);
        var file = await FindFileAsync(folders, name, cancellationToken).ConfigureAwait(false);
        return file is null ? null : ToInfo(key, file);
    }

    public async Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var (folders, name) = SplitKey(key);
        var file = await FindFileAsync(folders, name, cancellationToken).ConfigureAwait(false)
            ?? throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
                $"Google Drive tier '{TierName}' holds no object '{key}'.", key);
        var size = file.Size ?? 0;
        if (offset < 0 || offset > size)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"Offset {offset} is outside '{key}' ({size} bytes).", key);

        // Only a whole download can be checked against Drive's MD5; a resumed one is checked by the caller.
        using var md5 = offset == 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        var position = offset;
        var failures = 0;
        var buffer = new byte[81920];
        while (position < size)
        {
            var from = position;
            using var response = await _http.SendAsync(() => MediaRequest(file.Id, from), "download", key, cancellationToken,
                HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.Error is { } error) throw _http.Failure(error, "download", key);
            // A server that ignores Range answers 200 with the whole file: skip what we already have.
            var skip = response.Status == 200 ? position : 0;
            var progressed = false;
            try
            {
                var body = await response.Message.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                while (position < size)
                {
                    int read;
                    using (var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                    {
                        readTimeout.CancelAfter(_options.Retry.AttemptTimeout);
                        read = await body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
                    }
                    if (read == 0) throw new IOException("The download ended before the last byte.");
                    var start = (int)Math.Min(skip, read);
                    skip -= start;
                    var take = (int)Math.Min(read - start, size - position);
                    if (take == 0) continue;
                    await destination.WriteAsync(buffer.AsMemory(start, take), cancellationToken).ConfigureAwait(false);
                    md5?.AppendData(buffer, start, take);
                    position += take;
                    progressed = true;
                    progress?.Report(position - offset);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The connection dropped mid-body: ask again from where we are, a bounded number of times in a row.
                failures = progressed ? 1 : failures + 1;
                if (failures > _options.Retry.MaxRetries)
                    throw new TierStorageException(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
                        $"Google Drive tier '{TierName}' kept cutting off the download of '{key}' at byte {position}.", key, e);
            }
        }
        if (md5 is not null && file.Md5Checksum is { } expected && !string.Equals(Convert.ToHexString(md5.GetHashAndReset()), expected, StringComparison.OrdinalIgnoreCase))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"The download of '{key}' from Google Drive tier '{TierName}' does not match the MD5 Drive reports ({expected}).", key);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.StartsWith('/')) throw InvalidKey(prefix);
        var slash = prefix.LastIndexOf('/');
        var folderPath = slash < 0 ? "" : prefix[..slash];
        var segments = folderPath.Length == 0 ? [] : folderPath.Split('/');
        if (segments.Any(s => s.Length == 0)) yield break;
        var folderId = await FolderIdAsync(segments, create: false, cancellationToken).ConfigureAwait(false);
        if (folderId is null) yield break;
        await foreach (var info in WalkAsync(folderId, folderPath, prefix[(slash + 1)..], cancellationToken).ConfigureAwait(false))
            yield return info;
    }

    private async IAsyncEnumerable<ObjectInfo> WalkAsync(string folderId, string folderPath, string namePrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var children = new List<DriveFile>();
        await foreach (var child in QueryAsync($"'{Escape(folderId)}' in parents and trashed = false", cancellationToken).ConfigureAwait(false))
            children.Add(child);
        // Same-named duplicates: the one every other call would pick (the oldest) stands for the key.
        var chosen = children.GroupBy(c => (c.Name, c.IsFolder)).Select(g => DriveFile.OldestFirst(g).First()).OrderBy(c => c.Name, StringComparer.Ordinal);
        foreach (var child in chosen.Where(c => c.Name.StartsWith(namePrefix, StringComparison.Ordinal)))
        {
            var key = folderPath.Length == 0 ? child.Name : folderPath + "/" + child.Name;
            if (!child.IsFolder)
            {
                yield return ToInfo(key, child);
                continue;
            }
            _folderIds.TryAdd(key, child.Id);
            await foreach (var info in WalkAsync(child.Id, key, "", cancellationToken).ConfigureAwait(false))
                yield return info;
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var (folders, name) = SplitKey(key);
        var folderId = await FolderIdAsync(folders, create: false, cancellationToken).ConfigureAwait(false);
        if (folderId is null) return false;
        var files = await FilesNamedAsync(folderId, name, folder: false, cancellationToken).ConfigureAwait(false);
        foreach (var file in files) await DeleteFileAsync(file.Id, key, cancellationToken).ConfigureAwait(false);
        return files.Count > 0;
    }

    public async Task<StoreQuota> GetQuotaAsync(CancellationToken cancellationToken)
    {
        var about = await _http.JsonAsync<DriveAbout>(() => new HttpRequestMessage(HttpMethod.Get, _http.Api("drive/v3/about?fields=storageQuota(limit,usage)")),
            "quota", null, cancellationToken).ConfigureAwait(false);
        return new StoreQuota(about.StorageQuota?.Usage ?? 0, about.StorageQuota?.Limit);
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---- folders and lookups ----

    private async Task<DriveFile?> FindFileAsync(string[] folders, string name, CancellationToken cancellationToken)
    {
        var folderId = await FolderIdAsync(folders, create: false, cancellationToken).ConfigureAwait(false);
        if (folderId is null) return null;
        return (await FilesNamedAsync(folderId, name, folder: false, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
    }

    /// <summary>Id of the folder at <paramref name="segments"/> under the root folder, creating missing ones when asked.
    /// Only found folders are cached: a missing one may be created by another process later.</summary>
    private async Task<string?> FolderIdAsync(IReadOnlyList<string> segments, bool create, CancellationToken cancellationToken)
    {
        if (!_folderIds.TryGetValue("", out var id))
        {
            id = "root";
            foreach (var name in _options.RootFolder.Split('/'))
            {
                id = await FindOrCreateFolderAsync(id, name, create, cancellationToken).ConfigureAwait(false);
                if (id is null) return null;
            }
            _folderIds[""] = id;
        }
        var path = "";
        foreach (var segment in segments)
        {
            path = path.Length == 0 ? segment : path + "/" + segment;
            if (_folderIds.TryGetValue(path, out var cached))
            {
                id = cached;
                continue;
            }
            id = await FindOrCreateFolderAsync(id, segment, create, cancellationToken).ConfigureAwait(false);
            if (id is null) return null;
            _folderIds[path] = id;
        }
        return id;
    }

    private async Task<string?> FindOrCreateFolderAsync(string parentId, string name, bool create, CancellationToken cancellationToken)
    {
        var existing = await FilesNamedAsync(parentId, name, folder: true, cancellationToken).ConfigureAwait(false);
        if (existing.Count > 0) return existing[0].Id;
        if (!create) return null;
        var created = await _http.JsonAsync<DriveFile>(() => new HttpRequestMessage(HttpMethod.Post, _http.Api($"drive/v3/files?fields={FileFields}"))
        {
            Content = DriveJson.Content(new DriveFileMetadata { Name = name, MimeType = DriveFile.FolderMimeType, Parents = [parentId] }),
        }, "create folder", name, cancellationToken).ConfigureAwait(false);
        // A retried create whose first reply was lost, or another process, may have made a twin: settle on the oldest.
        var settled = await FilesNamedAsync(parentId, name, folder: true, cancellationToken).ConfigureAwait(false);
        return settled.Count > 0 ? settled[0].Id : created.Id;
    }

    /// <summary>Untrashed files (or folders) called <paramref name="name"/> in one folder, oldest first.</summary>
    private async Task<List<DriveFile>> FilesNamedAsync(string parentId, string name, bool folder, CancellationToken cancellationToken)
    {
        var q = $"name = '{Escape(name)}' and '{Escape(parentId)}' in parents and mimeType {(folder ? "=" : "!=")} '{DriveFile.FolderMimeType}' and trashed = false";
        var files = new List<DriveFile>();
        await foreach (var file in QueryAsync(q, cancellationToken).ConfigureAwait(false)) files.Add(file);
        return DriveFile.OldestFirst(files).ToList();
    }

    /// <summary>files.list over every page of <paramref name="q"/>.</summary>
    private async IAsyncEnumerable<DriveFile> QueryAsync(string q, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? pageToken = null;
        do
        {
            var uri = _http.Api($"drive/v3/files?q={Uri.EscapeDataString(q)}&pageSize={_options.ListPageSize}&fields={Uri.EscapeDataString($"nextPageToken,files({FileFields})")}"
                + (pageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(pageToken)));
            var page = await _http.JsonAsync<DriveFileList>(() => new HttpRequestMessage(HttpMethod.Get, uri), "list", null, cancellationToken).ConfigureAwait(false);
            foreach (var file in page.Files) yield return file;
            pageToken = page.NextPageToken;
        }
        while (pageToken is not null);
    }

    private async Task DeleteFileAsync(string fileId, string key, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, _http.Api($"drive/v3/files/{Uri.EscapeDataString(fileId)}")),
            "delete", key, cancellationToken).ConfigureAwait(false);
        // 404: already gone (a retried delete whose first reply was lost).
        if (response.Error is { Status: not 404 } error) throw _http.Failure(error, "delete", key);
    }

    /// <summary>After a put, the key must name exactly one file: remove any same-named twin but the one just written.</summary>
    private async Task RemoveTwinsAsync(string parentId, string name, string keepId, string key, CancellationToken cancellationToken)
    {
        foreach (var twin in await FilesNamedAsync(parentId, name, folder: false, cancellationToken).ConfigureAwait(false))
            if (twin.Id != keepId) await DeleteFileAsync(twin.Id, key, cancellationToken).ConfigureAwait(false);
    }

    private HttpRequestMessage MediaRequest(string fileId, long from)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _http.Api($"drive/v3/files/{Uri.EscapeDataString(fileId)}?alt=media"));
        if (from > 0) request.Headers.Range = new RangeHeaderValue(from, null);
        return request;
    }

    private ObjectInfo ToInfo(string key, DriveFile file) => new()
    {
        Key = key,
        Size = file.Size ?? 0,
        Md5 = file.Md5Checksum?.ToLowerInvariant(),
        LastModified = file.ModifiedTime,
        StoreId = file.Id,
    };

    /// <summary>Drive query string literal: backslash and single quote are escaped with a backslash.</summary>
    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("'", "\\'");

    private static (string[] Folders, string Name) SplitKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split('/');
        if (key.Length == 0 || segments.Any(s => s.Length == 0 || s is "." or ".." || s.Contains('\\'))) throw InvalidKey(key);
        return (segments[..^1], segments[^1]);
    }

    private static TierStorageException InvalidKey(string key) =>
        new(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
            $"'{key}' is not a valid object key: use forward-slash separated names, without a leading '/', empty, '.' or '..' segments.", key);
}
