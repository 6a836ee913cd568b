using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace TierStorage.DriveFake;

/// <summary>
/// A Google Drive v3 and OAuth 2.0 protocol fake, served by Kestrel on 127.0.0.1 inside the test process. It follows
/// the documented wire behaviour the client relies on (files.list with q/fields/paging, multipart and resumable
/// uploads with 308 + Range, media download with Range, folders, md5Checksum, about.storageQuota, the authorization
/// code and refresh grants) and lets tests inject the faults real Drive produces (see <see cref="Faults"/>).
/// </summary>
public sealed partial class DriveFakeServer : IAsyncDisposable
{
    public const string ClientId = "fake-client.apps.googleusercontent.com";
    public const string ClientSecret = "fake-client-secret";
    /// <summary>Id (and alias) of My Drive's root folder.</summary>
    public const string RootId = "root";
    public const string DriveFileScope = "https://www.googleapis.com/auth/drive.file";
    private const int ChunkGranularity = 256 * 1024;

    private readonly object _lock = new();
    private readonly List<FakeFile> _files = [];
    private readonly Dictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AccessGrant> _accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RefreshGrant> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AuthorizationCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private long _uploadBytes;
    private int _nextId;
    private WebApplication? _app;

    private DriveFakeServer()
    {
    }

