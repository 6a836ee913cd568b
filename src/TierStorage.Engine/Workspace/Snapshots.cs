using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    /// <summary>Writes state/&lt;session&gt;_snapNNN.json.gz, redacted, through a temp file and an atomic rename. The JSON must parse.</summary>
    public async Task<SnapshotInfo> SaveSnapshotAsync(string? sessionId, string json, CancellationToken cancellationToken)
    {
        // Agents keep tokens and connection strings in their state as readily as in their events: a snapshot is
        // redacted by the same patterns before it is written (and so before it reaches any tier).
        json = _redaction.Document(json, $"The snapshot of session '{sessionId ?? "(active session)"}'", Warn);
        // A pooled buffer: a fresh 5 MB array per save lands on the large-object heap, and the gen-2 collections that
        // follow were the slowest saves.
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(json));
        var utf8 = new ReadOnlyMemory<byte>(buffer, 0, Encoding.UTF8.GetBytes(json, buffer));
        // Parsing and compressing a 5 MB document take about as long as each other: doing them on two cores is what
        // keeps the save under 50 ms. A document that does not parse fails the write before the rename, so nothing is kept.
        var validation = Task.Run(() => ValidateJson(utf8.Span), cancellationToken);
        try
        {
            return await SaveValidatedSnapshotAsync(sessionId, utf8, validation, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Awaited on every path (so a validation failure is never an unobserved exception, and the buffer is not
            // returned while the validation still reads it).
            await validation.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Small enough that a 5 MB document spreads over both cores in several blocks, large enough to compress as well as one stream.</summary>
    private const int SnapshotBlockSize = 512 * 1024;

    private async Task<SnapshotInfo> SaveValidatedSnapshotAsync(string? sessionId, ReadOnlyMemory<byte> utf8, Task validation, CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var record = await ResolveSessionAsync(sessionId, requireActive: true, cancellationToken).ConfigureAwait(false);
            var sequence = Layout.EnumerateSnapshots(record.SessionId).Select(s => s.Sequence).DefaultIfEmpty(0).Max() + 1;
            var path = Layout.SnapshotPath(record.SessionId, sequence);
            var now = Now;
            string sha256 = "";
            await IoErrors.GuardAsync("writing the snapshot", path, () =>
                AtomicFile.WriteAsync(path, overwrite: false, async (stream, ct) =>
                {
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    // Blocks compressed on every core (a multi-member gzip, which every gunzip reads): compression is the
                    // longest step of a large save.
                    await using (var gzip = new ParallelGzipStream(new HashingStream(stream, hash), level: 1, leaveOpen: true, blockSize: SnapshotBlockSize))
                    {
                        await gzip.WriteAsync(utf8, ct).ConfigureAwait(false);
                        await gzip.CompleteAsync(ct).ConfigureAwait(false);
                    }
                    sha256 = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
                    await validation.ConfigureAwait(false);
                }, cancellationToken)).ConfigureAwait(false);

            var info = new SnapshotInfo
            {
                SessionId = record.SessionId,
                Sequence = sequence,
                CreatedAt = now,
                Path = path,
                SizeBytes = new FileInfo(path).Length,
                UncompressedBytes = utf8.Length,
                Sha256 = sha256,
            };
            await Catalog.RecordSnapshotAsync(info, cancellationToken).ConfigureAwait(false);
            await AppendLockedAsync(record, [new SessionEvent
            {
                Timestamp = now,
                SessionId = record.SessionId,
                Type = SessionEventType.Snapshot,
                File = Path.GetRelativePath(Root, path),
                Data = new Dictionary<string, object?> { ["sequence"] = (long)sequence, ["bytes"] = (long)utf8.Length },
            }], cancellationToken).ConfigureAwait(false);
            return info;
        }
    }

    /// <summary>Lists snapshots (no content) of a session, or of every session when null; oldest first.</summary>
    public async IAsyncEnumerable<SnapshotInfo> GetSnapshotsAsync(string? sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (sessionId is not null) SessionIds.Validate(sessionId);
        var recorded = new Dictionary<(string, int), SnapshotInfo>();
        await foreach (var s in Catalog.ListSnapshotsAsync(sessionId, cancellationToken).ConfigureAwait(false))
            recorded[(s.SessionId, s.Sequence)] = s;
        var sessions = new List<string>();
        if (sessionId is not null) sessions.Add(sessionId);
        else
            await foreach (var s in Catalog.ListSessionsAsync(null, null, cancellationToken).ConfigureAwait(false)) sessions.Add(s.SessionId);
        foreach (var id in sessions)
            foreach (var (sequence, path) in Layout.EnumerateSnapshots(id).Reverse())
                yield return recorded.TryGetValue((id, sequence), out var info) ? info : FromFile(id, sequence, path);
    }

    /// <summary>Reads one snapshot with its JSON. sequence null = the latest readable one (the recovery path:
    /// a corrupt latest is skipped and reported through <paramref name="warn"/>).</summary>
    public async Task<SnapshotInfo> ReadSnapshotAsync(string? sessionId, int? sequence, Action<string>? warn, CancellationToken cancellationToken)
    {
        var session = await SnapshotSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        var recorded = new Dictionary<int, SnapshotInfo>();
        await foreach (var s in Catalog.ListSnapshotsAsync(session, cancellationToken).ConfigureAwait(false)) recorded[s.Sequence] = s;

        var candidates = Layout.EnumerateSnapshots(session).Where(s => sequence is null || s.Sequence == sequence).ToList();
        if (candidates.Count == 0)
            throw new TierStorageException(ErrorIds.SnapshotNotFound, TierErrorKind.ObjectNotFound,
                sequence is null ? $"Session '{session}' has no snapshots in '{Layout.StateDirectory}'." : $"Session '{session}' has no snapshot {sequence}.", session);

        var problems = new List<string>();
        foreach (var (seq, path) in candidates)
        {
            recorded.TryGetValue(seq, out var known);
            var (info, problem) = await TryReadAsync(session, seq, path, known, cancellationToken).ConfigureAwait(false);
            if (info is not null) return info;
            problems.Add(problem!);
            if (sequence is null) warn?.Invoke($"Snapshot {seq} of '{session}' is unreadable ({problem}); trying the one before it.");
        }
        throw new TierStorageException(ErrorIds.SnapshotCorrupt, TierErrorKind.InvalidData,
            $"No readable snapshot of '{session}': {string.Join("; ", problems)}", session);
    }

    /// <summary>The named session; else the active one; else the most recent.</summary>
    private async Task<string> SnapshotSessionAsync(string? sessionId, CancellationToken cancellationToken)
    {
        if (sessionId is not null)
            return (await ResolveSessionAsync(sessionId, requireActive: false, cancellationToken).ConfigureAwait(false)).SessionId;
        string? latest = null;
        await foreach (var s in Catalog.ListSessionsAsync(null, null, cancellationToken).ConfigureAwait(false))
        {
            if (s.State == SessionState.Active) return s.SessionId;
            latest = s.SessionId;
        }
        return latest ?? throw new TierStorageException(ErrorIds.NoActiveSession, TierErrorKind.ObjectNotFound, "There are no sessions yet.", null);
    }

    private static async Task<(SnapshotInfo? Info, string? Problem)> TryReadAsync(string session, int sequence, string path, SnapshotInfo? known, CancellationToken cancellationToken)
    {
        try
        {
            var compressed = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            var sha256 = Convert.ToHexString(SHA256.HashData(compressed)).ToLowerInvariant();
            if (known is not null && !string.Equals(known.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
                return (null, $"SHA-256 {sha256} differs from the catalog's {known.Sha256}");
            using var output = new MemoryStream();
            await using (var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
                await gzip.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            var utf8 = output.ToArray();
            ValidateJson(utf8);
            return ((known ?? FromFile(session, sequence, path)) with { Sha256 = sha256, UncompressedBytes = utf8.Length, Json = Encoding.UTF8.GetString(utf8) }, null);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or TierStorageException)
        {
            return (null, ex.Message);
        }
    }

    private static SnapshotInfo FromFile(string session, int sequence, string path)
    {
        var file = new FileInfo(path);
        return new SnapshotInfo { SessionId = session, Sequence = sequence, CreatedAt = file.LastWriteTimeUtc, Path = path, SizeBytes = file.Length };
    }

    /// <summary>Checks the document is one well-formed JSON value without building a DOM (snapshots can be megabytes).</summary>
    private static void ValidateJson(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            while (reader.Read()) { }
        }
        catch (JsonException ex)
        {
            throw new TierStorageException(ErrorIds.InvalidSnapshot, TierErrorKind.InvalidData,
                $"The snapshot is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", null, ex);
        }
        if (reader.BytesConsumed == 0)
            throw new TierStorageException(ErrorIds.InvalidSnapshot, TierErrorKind.InvalidData, "The snapshot is empty; it must be a JSON document.", null);
    }
}

/// <summary>Write-through stream that hashes what passes, so a file is hashed while it is written, not read again.</summary>
internal sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.AppendData(buffer);
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        hash.AppendData(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
