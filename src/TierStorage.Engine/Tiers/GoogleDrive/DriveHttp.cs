using System.Net;
using System.Text.Json;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Google.Apis.Services;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>One answer of Drive: the response, and its parsed error when the status is 400 or above.</summary>
internal sealed class DriveResponse(HttpResponseMessage message, DriveError? error) : IDisposable
{
    public HttpResponseMessage Message { get; } = message;
    public DriveError? Error { get; } = error;
    public int Status => (int)Message.StatusCode;

    public void Dispose() => Message.Dispose();
}

internal sealed record DriveError(int Status, string? Reason, string? Message, TimeSpan? RetryAfter)
{
    private static readonly string[] RateLimitReasons = ["userRateLimitExceeded", "rateLimitExceeded"];
    private static readonly string[] QuotaReasons = ["uploadLimitExceeded", "storageQuotaExceeded", "quotaExceeded", "dailyLimitExceeded", "teamDriveFileLimitExceeded"];

    /// <summary>Worth another try after a backoff: rate limits (403 with a rate reason, 429), timeouts and server errors.</summary>
    public bool IsTransient => Status is 408 or 429 or >= 500 || (Status == 403 && RateLimitReasons.Contains(Reason));

    public bool IsQuota => Status == 403 && QuotaReasons.Contains(Reason);
}

/// <summary>
/// The HTTP side of the Drive store: Google.Apis's authorized <see cref="ConfigurableHttpClient"/> (bearer token on
/// every request, one refresh and retry on a 401) under a Polly retry pipeline that owns every other retry, and the
/// mapping of failures onto <see cref="TierStorageException"/>s. Messages name the tier, the operation and the key,
/// never a URL: upload session URIs are capabilities, and no token ever appears in one.
/// </summary>
internal sealed class DriveHttp : IDisposable
{
    private readonly DriveClientService _service;
    private readonly ResiliencePipeline<DriveResponse> _pipeline;
    private readonly GoogleDriveStoreOptions _options;

