using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace TierStorage.DriveFake;

/// <summary>The OAuth 2.0 side: authorization endpoint (redirects to the loopback receiver with a code), token
/// endpoint (authorization_code with PKCE, refresh_token), revocation, and bearer checks on API requests.</summary>
public sealed partial class DriveFakeServer
{
    private void Authorize(HttpContext context)
    {
        var query = context.Request.Query;
        var redirect = query["redirect_uri"].ToString();
        if (query["client_id"] != ClientId || query["response_type"] != "code"
            || !Uri.TryCreate(redirect, UriKind.Absolute, out var redirectUri) || !redirectUri.IsLoopback || string.IsNullOrEmpty(query["scope"]))
        {
            context.Response.StatusCode = 400;
            return;
        }
        var scope = query["scope"].ToString();
        var code = new AuthorizationCode(RandomToken(16), redirect, scope, query["code_challenge"], query["code_challenge_method"]);
        lock (_lock)
        {
            LastAuthorizationScope = scope;
            _codes[code.Code] = code;
        }
        var parameters = new Dictionary<string, string?> { ["code"] = code.Code, ["scope"] = scope };
        if (!string.IsNullOrEmpty(query["state"])) parameters["state"] = query["state"];
        context.Response.Redirect(QueryHelpers.AddQueryString(redirect, parameters));
    }

