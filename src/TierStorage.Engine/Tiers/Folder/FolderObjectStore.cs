using System.Buffers;
using System.Globalization;
using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Tiers.Folder;

/// <summary>
/// A tier in a local or network directory (external disk, NAS, home-server share). Keys map to files under the root.
/// A put goes to a temp file in the target's directory, is fsynced and renamed over the key, so readers see the old
/// object or the new one, never a mix. Each object's MD5 is kept in a sidecar under <c>.tsmeta/</c> with the size and
/// modification time it was computed for; when the file's size or time no longer match (edited, restored from
/// elsewhere, bit rot repaired by a tool) the MD5 is recomputed from the bytes, so the checksum the store reports
/// always describes what it holds.
/// </summary>
public sealed class FolderObjectStore : IQuotaStore, IInPlaceReadStore
{
    /// <summary>Hidden tree of MD5 sidecars, mirroring the keys.</summary>
    public const string MetadataDirectoryName = ".tsmeta";
    private const string TempSuffix = ".tsput";
    private const string SidecarSuffix = ".md5";
    private const int CopyBufferSize = 1 << 18;

    private readonly string _root;
    private readonly string _metadataRoot;
    private readonly bool _createMissingRoot;
    private readonly int _creatableLevels;

    /// <param name="createMissingRoot">False for a tier that already held data: its root missing is a disk or share
    /// not connected, reported as unreachable rather than re-created empty on the bare mount point.</param>
    /// <param name="creatableLevels">How many folders at the end of <paramref name="rootPath"/> may be created: 1 for a
    /// tier's folder, 2 for a workspace's namespace folder inside it. The folder above them must exist.</param>
    public FolderObjectStore(string tierName, string rootPath, bool createMissingRoot = true, int creatableLevels = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(creatableLevels, 1);
        _createMissingRoot = createMissingRoot;
        _creatableLevels = creatableLevels;
        TierName = tierName;
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootPath));
        _metadataRoot = Path.Combine(_root, MetadataDirectoryName);
    }

    public string TierName { get; }
    public TierKind Kind => TierKind.Folder;
    public string Location => _root;

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = PathFor(key);
        return await GuardAsync("storing", key, async () =>
        {
            EnsureRoot();
            var directory = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(directory);
            var temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix);
            try
            {
                string md5;
                long size;
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    size = await CopyAsync(content, output, hash, options?.Progress, cancellationToken).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    output.Flush(flushToDisk: true);
                    md5 = ChecksumStream.Hex(hash.GetHashAndReset());
                }
                if (options?.ExpectedMd5 is { } expected && !string.Equals(expected, md5, StringComparison.OrdinalIgnoreCase))
                    throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                        $"'{key}' was not stored on tier '{TierName}': the bytes written have MD5 {md5}, the caller expected {expected}. The previous object, if any, is unchanged.", key);
                File.Move(temp, path, overwrite: true);
                var file = new FileInfo(path);
                await WriteSidecarAsync(key, file, md5, cancellationToken).ConfigureAwait(false);
                return new ObjectInfo { Key = key, Size = size, Md5 = md5, LastModified = file.LastWriteTimeUtc };
            }
            catch
            {
                AtomicFile.TryDelete(temp);
                throw;
            }
        }).ConfigureAwait(false);
    }

    public async Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = PathFor(key);
        await GuardAsync("reading", key, async () =>
        {
            EnsureRoot();
            await using var input = OpenExisting(path, key);
            if (offset > input.Length)
                throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                    $"Cannot read '{key}' from byte {offset:N0}: it holds {input.Length:N0} bytes.", key);
            input.Seek(offset, SeekOrigin.Begin);
            await CopyAsync(input, destination, null, progress, cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }

    /// <summary>The object's file itself, open for reading (unbuffered, sequential; others may still read or delete it).</summary>
    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        return GuardAsync("reading", key, () =>
        {
            EnsureRoot();
            cancellationToken.ThrowIfCancellationRequested();
            // Not FileOptions.Asynchronous: the reader reads it through a checksumming stream into the tar, one read after another.
            return Task.FromResult<Stream>(OpenExisting(path, key, FileOptions.SequentialScan));
        });
    }

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        return GuardAsync("checking", key, async () =>
        {
            EnsureRoot();
            var file = new FileInfo(path);
            return file.Exists ? await DescribeAsync(key, file, cancellationToken).ConfigureAwait(false) : null;
        });
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await GuardAsync("listing", prefix, () =>
        {
            EnsureRoot();
            return Task.FromResult(true);
        }).ConfigureAwait(false);
        // Walk only below the deepest folder the prefix names; the rest of the tree cannot match.
        var folder = prefix.LastIndexOf('/') is var slash and > 0 ? prefix[..slash] : "";
        if (folder.Length > 0 && ArchivePaths.Problem(folder) is not null) yield break;
        var start = folder.Length == 0 ? _root : Path.Combine(_root, folder.Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start)) yield break;

        var files = new FileSystemEnumerable<(string Key, FileInfo File)>(start,
            (ref FileSystemEntry entry) => (ToKey(entry.ToFullPath()), new FileInfo(entry.ToFullPath())),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            // Links are not followed: a link inside the tier could otherwise list (and serve) files outside its root.
            ShouldRecursePredicate = (ref FileSystemEntry entry) =>
                (entry.Attributes & FileAttributes.ReparsePoint) == 0 && !IsMetadataDirectory(entry),
            ShouldIncludePredicate = (ref FileSystemEntry entry) =>
                !entry.IsDirectory && (entry.Attributes & FileAttributes.ReparsePoint) == 0 && !entry.FileName.EndsWith(TempSuffix, StringComparison.Ordinal),
        };
        foreach (var (key, file) in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var info = await GuardAsync("listing", key, () => DescribeAsync(key, file, cancellationToken)).ConfigureAwait(false);
            // A file deleted between the walk and its stat is simply no longer there.
            if (info is not null) yield return info;
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        return GuardAsync("deleting", key, () =>
        {
            EnsureRoot();
            cancellationToken.ThrowIfCancellationRequested();
            // File.Delete throws for a missing folder, so only what exists is deleted.
            var existed = File.Exists(path);
            if (existed) File.Delete(path);
            var sidecar = SidecarPath(key);
            if (File.Exists(sidecar)) File.Delete(sidecar);
            PruneEmptyDirectories(Path.GetDirectoryName(path)!, _root);
            PruneEmptyDirectories(Path.GetDirectoryName(sidecar)!, _metadataRoot);
            return Task.FromResult(existed);
        });
    }

    /// <summary>The disk holding the root: used is what is no longer available to us, so limit minus used is what a put can still write.</summary>
    public Task<StoreQuota> GetQuotaAsync(CancellationToken cancellationToken) =>
        GuardAsync("measuring", "", () =>
        {
            EnsureRoot();
            var drive = new DriveInfo(_root);
            return Task.FromResult(new StoreQuota(drive.TotalSize - drive.AvailableFreeSpace, drive.TotalSize));
        });

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>A tier's folder is its user's alone (0700), as the workspace is: it holds the same sessions.</summary>
    internal const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// A missing root is created, but only when the folder above the creatable levels exists (the tier folder's parent):
    /// a missing parent means a drive that is not plugged in or a share that is not mounted, and creating the whole chain
    /// would quietly write the backup onto the local disk instead. That case is ErrorIds.TierUnreachable, so the caller
    /// queues the backup.
    /// </summary>
    private void EnsureRoot()
    {
        if (Directory.Exists(_root)) return;
        var parent = _root;
        for (var level = 0; level < _creatableLevels && parent is not null; level++) parent = Path.GetDirectoryName(parent);
        if (parent is null || !Directory.Exists(parent)) throw Unreachable(null);
        if (!_createMissingRoot) throw Gone();
        try
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(_root);
            else Directory.CreateDirectory(_root, PrivateFolder);
        }
        catch (IOException ex) when (!IoErrors.IsDiskFull(ex))
        {
            throw Unreachable(ex);
        }
    }

    private TierStorageException Gone() =>
        new(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
            $"Tier '{TierName}' cannot be reached: the folder '{_root}' held this workspace's backups and is gone (a drive not connected or a network share not mounted?). Nothing was created; connect it and run the command again.",
            TierName);

    private TierStorageException Unreachable(Exception? inner) =>
        new(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError,
            $"Tier '{TierName}' cannot be reached: the folder '{_root}' and its parent are not available (a drive not connected or a network share not mounted?). Nothing was created; connect it and run the command again.",
            TierName, inner);

    /// <summary>Runs an operation and turns I/O failures into tier errors: a root that vanished mid-way (share
    /// dropped, disk unplugged) is TierUnreachable, a full disk DiskFull, a denied access TierAccessDenied.</summary>
    private async Task<T> GuardAsync<T>(string action, string key, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not TierStorageException)
        {
            if (!Directory.Exists(_root)) throw Unreachable(ex);
            if (ex is UnauthorizedAccessException)
                throw new TierStorageException(ErrorIds.TierAccessDenied, TierErrorKind.PermissionDenied,
                    $"Access was denied while {action} '{key}' on tier '{TierName}' ({_root}); check the folder's permissions.", key, ex);
            if (ex is IOException io && IoErrors.IsDiskFull(io))
                throw new TierStorageException(ErrorIds.DiskFull, TierErrorKind.WriteError,
                    $"The disk of tier '{TierName}' ({_root}) is full while {action} '{key}'; the previous object, if any, is unchanged.", key, ex);
            throw new TierStorageException(ErrorIds.IOError, action == "reading" ? TierErrorKind.ReadError : TierErrorKind.WriteError,
                $"Tier '{TierName}' ({_root}) failed while {action} '{key}': {ex.Message} Check that nothing else (a file where a folder belongs, another program) is in the way under '{_root}', then run the command again; the previous object, if any, is unchanged.",
                key, ex);
        }
    }

    /// <summary>Maps a key to its file, refusing keys that could leave the root or collide with the store's own files.</summary>
    private string PathFor(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var problem = ArchivePaths.Problem(key)
            ?? (key.Split('/')[0] == MetadataDirectoryName ? $"'{MetadataDirectoryName}' is where the store keeps its checksums" : null)
            ?? (key.EndsWith(TempSuffix, StringComparison.Ordinal) ? $"names ending '{TempSuffix}' are the store's temp files" : null);
        if (problem is not null)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"'{key}' is not a valid key for tier '{TierName}': {problem}. Keys are relative paths with '/' between segments.", key);
        var path = Path.GetFullPath(Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"'{key}' resolves outside tier '{TierName}'.", key);
        return path;
    }

    private string ToKey(string fullPath) => Path.GetRelativePath(_root, fullPath).Replace(Path.DirectorySeparatorChar, '/');

    private bool IsMetadataDirectory(in FileSystemEntry entry) =>
        entry.FileName.SequenceEqual(MetadataDirectoryName) && Path.TrimEndingDirectorySeparator(entry.Directory).SequenceEqual(_root);

    private string SidecarPath(string key) => Path.Combine(_metadataRoot, key.Replace('/', Path.DirectorySeparatorChar) + SidecarSuffix);

    private FileStream OpenExisting(string path, string key, FileOptions options = FileOptions.Asynchronous | FileOptions.SequentialScan)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, options);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, $"Tier '{TierName}' holds no '{key}'.", key, ex);
        }
    }

    /// <summary>The object as it is now; null when it disappeared in the meantime.</summary>
    private async Task<ObjectInfo?> DescribeAsync(string key, FileInfo file, CancellationToken cancellationToken)
    {
        file.Refresh();
        if (!file.Exists) return null;
        var size = file.Length;
        var modified = file.LastWriteTimeUtc;
        var md5 = ReadSidecar(key, size, modified);
        if (md5 is null)
        {
            await using var input = OpenExisting(file.FullName, key);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            await CopyAsync(input, Stream.Null, hash, null, cancellationToken).ConfigureAwait(false);
            md5 = ChecksumStream.Hex(hash.GetHashAndReset());
            // Recorded for the state the file had before hashing: if it changed meanwhile, the next stat hashes again.
            await WriteSidecarAsync(key, size, modified, md5, cancellationToken).ConfigureAwait(false);
        }
        return new ObjectInfo { Key = key, Size = size, Md5 = md5, LastModified = modified };
    }

    /// <summary>Sidecar format: one line "md5 size mtime-ticks-utc".</summary>
    private string? ReadSidecar(string key, long size, DateTime modified)
    {
        string text;
        try
        {
            text = File.ReadAllText(SidecarPath(key));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var parts = text.Trim().Split(' ');
        return parts.Length == 3 && parts[0].Length == 32
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var recordedSize) && recordedSize == size
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks == modified.Ticks
            ? parts[0]
            : null;
    }

    private Task WriteSidecarAsync(string key, FileInfo file, string md5, CancellationToken cancellationToken) =>
        WriteSidecarAsync(key, file.Length, file.LastWriteTimeUtc, md5, cancellationToken);

    /// <summary>Written whole under a temp name and renamed, but not fsynced: the sidecar is a cache of the MD5, not data
    /// (issue 12: its fsync was one of two per stored object). After a crash it is the old line, the new one, or empty or
    /// torn, and any line that does not name the file's present size and time is ignored and the MD5 hashed again.</summary>
    private async Task WriteSidecarAsync(string key, long size, DateTime modified, string md5, CancellationToken cancellationToken)
    {
        var path = SidecarPath(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = AtomicFile.TempPathFor(path);
        try
        {
            await File.WriteAllTextAsync(temp, string.Create(CultureInfo.InvariantCulture, $"{md5} {size} {modified.Ticks}\n"), cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    private static async Task<long> CopyAsync(Stream source, Stream destination, IncrementalHash? hash, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash?.AppendData(buffer, 0, read);
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                total += read;
                progress?.Report(total);
            }
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Removes folders emptied by a delete, up to (not including) <paramref name="stop"/>, so deleting a
    /// session's objects also removes its folder, as on the cloud tiers where folders are implied by keys.</summary>
    private static void PruneEmptyDirectories(string directory, string stop)
    {
        while (directory.Length > stop.Length && directory.StartsWith(stop, StringComparison.Ordinal))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(directory).Any()) return;
                Directory.Delete(directory);
            }
            catch (IOException)
            {
                return;
            }
            directory = Path.GetDirectoryName(directory)!;
        }
    }
}