    public int Port { get; private set; }
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");
    public Uri AuthorizationUri => new(BaseUri, "o/oauth2/auth");
    public Uri TokenUri => new(BaseUri, "token");
    public Uri RevokeUri => new(BaseUri, "revoke");
    public DriveFaults Faults { get; } = new();
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);
    /// <summary>storageQuota.limit; null for an unlimited account (Drive then omits it).</summary>
    public long? QuotaLimitBytes { get; set; } = 15L * 1000 * 1000 * 1000;
    public string AccountEmail { get; set; } = "tester@example.com";
    /// <summary>The scope the last authorization request asked for.</summary>
    public string? LastAuthorizationScope { get; private set; }
    /// <summary>Every body byte the upload endpoints have read, including bytes of requests that were cut off.</summary>
    public long UploadBytesReceived => Interlocked.Read(ref _uploadBytes);

    public static async Task<DriveFakeServer> StartAsync()
    {
        var server = new DriveFakeServer();
        await server.ListenAsync(0).ConfigureAwait(false);
        return server;
    }

    /// <summary>Stops listening, so clients get "connection refused"; the files stay.</summary>
    public async Task RefuseConnectionsAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Listens again on the same port after <see cref="RefuseConnectionsAsync"/>.</summary>
    public Task AcceptConnectionsAsync() => _app is null ? ListenAsync(Port) : Task.CompletedTask;

    public async ValueTask DisposeAsync() => await RefuseConnectionsAsync().ConfigureAwait(false);

    /// <summary>Requests received of one kind: about.get, files.list, files.create, files.get, files.get.media,
    /// files.delete, upload.multipart, upload.resumable, upload.chunk, upload.status, oauth.authorize, oauth.token, oauth.revoke.</summary>
    public int Requests(string kind) => _requests.TryGetValue(kind, out var count) ? count : 0;

    /// <summary>Body bytes received by one resumable session (its upload_id), including cut-off requests.</summary>
    public long SessionBytesReceived(string uploadId)
    {
        lock (_lock) return _sessions.TryGetValue(uploadId, out var session) ? session.BytesReceived : 0;
    }

    /// <summary>A copy of every file and folder, trashed or not, in creation order.</summary>
    public IReadOnlyList<FakeFile> Files()
    {
        lock (_lock) return _files.ToList();
    }

    public byte[]? Content(string fileId)
    {
        lock (_lock) return Find(fileId)?.Content;
    }

    /// <summary>Seeds a folder directly (e.g. a duplicate the client must tolerate).</summary>
    public FakeFile AddFolder(string name, string parentId = RootId, DateTimeOffset? createdTime = null)
    {
        lock (_lock) return AddLocked(name, FakeFile.FolderMimeType, parentId, null, createdTime);
    }

    public FakeFile AddFile(string name, string parentId, byte[] content)
    {
        lock (_lock) return AddLocked(name, "application/octet-stream", parentId, content, null);
    }

    /// <summary>Issues tokens as if the user had consented, for tests that do not need the browser flow.</summary>
    public (string AccessToken, string RefreshToken) IssueTokens(string scope = DriveFileScope)
    {
        lock (_lock)
        {
            var refresh = NewRefreshTokenLocked(scope);
            return (NewAccessTokenLocked(refresh), refresh.Token);
        }
    }

    /// <summary>Every access token issued so far stops working now (refresh tokens keep working).</summary>
    public void ExpireAllTokens()
    {
        lock (_lock)
            foreach (var grant in _accessTokens.Values) grant.ExpiresAt = DateTimeOffset.MinValue;
    }

    /// <summary>Every open resumable session is forgotten, so its URI answers 404 as an expired Drive session does.</summary>
    public void ForgetUploadSessions()
    {
        lock (_lock)
            foreach (var session in _sessions.Values) session.Forgotten = true;
    }

    /// <summary>Refresh tokens neither revoked nor unused.</summary>
    public int ActiveGrants
    {
        get
        {
            lock (_lock) return _refreshTokens.Values.Count(r => !r.Revoked);
        }
    }

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, port);
            options.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        try
        {
            switch (path)
            {
                case "/o/oauth2/auth":
                    Count("oauth.authorize");
                    Authorize(context);
                    return;
                case "/token":
                    Count("oauth.token");
                    await TokenAsync(context).ConfigureAwait(false);
                    return;
                case "/revoke":
                    Count("oauth.revoke");
                    await RevokeAsync(context).ConfigureAwait(false);
                    return;
            }

            var route = Route(request.Method, path, request.Query);
            if (route is null)
            {
                await DrainAsync(context).ConfigureAwait(false);
                await ErrorAsync(context, 404, "notFound", $"Unknown route {request.Method} {path}.").ConfigureAwait(false);
                return;
            }
            Count(route.Value.Kind);

            if (Faults.ResponseDelay is { Ticks: > 0 } delay) await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
            if (!Authenticated(request, out var insufficientScope))
            {
                await DrainAsync(context).ConfigureAwait(false);
                if (insufficientScope)
                    await ErrorAsync(context, 403, "insufficientPermissions", "Insufficient Permission: Request had insufficient authentication scopes.").ConfigureAwait(false);
                else
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\"";
                    await ErrorAsync(context, 401, "authError", "Invalid Credentials", "global").ConfigureAwait(false);
                }
                return;
            }
            if (Faults.TryTakeError(route.Value.Kind, out var fault))
            {
                await DrainAsync(context).ConfigureAwait(false);
                await FaultAsync(context, fault).ConfigureAwait(false);
                return;
            }

            var id = route.Value.FileId;
            var task = route.Value.Kind switch
            {
                "about.get" => AboutAsync(context),
                "files.list" => ListAsync(context),
                "files.create" => CreateMetadataAsync(context),
                "files.get" => GetAsync(context, id!),
                "files.get.media" => MediaAsync(context, id!),
                "files.delete" => DeleteAsync(context, id!),
                "upload.multipart" => MultipartAsync(context, id),
                "upload.resumable" => StartResumableAsync(context, id),
                _ => ChunkAsync(context),
            };
            await task.ConfigureAwait(false);
        }
        catch (FakeDriveError e)
        {
            if (!context.Response.HasStarted) await ErrorAsync(context, e.Status, e.Reason, e.Message).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            if (!context.Response.HasStarted) await ErrorAsync(context, 400, "invalid", e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away, or a fault cut the connection: nothing is left to answer.
            context.Abort();
        }
    }

    private static (string Kind, string? FileId)? Route(string method, string path, IQueryCollection query)
    {
        const string files = "/drive/v3/files";
        const string uploads = "/upload/drive/v3/files";
        if (path == "/drive/v3/about" && method == "GET") return ("about.get", null);
        if (path == files) return method switch { "GET" => ("files.list", null), "POST" => ("files.create", null), _ => null };
        if (path.StartsWith(files + "/", StringComparison.Ordinal))
        {
            var id = path[(files.Length + 1)..];
            return method switch
            {
                "GET" when query["alt"] == "media" => ("files.get.media", id),
                "GET" => ("files.get", id),
                "DELETE" => ("files.delete", id),
                _ => null,
            };
        }
        if (path == uploads || path.StartsWith(uploads + "/", StringComparison.Ordinal))
        {
            string? id = path.Length > uploads.Length ? path[(uploads.Length + 1)..] : null;
            if (method == "PUT" && query.ContainsKey("upload_id")) return ("upload.chunk", id);
            var creates = (method == "POST" && id is null) || (method == "PATCH" && id is not null);
            if (!creates) return null;
            return query["uploadType"].ToString() switch
            {
                "multipart" => ("upload.multipart", id),
                "resumable" => ("upload.resumable", id),
                _ => null,
            };
        }
        return null;
    }

    private void Count(string kind) => _requests.AddOrUpdate(kind, 1, (_, n) => n + 1);

    // ---- files ----

    private async Task AboutAsync(HttpContext context)
    {
        JsonObject about;
        lock (_lock)
        {
            var usage = _files.Sum(f => (long)(f.Content?.Length ?? 0));
            var trash = _files.Where(f => f.Trashed).Sum(f => (long)(f.Content?.Length ?? 0));
            var quota = new JsonObject
            {
                ["usage"] = usage.ToString(),
                ["usageInDrive"] = usage.ToString(),
                ["usageInDriveTrash"] = trash.ToString(),
            };
            if (QuotaLimitBytes is { } limit) quota["limit"] = limit.ToString();
            about = new JsonObject
            {
                ["kind"] = "drive#about",
                ["user"] = new JsonObject { ["kind"] = "drive#user", ["displayName"] = "Test User", ["emailAddress"] = AccountEmail },
                ["storageQuota"] = quota,
            };
        }
        // about.get has no default field set: Drive refuses it without 'fields'.
        if (string.IsNullOrEmpty(context.Request.Query["fields"])) throw new FakeDriveError(400, "required", "The 'fields' parameter is required for this method.");
        await JsonAsync(context, 200, FieldSelector.Parse(context.Request.Query["fields"], "").Apply(about)).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var predicate = DriveQuery.Parse(query["q"]);
        var pageSize = 100;
        if (!string.IsNullOrEmpty(query["pageSize"]) && (!int.TryParse(query["pageSize"], out pageSize) || pageSize < 1 || pageSize > 1000))
            throw new FakeDriveError(400, "invalid", "Invalid value for pageSize.");
        var start = 0;
        if (!string.IsNullOrEmpty(query["pageToken"]) && !TryReadPageToken(query["pageToken"]!, out start))
            throw new FakeDriveError(400, "invalid", "Invalid Value");
        var selector = FieldSelector.Parse(query["fields"], "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)");

        var page = new JsonArray();
        string? next = null;
        lock (_lock)
        {
            var matches = _files.Where(predicate).ToList();
            foreach (var file in matches.Skip(start).Take(pageSize)) page.Add(FileJsonLocked(file));
            if (start + pageSize < matches.Count) next = Convert.ToBase64String(Encoding.UTF8.GetBytes("offset:" + (start + pageSize)));
        }
        var result = new JsonObject { ["kind"] = "drive#fileList", ["incompleteSearch"] = false };
        if (next is not null) result["nextPageToken"] = next;
        result["files"] = page;
        await JsonAsync(context, 200, selector.Apply(result)).ConfigureAwait(false);
    }

    private static bool TryReadPageToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("offset:", StringComparison.Ordinal) && int.TryParse(text["offset:".Length..], out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private async Task CreateMetadataAsync(HttpContext context)
    {
        var metadata = await ReadMetadataAsync(context.Request.Body, context.RequestAborted).ConfigureAwait(false);
        JsonObject json;
        lock (_lock)
        {
            var file = CreateLocked(metadata, null, null);
            json = FileJsonLocked(file);
        }
        await JsonAsync(context, 200, Selector(context).Apply(json)).ConfigureAwait(false);
    }

    private async Task GetAsync(HttpContext context, string id)
    {
        JsonObject json;
        lock (_lock) json = FileJsonLocked(Find(id) ?? throw NotFound(id));
        await JsonAsync(context, 200, Selector(context).Apply(json)).ConfigureAwait(false);
    }

    private async Task DeleteAsync(HttpContext context, string id)
    {
        lock (_lock)
        {
            var file = Find(id) ?? throw NotFound(id);
            RemoveTreeLocked(file);
        }
        context.Response.StatusCode = 204;
        await context.Response.CompleteAsync().ConfigureAwait(false);
    }

    private async Task MediaAsync(HttpContext context, string id)
    {
        byte[] content;
        lock (_lock)
        {
            var file = Find(id) ?? throw NotFound(id);
            content = file.Content ?? throw new FakeDriveError(403, "fileNotDownloadable", "Only files with binary content can be downloaded. Use Export with Docs Editors files.");
        }
        long from = 0, to = content.Length - 1;
        var response = context.Response;
        var ranged = false;
        if (context.Request.Headers.Range.ToString() is { Length: > 0 } rangeHeader)
        {
            var range = RangeHeaderValue.Parse(rangeHeader).Ranges.Single();
            from = range.From ?? content.Length - range.To!.Value;
            if (range.From is not null && range.To is { } end) to = Math.Min(end, content.Length - 1);
            if (from >= content.Length && content.Length > 0)
            {
                response.Headers.ContentRange = $"bytes */{content.Length}";
                await ErrorAsync(context, 416, "requestedRangeNotSatisfiable", "Request range not satisfiable").ConfigureAwait(false);
                return;
            }
            ranged = true;
        }
        var length = Math.Max(0, to - from + 1);
        response.StatusCode = ranged ? 206 : 200;
        response.ContentType = "application/octet-stream";
        response.ContentLength = length;
        if (ranged) response.Headers.ContentRange = $"bytes {from}-{to}/{content.Length}";

        var drop = Faults.TakeDownloadDrop();
        if (drop >= 0 && drop < length)
        {
            await response.Body.WriteAsync(content.AsMemory((int)from, (int)drop), context.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            context.Abort();
            return;
        }
        await response.Body.WriteAsync(content.AsMemory((int)from, (int)length), context.RequestAborted).ConfigureAwait(false);
    }

    // ---- uploads ----

    private async Task MultipartAsync(HttpContext context, string? targetId)
    {
        var mediaType = MediaTypeHeaderValue.Parse(context.Request.ContentType);
        if (!mediaType.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase))
            throw new FakeDriveError(400, "badContent", "Multipart uploads must be multipart/related.");
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value ?? throw new FakeDriveError(400, "badContent", "Missing boundary.");

        var body = new CountingStream(context, this, Faults.TakeUploadDrop());
        var reader = new MultipartReader(boundary, body);
        var metadataSection = await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false)
            ?? throw new FakeDriveError(400, "badContent", "Missing metadata part.");
        var metadata = await ReadMetadataAsync(metadataSection.Body, context.RequestAborted).ConfigureAwait(false);
        var mediaSection = await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false)
            ?? throw new FakeDriveError(400, "badContent", "Missing media part.");
        using var media = new MemoryStream();
        await mediaSection.Body.CopyToAsync(media, context.RequestAborted).ConfigureAwait(false);
        if (await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false) is not null)
            throw new FakeDriveError(400, "badContent", "Multipart uploads take exactly two parts.");

        JsonObject json;
        lock (_lock)
        {
            var file = targetId is null
                ? CreateLocked(metadata, mediaSection.ContentType, media.ToArray())
                : UpdateLocked(targetId, metadata, media.ToArray());
            json = FileJsonLocked(file);
        }
        await JsonAsync(context, 200, Selector(context).Apply(json)).ConfigureAwait(false);
    }

    private async Task StartResumableAsync(HttpContext context, string? targetId)
    {
        var request = context.Request;
        var metadata = await ReadMetadataAsync(request.Body, context.RequestAborted).ConfigureAwait(false);
        long? total = long.TryParse(request.Headers["X-Upload-Content-Length"], out var declared) ? declared : null;
        var session = new UploadSession
        {
            Id = RandomToken(24),
            TargetId = targetId,
            Metadata = metadata,
            ContentType = request.Headers["X-Upload-Content-Type"].ToString() is { Length: > 0 } type ? type : null,
            Total = total,
            Fields = request.Query["fields"],
        };
        lock (_lock)
        {
            if (targetId is not null && Find(targetId) is null) throw NotFound(targetId);
            _sessions[session.Id] = session;
        }
        var location = targetId is null
            ? $"{BaseUri}upload/drive/v3/files?uploadType=resumable&upload_id={session.Id}"
            : $"{BaseUri}upload/drive/v3/files/{targetId}?uploadType=resumable&upload_id={session.Id}";
        context.Response.StatusCode = 200;
        context.Response.Headers.Location = location;
        context.Response.ContentLength = 0;
    }

    private async Task ChunkAsync(HttpContext context)
    {
        var request = context.Request;
        var id = request.Query["upload_id"].ToString();
        UploadSession? session;
        lock (_lock) session = _sessions.TryGetValue(id, out var s) && !s.Forgotten ? s : null;
        if (session is null)
        {
            await DrainAsync(context).ConfigureAwait(false);
            await ErrorAsync(context, 404, "notFound", "Upload session not found or expired.").ConfigureAwait(false);
            return;
        }

        var range = ContentRange.Parse(request.Headers.ContentRange.ToString());
        if (range.Total is { } total)
        {
            lock (_lock)
            {
                if (session.Total is { } known && known != total) throw new FakeDriveError(400, "badContent", "The total size changed during the upload.");
                session.Total = total;
            }
        }

        if (range.IsStatusQuery)
        {
            Count("upload.status");
            await DrainAsync(context).ConfigureAwait(false);
            await AnswerSessionAsync(context, session).ConfigureAwait(false);
            return;
        }

        var body = new CountingStream(context, this, Faults.TakeUploadDrop());
        using var chunk = new MemoryStream();
        try
        {
            await body.CopyToAsync(chunk, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            KeepPartialChunk(context, chunk.ToArray());
            throw;
        }
        finally
        {
            lock (_lock) session.BytesReceived += body.BytesRead;
        }
        lock (_lock)
        {
            if (session.Completed is not null) { /* already complete: answered below */ }
            else if (range.First > session.Data.Length)
                throw new FakeDriveError(400, "badContent", $"Chunk starts at {range.First} but only {session.Data.Length} bytes were received.");
            else if (range.Last - range.First + 1 != chunk.Length)
                throw new FakeDriveError(400, "badContent", "Content-Range does not match the body length.");
            else
            {
                var final = session.Total is { } size && range.Last + 1 == size;
                if (!final && chunk.Length % ChunkGranularity != 0)
                    throw new FakeDriveError(400, "badContent", "Chunks other than the last must be a multiple of 256 KiB.");
                session.Data.SetLength(range.First);
                session.Data.Position = range.First;
                chunk.Position = 0;
                chunk.CopyTo(session.Data);
                if (final)
                {
                    var content = session.Data.ToArray();
                    session.Completed = session.TargetId is null
                        ? CreateLocked(session.Metadata, session.ContentType, content)
                        : UpdateLocked(session.TargetId, session.Metadata, content);
                }
            }
        }
        await AnswerSessionAsync(context, session).ConfigureAwait(false);
    }

    private Task AnswerSessionAsync(HttpContext context, UploadSession session)
    {
        JsonObject? json;
        long received;
        lock (_lock)
        {
            json = session.Completed is { } file ? FileJsonLocked(file) : null;
            received = session.Data.Length;
        }
        if (json is not null) return JsonAsync(context, 200, FieldSelector.Parse(session.Fields, "kind,id,name,mimeType").Apply(json));
        context.Response.StatusCode = 308;
        if (received > 0) context.Response.Headers.Range = $"bytes=0-{received - 1}";
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>A cut-off chunk is not answered, but Drive keeps what it received of it in whole 256 KiB units.</summary>
    private void KeepPartialChunk(HttpContext context, byte[] partial)
    {
        var id = context.Request.Query["upload_id"].ToString();
        if (id.Length == 0) return;
        var range = ContentRange.Parse(context.Request.Headers.ContentRange.ToString());
        lock (_lock)
        {
            if (!_sessions.TryGetValue(id, out var session) || session.Completed is not null || range.First != session.Data.Length) return;
            var keep = partial.Length / ChunkGranularity * ChunkGranularity;
            session.Data.Position = session.Data.Length;
            session.Data.Write(partial, 0, keep);
        }
    }

    internal void AddUploadBytes(long count) => Interlocked.Add(ref _uploadBytes, count);

    // ---- the store ----

    private FakeFile? Find(string id) => _files.FirstOrDefault(f => f.Id == id);

    private FakeFile CreateLocked(JsonObject metadata, string? mediaContentType, byte[]? content)
    {
        var name = metadata["name"]?.GetValue<string>() ?? "Untitled";
        var mimeType = metadata["mimeType"]?.GetValue<string>() ?? mediaContentType ?? "application/octet-stream";
        var parents = metadata["parents"] is JsonArray list ? list.Select(p => p!.GetValue<string>()).ToList() : [RootId];
        if (parents.Count != 1) throw new FakeDriveError(400, "invalid", "A file must have exactly one parent.");
        foreach (var parent in parents)
            if (parent != RootId && Find(parent) is not { IsFolder: true }) throw NotFound(parent);
        if (mimeType == FakeFile.FolderMimeType && content is { Length: > 0 })
            throw new FakeDriveError(400, "badContent", "Folders cannot have content.");
        return AddLocked(name, mimeType, parents[0], mimeType == FakeFile.FolderMimeType ? null : content ?? [], null);
    }

    private FakeFile UpdateLocked(string id, JsonObject metadata, byte[] content)
    {
        var file = Find(id) ?? throw NotFound(id);
        if (file.IsFolder) throw new FakeDriveError(400, "badContent", "Folders cannot have content.");
        if (metadata["name"]?.GetValue<string>() is { } name) file.Name = name;
        file.SetContent(content, DateTimeOffset.UtcNow);
        return file;
    }

    private FakeFile AddLocked(string name, string mimeType, string parentId, byte[]? content, DateTimeOffset? createdTime)
    {
        // Ids sort in creation order, like timestamps, so "oldest" is unambiguous even within one millisecond.
        var now = createdTime ?? DateTimeOffset.UtcNow;
        var file = new FakeFile
        {
            Id = $"fake{Interlocked.Increment(ref _nextId):D8}{RandomToken(6)}",
            Name = name,
            MimeType = mimeType,
            Parents = [parentId],
            CreatedTime = now,
            ModifiedTime = now,
        };
        if (content is not null) file.SetContent(content, now);
        _files.Add(file);
        return file;
    }

    private void RemoveTreeLocked(FakeFile file)
    {
        foreach (var child in _files.Where(f => f.Parents.Contains(file.Id)).ToList()) RemoveTreeLocked(child);
        _files.Remove(file);
    }

    private JsonObject FileJsonLocked(FakeFile file)
    {
        var json = new JsonObject
        {
            ["kind"] = "drive#file",
            ["id"] = file.Id,
            ["name"] = file.Name,
            ["mimeType"] = file.MimeType,
            ["parents"] = new JsonArray(file.Parents.Select(p => (JsonNode)JsonValue.Create(p)).ToArray()),
            ["trashed"] = file.Trashed,
            ["createdTime"] = Rfc3339(file.CreatedTime),
            ["modifiedTime"] = Rfc3339(file.ModifiedTime),
        };
        if (file.Content is { } content)
        {
            json["size"] = content.Length.ToString();
            json["md5Checksum"] = Faults.ReportWrongMd5 ? new string(file.Md5!.Reverse().ToArray()) : file.Md5;
        }
        return json;
    }

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    private static FieldSelector Selector(HttpContext context) => FieldSelector.Parse(context.Request.Query["fields"], "kind,id,name,mimeType");

    private static async Task<JsonObject> ReadMetadataAsync(Stream body, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text)) return [];
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new FakeDriveError(400, "parseError", "Metadata must be a JSON object.");
        }
        catch (System.Text.Json.JsonException)
        {
            throw new FakeDriveError(400, "parseError", "Parse Error");
        }
    }

    private static FakeDriveError NotFound(string id) => new(404, "notFound", $"File not found: {id}.");

    private static string RandomToken(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    private sealed class UploadSession
    {
        public required string Id { get; init; }
        public string? TargetId { get; init; }
        public required JsonObject Metadata { get; init; }
        public string? ContentType { get; init; }
        public long? Total { get; set; }
        public string? Fields { get; init; }
        public MemoryStream Data { get; } = new();
        public long BytesReceived { get; set; }
        public FakeFile? Completed { get; set; }
        public bool Forgotten { get; set; }
    }

    /// <summary>Content-Range of a resumable PUT: <c>bytes a-b/N</c>, <c>bytes a-b/*</c> or <c>bytes */N</c>.</summary>
    private readonly record struct ContentRange(bool IsStatusQuery, long First, long Last, long? Total)
    {
        public static ContentRange Parse(string header)
        {
            if (!header.StartsWith("bytes ", StringComparison.Ordinal)) throw new FakeDriveError(400, "badContent", "Missing or invalid Content-Range.");
            var spec = header["bytes ".Length..];
            var slash = spec.IndexOf('/');
            if (slash < 0) throw new FakeDriveError(400, "badContent", "Invalid Content-Range.");
            var totalText = spec[(slash + 1)..];
            long? total = totalText == "*" ? null : long.Parse(totalText);
            var rangeText = spec[..slash];
            if (rangeText == "*") return new ContentRange(true, 0, -1, total);
            var dash = rangeText.IndexOf('-');
            if (dash < 0) throw new FakeDriveError(400, "badContent", "Invalid Content-Range.");
            return new ContentRange(false, long.Parse(rangeText[..dash]), long.Parse(rangeText[(dash + 1)..]), total);
        }
    }
}