    private async Task TokenAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await OAuthErrorAsync(context, 400, "invalid_request").ConfigureAwait(false);
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            await OAuthErrorAsync(context, 401, "invalid_client").ConfigureAwait(false);
            return;
        }
        JsonObject? answer = null;
        lock (_lock)
        {
            switch (form["grant_type"].ToString())
            {
                case "authorization_code":
                    if (_codes.Remove(form["code"].ToString(), out var code) && code.RedirectUri == form["redirect_uri"] && PkceHolds(code, form["code_verifier"]))
                    {
                        var refresh = NewRefreshTokenLocked(code.Scope);
                        answer = TokenJsonLocked(refresh);
                        answer["refresh_token"] = refresh.Token;
                    }
                    break;
                case "refresh_token":
                    if (_refreshTokens.TryGetValue(form["refresh_token"].ToString(), out var grant) && !grant.Revoked)
                        answer = TokenJsonLocked(grant);
                    break;
            }
        }
        if (answer is null) await OAuthErrorAsync(context, 400, "invalid_grant").ConfigureAwait(false);
        else await JsonAsync(context, 200, answer).ConfigureAwait(false);
    }

    private async Task RevokeAsync(HttpContext context)
    {
        var token = context.Request.Query["token"].ToString();
        if (token.Length == 0 && context.Request.HasFormContentType)
            token = (await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false))["token"].ToString();
        bool revoked;
        lock (_lock)
        {
            var grant = _refreshTokens.GetValueOrDefault(token) ?? _accessTokens.GetValueOrDefault(token)?.Grant;
            revoked = grant is { Revoked: false };
            if (grant is not null) grant.Revoked = true;
        }
        if (revoked) await JsonAsync(context, 200, []).ConfigureAwait(false);
        else await OAuthErrorAsync(context, 400, "invalid_token").ConfigureAwait(false);
    }

    private static bool PkceHolds(AuthorizationCode code, string? verifier)
    {
        if (string.IsNullOrEmpty(code.Challenge)) return true;
        if (string.IsNullOrEmpty(verifier)) return false;
        var computed = code.ChallengeMethod == "S256"
            ? Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)))
            : verifier;
        return computed == code.Challenge;
    }

    private RefreshGrant NewRefreshTokenLocked(string scope)
    {
        var grant = new RefreshGrant("1//fake-" + RandomToken(24), scope);
        _refreshTokens[grant.Token] = grant;
        return grant;
    }

    private string NewAccessTokenLocked(RefreshGrant grant)
    {
        var token = "ya29.fake-" + RandomToken(24);
        _accessTokens[token] = new AccessGrant(grant) { ExpiresAt = DateTimeOffset.UtcNow + AccessTokenLifetime };
        return token;
    }

    private JsonObject TokenJsonLocked(RefreshGrant grant) => new()
    {
        ["access_token"] = NewAccessTokenLocked(grant),
        ["expires_in"] = (long)AccessTokenLifetime.TotalSeconds,
        ["scope"] = grant.Scope,
        ["token_type"] = "Bearer",
    };

    /// <summary>True when the request carries a live access token with a Drive scope.</summary>
    private bool Authenticated(HttpRequest request, out bool insufficientScope)
    {
        insufficientScope = false;
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        lock (_lock)
        {
            if (!_accessTokens.TryGetValue(header["Bearer ".Length..], out var access) || access.Grant.Revoked || access.ExpiresAt <= DateTimeOffset.UtcNow)
                return false;
            var scopes = access.Grant.Scope.Split(' ');
            insufficientScope = !scopes.Contains(DriveFileScope) && !scopes.Contains("https://www.googleapis.com/auth/drive");
            return !insufficientScope;
        }
    }

    private static Task OAuthErrorAsync(HttpContext context, int status, string error) =>
        JsonAsync(context, status, new JsonObject { ["error"] = error, ["error_description"] = "Bad Request" });

    // ---- responses ----

    private Task FaultAsync(HttpContext context, DriveFault fault)
    {
        switch (fault)
        {
            case DriveFault.UserRateLimitExceeded:
                return ErrorAsync(context, 403, "userRateLimitExceeded", "User Rate Limit Exceeded", "usageLimits");
            case DriveFault.RateLimitExceeded:
                return ErrorAsync(context, 403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits");
            case DriveFault.TooManyRequests:
                context.Response.Headers.RetryAfter = Faults.RetryAfterSeconds.ToString();
                return ErrorAsync(context, 429, "rateLimitExceeded", "Too Many Requests", "usageLimits");
            case DriveFault.InternalError:
                return ErrorAsync(context, 500, "backendError", "Backend Error");
            case DriveFault.ServiceUnavailable:
                return ErrorAsync(context, 503, "backendError", "Service Unavailable");
            case DriveFault.UploadLimitExceeded:
                return ErrorAsync(context, 403, "uploadLimitExceeded", "The user has exceeded their Drive upload limit", "usageLimits");
            default:
                return ErrorAsync(context, 403, "storageQuotaExceeded", "The user's Drive storage quota has been exceeded.", "usageLimits");
        }
    }

    /// <summary>Drive's error format: {"error":{"errors":[{"domain","reason","message"}],"code","message"}}.</summary>
    private static Task ErrorAsync(HttpContext context, int status, string reason, string message, string domain = "global")
    {
        var error = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["errors"] = new JsonArray(new JsonObject { ["domain"] = domain, ["reason"] = reason, ["message"] = message }),
                ["code"] = status,
                ["message"] = message,
            },
        };
        return JsonAsync(context, status, error);
    }

    private static async Task JsonAsync(HttpContext context, int status, JsonObject body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Reads and discards a body the answer does not need, so the client is not cut off while still sending it.</summary>
    private async Task DrainAsync(HttpContext context)
    {
        var buffer = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            if (context.Request.Path.StartsWithSegments("/upload")) AddUploadBytes(read);
    }

    private sealed record AuthorizationCode(string Code, string RedirectUri, string Scope, string? Challenge, string? ChallengeMethod);

    private sealed class RefreshGrant(string token, string scope)
    {
        public string Token { get; } = token;
        public string Scope { get; } = scope;
        public bool Revoked { get; set; }
    }

    private sealed class AccessGrant(RefreshGrant grant)
    {
        public RefreshGrant Grant { get; } = grant;
        public DateTimeOffset ExpiresAt { get; set; }
    }
}

/// <summary>An error the fake answers in Drive's JSON format.</summary>
internal sealed class FakeDriveError(int status, string reason, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Reason { get; } = reason;
}

/// <summary>The request body of an upload, counted into the server's totals, and cut off (connection aborted) after
/// a set number of bytes when a drop fault is armed.</summary>
internal sealed class CountingStream(HttpContext context, DriveFakeServer server, long dropAfter) : Stream
{
    private readonly Stream _inner = context.Request.Body;

    public long BytesRead { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (dropAfter >= 0 && BytesRead >= dropAfter)
        {
            context.Abort();
            throw new IOException("Connection dropped by a fault switch.");
        }
        if (dropAfter >= 0) buffer = buffer[..(int)Math.Min(buffer.Length, dropAfter - BytesRead)];
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        BytesRead += read;
        server.AddUploadBytes(read);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Kestrel bodies are read asynchronously.");
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
