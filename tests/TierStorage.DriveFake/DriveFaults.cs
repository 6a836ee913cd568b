namespace TierStorage.DriveFake;

/// <summary>The error answers a test can queue; each is sent the way Drive sends it.</summary>
public enum DriveFault
{
    /// <summary>403 userRateLimitExceeded.</summary>
    UserRateLimitExceeded,
    /// <summary>403 rateLimitExceeded.</summary>
    RateLimitExceeded,
    /// <summary>429 with a Retry-After header.</summary>
    TooManyRequests,
    /// <summary>500 backendError.</summary>
    InternalError,
    /// <summary>503 backendError.</summary>
    ServiceUnavailable,
    /// <summary>403 uploadLimitExceeded (the daily upload limit).</summary>
    UploadLimitExceeded,
    /// <summary>403 storageQuotaExceeded.</summary>
    StorageQuotaExceeded,
}

/// <summary>Fault switches, safe to set from a test while requests are in flight.</summary>
public sealed class DriveFaults
{
    private readonly List<(DriveFault Fault, string? Kind)> _errors = [];
    private long _dropUploadAfter = -1;
    private long _dropDownloadAfter = -1;
    private long _responseDelayTicks;
    private int _wrongMd5;
    private int _retryAfterSeconds = 1;

    /// <summary>The next <paramref name="count"/> API requests (not OAuth) answer with <paramref name="fault"/>; with
    /// <paramref name="requestKind"/> (a prefix of a kind such as "upload."), only requests of that kind do.</summary>
    public void FailNext(DriveFault fault, int count = 1, string? requestKind = null)
    {
        lock (_errors)
            for (var i = 0; i < count; i++) _errors.Add((fault, requestKind));
    }

    /// <summary>Seconds sent in Retry-After with <see cref="DriveFault.TooManyRequests"/>.</summary>
    public int RetryAfterSeconds
    {
        get => Volatile.Read(ref _retryAfterSeconds);
        set => Volatile.Write(ref _retryAfterSeconds, value);
    }

    /// <summary>The next upload request (a resumable chunk or a multipart body) is aborted once the server has read
    /// <paramref name="bytes"/> bytes of its body; one-shot.</summary>
    public void DropNextUploadAfter(long bytes) => Interlocked.Exchange(ref _dropUploadAfter, bytes);

    /// <summary>The next media download is aborted after <paramref name="bytes"/> bytes of its body; one-shot.</summary>
    public void DropNextDownloadAfter(long bytes) => Interlocked.Exchange(ref _dropDownloadAfter, bytes);

    /// <summary>Delay before every API response.</summary>
    public TimeSpan ResponseDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _responseDelayTicks));
        set => Interlocked.Exchange(ref _responseDelayTicks, value.Ticks);
    }

    /// <summary>md5Checksum reported for every file is wrong while this is on.</summary>
    public bool ReportWrongMd5
    {
        get => Volatile.Read(ref _wrongMd5) == 1;
        set => Volatile.Write(ref _wrongMd5, value ? 1 : 0);
    }

    internal bool TryTakeError(string kind, out DriveFault fault)
    {
        lock (_errors)
        {
            var index = _errors.FindIndex(e => e.Kind is null || kind.StartsWith(e.Kind, StringComparison.Ordinal));
            fault = index >= 0 ? _errors[index].Fault : default;
            if (index >= 0) _errors.RemoveAt(index);
            return index >= 0;
        }
    }

    internal long TakeUploadDrop() => Interlocked.Exchange(ref _dropUploadAfter, -1);

    internal long TakeDownloadDrop() => Interlocked.Exchange(ref _dropDownloadAfter, -1);
}