    public DriveHttp(GoogleDriveStoreOptions options)
    {
        _options = options;
        _service = new DriveClientService(new BaseClientService.Initializer
        {
            HttpClientInitializer = options.Credential,
            ApplicationName = "TierStorage",
            // Polly below owns retries; the library's own backoff would multiply them.
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
            // Media bytes must arrive as stored: Range offsets and MD5s refer to them.
            GZipEnabled = false,
            HttpClientTimeout = Timeout.InfiniteTimeSpan,
        });
        var retry = options.Retry;
        var builder = new ResiliencePipelineBuilder<DriveResponse> { TimeProvider = options.TimeProvider };
        // Polly refuses zero retries; zero means the first failure is final (how a test plays a crash).
        if (retry.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<DriveResponse>
            {
                MaxRetryAttempts = retry.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = retry.BaseDelay,
                MaxDelay = retry.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.Error?.RetryAfter is { } after
                    ? (TimeSpan?)(after < retry.MaxDelay ? after : retry.MaxDelay)
                    : null),
            });
        }
        _pipeline = builder.AddTimeout(retry.AttemptTimeout).Build();
    }

    public ConfigurableHttpClient Client => _service.HttpClient;

    public string TierName => _options.TierName;

    public Uri Api(string relative) => new(DriveEndpoints.WithTrailingSlash(_options.ApiBaseUri), relative);

    /// <summary>Runs <paramref name="attempt"/> under the retry pipeline and returns the last answer (possibly an error
    /// the caller interprets); a connection that never succeeds becomes TierUnreachable, a refused refresh TierAuthRequired.</summary>
    public async Task<DriveResponse> SendAsync(Func<CancellationToken, Task<DriveResponse>> attempt, string operation, object? target, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async token => await attempt(token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TokenResponseException e)
        {
            throw AuthRequired(operation, target, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutRejectedException or OperationCanceledException)
        {
            throw Unreachable(operation, target, e);
        }
    }

    /// <summary>Sends a request built afresh for every attempt.</summary>
    public Task<DriveResponse> SendAsync(Func<HttpRequestMessage> createRequest, string operation, object? target, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        SendAsync(token => AttemptAsync(createRequest(), completion, token), operation, target, cancellationToken);

    /// <summary>Sends and expects a 2xx answer with a JSON body.</summary>
    public async Task<T> JsonAsync<T>(Func<HttpRequestMessage> createRequest, string operation, object? target, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(createRequest, operation, target, cancellationToken).ConfigureAwait(false);
        if (response.Error is { } error) throw Failure(error, operation, target);
        return await ReadJsonAsync<T>(response, operation, target, cancellationToken).ConfigureAwait(false);
    }

    public async Task<T> ReadJsonAsync<T>(DriveResponse response, string operation, object? target, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Message.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync(stream, DriveJson.Options.Info<T>(), cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("Empty answer.");
        }
        catch (JsonException e)
        {
            throw new TierStorageException(ErrorIds.TierRequestFailed, TierErrorKind.InvalidData,
                $"Google Drive tier '{TierName}' sent an answer that is not the expected JSON ({operation}).", target, e);
        }
    }

    /// <summary>One attempt: sends, and reads the body of an error answer so its reason and Retry-After are known.</summary>
    public async Task<DriveResponse> AttemptAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using (request)
        {
            var message = await Client.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            if ((int)message.StatusCode < 400) return new DriveResponse(message, null);
            try
            {
                return new DriveResponse(message, await ParseErrorAsync(message, cancellationToken).ConfigureAwait(false));
            }
            catch
            {
                message.Dispose();
                throw;
            }
        }
    }

    private async Task<DriveError> ParseErrorAsync(HttpResponseMessage message, CancellationToken cancellationToken)
    {
        var status = (int)message.StatusCode;
        TimeSpan? retryAfter = message.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - _options.TimeProvider.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
        DriveErrorDetail? detail = null;
        try
        {
            var text = await message.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (text.Length > 0) detail = JsonSerializer.Deserialize(text, DriveJson.Options.Info<DriveErrorBody>())?.Error;
        }
        catch (JsonException)
        {
            // A proxy or load balancer answered with HTML: the status alone decides.
        }
        return new DriveError(status, detail?.Errors.FirstOrDefault()?.Reason, detail?.Message, retryAfter);
    }

    private static bool ShouldRetry(Outcome<DriveResponse> outcome, CancellationToken cancellationToken) => outcome switch
    {
        { Exception: OperationCanceledException } when cancellationToken.IsCancellationRequested => false,
        { Exception: HttpRequestException or IOException or TimeoutRejectedException or OperationCanceledException } => true,
        { Result.Error: { } error } => error.IsTransient,
        _ => false,
    };

    /// <summary>The exception for an error answer that retries did not (or may not) cure.</summary>
    public TierStorageException Failure(DriveError error, string operation, object? target)
    {
        var what = $"Google Drive tier '{TierName}' refused {operation} (HTTP {error.Status}{(error.Reason is null ? "" : ", " + error.Reason)})";
        if (error.Status == 401 || (error.Status == 403 && error.Reason is "insufficientPermissions" or "authError"))
            return AuthRequired(operation, target, null);
        if (error.IsQuota)
            return new TierStorageException(ErrorIds.TierQuotaExceeded, TierErrorKind.ResourceUnavailable,
                $"{what}: the account's Drive limit is reached for now; the work stays queued and can be retried later.", target);
        if (error.IsTransient)
            return new TierStorageException(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
                $"{what} after {_options.Retry.MaxRetries + 1} attempts; the tier is treated as unreachable for now.", target);
        if (error.Status == 404)
            return new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, $"{what}: not found.", target);
        return new TierStorageException(ErrorIds.TierRequestFailed, TierErrorKind.InvalidOperation,
            $"{what}: {error.Message ?? "no details"}.", target);
    }

    private TierStorageException Unreachable(string operation, object? target, Exception inner) =>
        new(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
            $"Google Drive tier '{TierName}' could not be reached ({operation}) after {_options.Retry.MaxRetries + 1} attempts: {Describe(inner)}.", target, inner);

    private TierStorageException AuthRequired(string operation, object? target, Exception? inner) =>
        new(ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied,
            $"Google Drive tier '{TierName}' no longer accepts the stored authorization ({operation}); run Connect-TierDrive (tierstorage connect drive) again.", target, inner);

    private static string Describe(Exception e) => e switch
    {
        TimeoutRejectedException or OperationCanceledException => "the request timed out",
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "the host name could not be resolved",
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "the connection was refused or lost",
        _ => "the connection failed",
    };

    public void Dispose() => _service.Dispose();

    /// <summary>The Drive v3 service shell: only its authorized HttpClient is used, requests are built by the store.</summary>
    private sealed class DriveClientService(BaseClientService.Initializer initializer) : BaseClientService(initializer)
    {
        public override string Name => "drive";
        public override string BaseUri => "https://www.googleapis.com/drive/v3/";
        public override string BasePath => "drive/v3/";
        public override IList<string> Features => [];
    }
}
