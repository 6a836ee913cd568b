using Amazon.Runtime;

namespace TierStorage.Engine.Tiers.S3;

/// <summary>How an <see cref="S3ObjectStore"/> reaches and uses one bucket (AWS or an S3-compatible server).</summary>
public sealed record S3StoreOptions
{
    public const long MiB = 1024 * 1024;
    /// <summary>S3's smallest part (all but the last part of a multipart upload).</summary>
    public const long MinPartSize = 5 * MiB;
    /// <summary>S3's largest part.</summary>
    public const long MaxPartSize = 5L * 1024 * MiB;
    /// <summary>S3's limit on parts per upload; larger objects get larger parts.</summary>
    public const int MaxParts = 10_000;
    public const string DefaultStorageClass = "DEEP_ARCHIVE";

    /// <summary>Classes S3 accepts on a put.</summary>
    public static IReadOnlyList<string> StorageClasses { get; } =
        ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY"];

    /// <summary>Name of the tier in the policy.</summary>
    public required string TierName { get; init; }
    public required string Bucket { get; init; }
    /// <summary>AWS region of the bucket; for an S3-compatible endpoint the signing region (us-east-1 suits most).</summary>
    public string Region { get; init; } = "us-east-1";
    /// <summary>Folder-like prefix every key lives under ("" for the bucket's root); stored with one trailing '/'.</summary>
    public string Prefix { get; init; } = "";
    /// <summary>Class of every put that does not ask for another (<see cref="PutOptions.StorageClass"/>).</summary>
    public string StorageClass { get; init; } = DefaultStorageClass;
    /// <summary>Endpoint of an S3-compatible server (MinIO, R2, B2, Ceph, s3rver); null for AWS.</summary>
    public Uri? ServiceUrl { get; init; }
    /// <summary>https://host/bucket/key instead of https://bucket.host/key (most S3-compatible servers need it).</summary>
    public bool ForcePathStyle { get; init; }
    /// <summary>AES256 or aws:kms; null for the bucket's default.</summary>
    public string? ServerSideEncryption { get; init; }
    /// <summary>Named profile of the AWS SDK's shared config (keys, SSO, credential process); null for the SDK's default
    /// chain (environment, default profile, SSO, container and instance roles).</summary>
    public string? Profile { get; init; }
    /// <summary>Explicit credentials, for tests and hosts that obtain them otherwise. Never read from a policy file:
    /// <see cref="S3ObjectStore.FromTier"/> only passes what its caller hands it.</summary>
    public AWSCredentials? Credentials { get; init; }
    /// <summary>Bytes per part of a multipart upload (at least 5 MiB); grown for objects that would need more than 10,000 parts.</summary>
    public long PartSize { get; init; } = 16 * MiB;
    /// <summary>Content at or above this size goes multipart (resumable); smaller content in one PutObject.</summary>
    public long MultipartThreshold { get; init; } = 16 * MiB;
    /// <summary>Parts of one multipart upload sent at once; memory holds this many parts (<see cref="PartSize"/> each).</summary>
    public int MaxConcurrentParts { get; init; } = 4;
    /// <summary>ListObjectsV2 page size (S3 allows 1..1000).</summary>
    public int ListPageSize { get; init; } = 1000;
    /// <summary>Retries of the SDK for throttling (503 SlowDown), 500s and lost connections, before the tier counts as unreachable.</summary>
    public int MaxErrorRetry { get; init; } = 4;
    /// <summary>Limit of one request (headers and body of a part).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Times in a row a download cut off part way is resumed (HTTP Range) before the tier counts as unreachable.</summary>
    public int MaxDownloadResumes { get; init; } = 5;
    /// <summary>Clock for saved upload states and the age of abandoned uploads.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The prefix as keys use it: no leading '/', one trailing '/', or empty.</summary>
    internal string KeyPrefix => Prefix.Trim('/') is { Length: > 0 } trimmed ? trimmed + "/" : "";

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(TierName)) throw new ArgumentException("A tier name is required.", nameof(TierName));
        if (string.IsNullOrWhiteSpace(Bucket)) throw new ArgumentException($"Tier '{TierName}' needs a bucket.", nameof(Bucket));
        if (string.IsNullOrWhiteSpace(Region)) throw new ArgumentException($"Tier '{TierName}' needs a region.", nameof(Region));
        if (Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries).Any(s => s is "." or "..") || Prefix.Contains('\\') || Prefix.Contains("//", StringComparison.Ordinal))
            throw new ArgumentException($"The prefix '{Prefix}' of tier '{TierName}' must be '/'-separated names without '.', '..' or empty segments.", nameof(Prefix));
        if (!StorageClasses.Contains(StorageClass))
            throw new ArgumentException($"Unknown storage class '{StorageClass}' for tier '{TierName}'; expected one of {string.Join(", ", StorageClasses)}.", nameof(StorageClass));
        if (ServerSideEncryption is not (null or "AES256" or "aws:kms"))
            throw new ArgumentException($"Server-side encryption of tier '{TierName}' must be AES256 or aws:kms.", nameof(ServerSideEncryption));
        if (ServiceUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
            throw new ArgumentException($"The endpoint of tier '{TierName}' must be an absolute http:// or https:// URL.", nameof(ServiceUrl));
        if (PartSize is < MinPartSize or > MaxPartSize)
            throw new ArgumentException($"The part size of tier '{TierName}' must be between 5 MiB and 5 GiB (S3's limits), not {PartSize:N0} bytes.", nameof(PartSize));
        if (MaxConcurrentParts is < 1 or > 64) throw new ArgumentException("MaxConcurrentParts must be 1..64.", nameof(MaxConcurrentParts));
        if (MultipartThreshold < 0) throw new ArgumentException("The multipart threshold cannot be negative.", nameof(MultipartThreshold));
        if (ListPageSize is < 1 or > 1000) throw new ArgumentException("The list page size must be 1..1000.", nameof(ListPageSize));
        if (MaxErrorRetry < 0) throw new ArgumentException("MaxErrorRetry cannot be negative.", nameof(MaxErrorRetry));
        if (MaxDownloadResumes < 0) throw new ArgumentException("MaxDownloadResumes cannot be negative.", nameof(MaxDownloadResumes));
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("RequestTimeout must be positive.", nameof(RequestTimeout));
    }

    /// <summary>Storage classes whose objects must be restored before a GET (GLACIER_IR is read directly).</summary>
    internal static bool IsCold(string storageClass) => storageClass is "GLACIER" or "DEEP_ARCHIVE";
}
