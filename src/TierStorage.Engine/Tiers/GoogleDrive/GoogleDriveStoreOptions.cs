using Google.Apis.Http;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>How a <see cref="GoogleDriveStore"/> reaches and uses one Drive tier.</summary>
public sealed record GoogleDriveStoreOptions
{
    public const int ChunkGranularity = 256 * 1024;

    /// <summary>Name of the tier in the policy.</summary>
    public required string TierName { get; init; }
    /// <summary>Folder under My Drive that holds the tier's keys, found or created on first use: one name, or the tier's
    /// folder and the workspace's namespace under it ("TierStorage/myproject-1a2b3c4d").</summary>
    public required string RootFolder { get; init; }
    /// <summary>Authorizes every request and refreshes the token on a 401 (a <c>UserCredential</c> from
    /// <see cref="DriveAuthorization.LoadCredentialAsync"/>).</summary>
    public required IConfigurableHttpClientInitializer Credential { get; init; }
    public Uri ApiBaseUri { get; init; } = DriveEndpoints.Google.ApiBaseUri;
    /// <summary>Bytes per resumable PUT; a multiple of 256 KiB, as Drive requires of every chunk but the last.</summary>
    public int ChunkSize { get; init; } = 8 * 1024 * 1024;
    /// <summary>Content at or above this size is uploaded resumable, smaller content in one multipart request.</summary>
    public long ResumableThreshold { get; init; } = 5 * 1024 * 1024;
    /// <summary>files.list page size (Drive allows 1..1000).</summary>
    public int ListPageSize { get; init; } = 1000;
    public DriveRetryOptions Retry { get; init; } = new();
    /// <summary>Clock for backoff delays and saved upload states.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(TierName)) throw new ArgumentException("A tier name is required.", nameof(TierName));
        if (string.IsNullOrWhiteSpace(RootFolder) || RootFolder.Split('/').Any(s => s.Trim().Length == 0 || s is "." or ".."))
            throw new ArgumentException("The root folder must be folder names separated by '/' (none empty, '.' or '..').", nameof(RootFolder));
        if (ChunkSize <= 0 || ChunkSize % ChunkGranularity != 0)
            throw new ArgumentException($"The chunk size must be a positive multiple of {ChunkGranularity} bytes.", nameof(ChunkSize));
        if (ResumableThreshold < 0) throw new ArgumentException("The resumable threshold cannot be negative.", nameof(ResumableThreshold));
        if (ListPageSize is < 1 or > 1000) throw new ArgumentException("The list page size must be 1..1000.", nameof(ListPageSize));
        Retry.Validate();
    }
}

/// <summary>Truncated exponential backoff with jitter for Drive's transient answers (403 rate limits, 429, 5xx) and
/// lost connections. Google recommends doubling from about a second up to 32 or 64 seconds.</summary>
public sealed record DriveRetryOptions
{
    /// <summary>Retries after the first attempt of one request; when they run out the tier counts as unreachable.</summary>
    public int MaxRetries { get; init; } = 6;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Cap of one delay, also of a server's Retry-After.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(32);
    /// <summary>Limit of one attempt (until response headers; for downloads also of each read).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMinutes(2);

    internal void Validate()
    {
        if (MaxRetries < 0) throw new ArgumentException("MaxRetries cannot be negative.", nameof(MaxRetries));
        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay) throw new ArgumentException("Delays must be positive and MaxDelay at least BaseDelay.", nameof(MaxDelay));
        if (AttemptTimeout <= TimeSpan.Zero) throw new ArgumentException("AttemptTimeout must be positive.", nameof(AttemptTimeout));
    }
}
