using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>Uploads: multipart for small content, Drive's resumable protocol for large content.</summary>
public sealed partial class GoogleDriveStore
{
    /// <summary>Fresh sessions tried for one put when Drive forgets them (404/410) before the upload finishes.</summary>
    private const int MaxSessionRestarts = 3;

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= new PutOptions();
        SplitKey(key);
        return await UploadRouting.PutAsync(this, key, content, options, _options.ResumableThreshold,
            whole => PutMultipartAsync(key, whole, options, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    public async Task<ObjectInfo> PutResumableAsync(string key, Stream content, PutOptions options, IUploadStateStore states, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(states);
        if (!content.CanSeek) throw new ArgumentException("Resumable uploads need a seekable stream.", nameof(content));
        if (string.IsNullOrEmpty(options.ExpectedMd5)) throw new ArgumentException("Resumable uploads need PutOptions.ExpectedMd5.", nameof(options));
        var (folders, name) = SplitKey(key);
        var md5 = options.ExpectedMd5.ToLowerInvariant();
        var basePosition = content.Position;
        var total = content.Length - basePosition;
        // Drive has no resumable form of an empty upload; one request does.
        if (total == 0) return await PutMultipartAsync(key, [], options, cancellationToken).ConfigureAwait(false);

        Uri? session = null;
        long offset = 0;
        DriveFile? done = null;
        if (await states.GetAsync(TierName, key, cancellationToken).ConfigureAwait(false) is { } saved)
        {
            if (saved.ContentMd5 == md5 && saved.TotalBytes == total && OwnSession(saved.SessionUri) is { } savedUri)
            {
                // The saved offset may lag behind (a chunk Drive got before the crash) or run ahead (bytes it dropped): ask.
                var status = await ChunkStepAsync(savedUri, content, basePosition, null, total, key, cancellationToken).ConfigureAwait(false);
                if (status.File is { } file) done = file;
                else if (!status.Gone) (session, offset) = (savedUri, status.Offset);
            }
            if (session is null && done is null) await states.DeleteAsync(TierName, key, cancellationToken).ConfigureAwait(false);
        }

        var restarts = 0;
        var buffer = new byte[(int)Math.Min(_options.ChunkSize, total)];
        while (done is null)
        {
            if (session is null)
            {
                session = await StartSessionAsync(folders, name, total, options.ContentType, key, cancellationToken).ConfigureAwait(false);
                offset = 0;
                await SaveAsync(states, key, session, 0, total, md5, cancellationToken).ConfigureAwait(false);
            }
            options.Progress?.Report(offset);
            var step = await ChunkStepAsync(session, content, basePosition, (offset, buffer), total, key, cancellationToken).ConfigureAwait(false);
            if (step.File is { } file)
            {
                done = file;
            }
            else if (step.Gone)
            {
                if (++restarts > MaxSessionRestarts)
                    throw new TierStorageException(ErrorIds.TierRequestFailed, TierErrorKind.InvalidOperation,
                        $"Google Drive tier '{TierName}' dropped the upload session of '{key}' {restarts} times.", key);
                session = null;
                // The parent may be what vanished: look the folders up again.
                _folderIds.Clear();
                await states.DeleteAsync(TierName, key, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                offset = step.Offset;
                await SaveAsync(states, key, session, offset, total, md5, cancellationToken).ConfigureAwait(false);
            }
        }
        await states.DeleteAsync(TierName, key, cancellationToken).ConfigureAwait(false);
        options.Progress?.Report(total);
        return await FinishAsync(key, folders, name, done, md5, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ObjectInfo> PutMultipartAsync(string key, byte[] bytes, PutOptions options, CancellationToken cancellationToken)
    {
        var (folders, name) = SplitKey(key);
        var md5 = options.ExpectedMd5?.ToLowerInvariant() ?? Convert.ToHexString(MD5.HashData(bytes)).ToLowerInvariant();
        var parentId = await RequireFolderAsync(folders, cancellationToken).ConfigureAwait(false);
        var target = (await FilesNamedAsync(parentId, name, folder: false, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        var file = await _http.JsonAsync<DriveFile>(() =>
        {
            var request = target is null
                ? new HttpRequestMessage(HttpMethod.Post, _http.Api($"upload/drive/v3/files?uploadType=multipart&fields={FileFields}"))
                : new HttpRequestMessage(HttpMethod.Patch, _http.Api($"upload/drive/v3/files/{Uri.EscapeDataString(target.Id)}?uploadType=multipart&fields={FileFields}"));
            var media = new ByteArrayContent(bytes);
            media.Headers.ContentType = new MediaTypeHeaderValue(options.ContentType);
            request.Content = new MultipartContent("related") { Metadata(target is null, name, parentId), media };
            return request;
        }, "upload", key, cancellationToken).ConfigureAwait(false);
        options.Progress?.Report(bytes.Length);
        return await FinishAsync(key, folders, name, file, md5, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Leaves one file under the key, then checks Drive's md5Checksum of it.</summary>
    private async Task<ObjectInfo> FinishAsync(string key, string[] folders, string name, DriveFile file, string md5, CancellationToken cancellationToken)
    {
        var parentId = await RequireFolderAsync(folders, cancellationToken).ConfigureAwait(false);
        await RemoveTwinsAsync(parentId, name, file.Id, key, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(file.Md5Checksum, md5, StringComparison.OrdinalIgnoreCase))
            throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                $"Google Drive tier '{TierName}' reports MD5 {file.Md5Checksum ?? "(none)"} for '{key}', expected {md5}; the upload is not verified.", key);
        return ToInfo(key, file);
    }

    private async Task<string> RequireFolderAsync(string[] folders, CancellationToken cancellationToken) =>
        await FolderIdAsync(folders, create: true, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("Folder creation returned no id.");

    /// <summary>Opens a resumable session: a new file in the key's folder, or new content for the file already there
    /// (Drive keeps the old content until the new is complete, so the key is never empty or doubled).</summary>
    private async Task<Uri> StartSessionAsync(string[] folders, string name, long total, string contentType, string key, CancellationToken cancellationToken)
    {
        var parentId = await RequireFolderAsync(folders, cancellationToken).ConfigureAwait(false);
        var target = (await FilesNamedAsync(parentId, name, folder: false, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        using var response = await _http.SendAsync(() =>
        {
            var request = target is null
                ? new HttpRequestMessage(HttpMethod.Post, _http.Api($"upload/drive/v3/files?uploadType=resumable&fields={FileFields}"))
                : new HttpRequestMessage(HttpMethod.Patch, _http.Api($"upload/drive/v3/files/{Uri.EscapeDataString(target.Id)}?uploadType=resumable&fields={FileFields}"));
            request.Content = Metadata(target is null, name, parentId);
            request.Headers.Add("X-Upload-Content-Type", contentType);
            request.Headers.Add("X-Upload-Content-Length", total.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return request;
        }, "start upload", key, cancellationToken).ConfigureAwait(false);
        if (response.Error is { } error) throw _http.Failure(error, "start upload", key);
        return response.Message.Headers.Location is { } location && OwnSession(location.AbsoluteUri) is { } session
            ? session
            : throw new TierStorageException(ErrorIds.TierRequestFailed, TierErrorKind.InvalidData,
                $"Google Drive tier '{TierName}' opened no usable upload session for '{key}'.", key);
    }

    private readonly record struct ChunkStep(long Offset, DriveFile? File, bool Gone);

    /// <summary>
    /// Sends the chunk at <c>chunk.Offset</c> (or, with no chunk, only asks where the session stands) under the retry
    /// pipeline. A retry first asks Drive for the confirmed offset (<c>Content-Range: bytes */N</c>), because a failed
    /// PUT may have delivered part of its bytes; so no byte is sent twice except the unconfirmed tail of one chunk.
    /// </summary>
    private async Task<ChunkStep> ChunkStepAsync(Uri session, Stream content, long basePosition, (long Offset, byte[] Buffer)? chunk, long total,
        string key, CancellationToken cancellationToken)
    {
        var offset = chunk?.Offset ?? 0;
        var mustAsk = chunk is null;
        using var response = await _http.SendAsync(async token =>
        {
            if (mustAsk)
            {
                var status = await _http.AttemptAsync(StatusRequest(session, total), HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
                if (status.Status != 308 || chunk is null) return status;
                offset = ConfirmedOffset(status);
                status.Dispose();
            }
            mustAsk = true;
            // Reached only with a chunk: without one, the status answer above was returned.
            var buffer = chunk.GetValueOrDefault().Buffer;
            var length = (int)Math.Min(buffer.Length, total - offset);
            content.Position = basePosition + offset;
            await content.ReadExactlyAsync(buffer.AsMemory(0, length), token).ConfigureAwait(false);
            var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent(buffer, 0, length) };
            request.Content.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + length - 1, total);
            return await _http.AttemptAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
        }, "upload", key, cancellationToken).ConfigureAwait(false);

        return response.Status switch
        {
            308 => new ChunkStep(ConfirmedOffset(response), null, false),
            200 or 201 => new ChunkStep(total, await _http.ReadJsonAsync<DriveFile>(response, "upload", key, cancellationToken).ConfigureAwait(false), false),
            404 or 410 => new ChunkStep(0, null, true),
            _ => throw _http.Failure(response.Error ?? new DriveError(response.Status, null, null, null), "upload", key),
        };
    }

    private static HttpRequestMessage StatusRequest(Uri session, long total)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentRange = new ContentRangeHeaderValue(total);
        return request;
    }

    /// <summary>A 308's Range (<c>bytes=0-N</c>) says Drive holds N+1 bytes; no Range means none.</summary>
    private static long ConfirmedOffset(DriveResponse response) =>
        response.Message.Headers.TryGetValues("Range", out var values)
        && RangeHeaderValue.TryParse(values.FirstOrDefault(), out var range)
        && range.Ranges.FirstOrDefault()?.To is { } last
            ? last + 1
            : 0;

    private Task SaveAsync(IUploadStateStore states, string key, Uri session, long offset, long total, string md5, CancellationToken cancellationToken) =>
        states.SaveAsync(new UploadState
        {
            Tier = TierName,
            Key = key,
            SessionUri = session.AbsoluteUri,
            Offset = offset,
            TotalBytes = total,
            ContentMd5 = md5,
            UpdatedAt = _options.TimeProvider.GetUtcNow(),
        }, cancellationToken);

    /// <summary>A saved session URI is used only if it points at this tier's API server: the bearer token goes with it.</summary>
    private Uri? OwnSession(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed)
        && Uri.Compare(parsed, _options.ApiBaseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
            ? parsed
            : null;

    private static JsonContent Metadata(bool create, string name, string parentId) =>
        DriveJson.Content(create ? new DriveFileMetadata { Name = name, Parents = [parentId] } : new DriveFileMetadata());
}
