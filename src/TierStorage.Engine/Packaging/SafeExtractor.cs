using System.Formats.Tar;
using System.IO.Compression;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Packaging;

/// <summary>How far an archive may go when it is unpacked.</summary>
public sealed record ExtractionOptions
{
    /// <summary>4 GiB: far above any session, far below what fills a disk by surprise.</summary>
    public const long DefaultMaxTotalBytes = 4L << 30;

    /// <summary>The entries the manifest says the archive holds. When set, every entry must be listed with exactly
    /// its size, and every listed entry must be present.</summary>
    public IReadOnlyList<PackagedEntry>? Expected { get; init; }
    /// <summary>Cap on the bytes all entries may unpack to, whatever their headers or the manifest claim.</summary>
    public long MaxTotalBytes { get; init; } = DefaultMaxTotalBytes;
    /// <summary>Replace files that already exist at the destination; otherwise their presence fails the whole extraction.</summary>
    public bool Overwrite { get; init; }
    /// <summary>Extract only the entries whose names this accepts (one session out of a phase archive); the others are
    /// read past, never written. <see cref="Expected"/> then lists the selected entries only.</summary>
    public Func<string, bool>? Select { get; init; }
}

/// <summary>A file an extraction put in place.</summary>
public sealed record ExtractedFile(string Name, long Size, string Path);

/// <summary>
/// Unpacks session packages without trusting them. Entries with '..', absolute, drive or UNC paths, backslashes,
/// links, devices, fifos, duplicate names, or sizes beyond the manifest or the cap are refused with
/// ErrorIds.UnsafeArchive naming the entry. Everything is first unpacked into a temp directory beside the destination
/// and moved into place only once the whole archive has proved valid, so a refused archive changes nothing there.
/// </summary>
public static class SafeExtractor
{
    /// <summary>Room for tar headers and padding beyond the entries' data before the decompressed stream is cut off.</summary>
    private const long HeaderAllowance = 16L << 20;

    public static async Task<IReadOnlyList<ExtractedFile>> ExtractTarGzAsync(string archivePath, string destinationDirectory, ExtractionOptions? options, CancellationToken cancellationToken)
    {
        options ??= new ExtractionOptions();
        var destination = Path.GetFullPath(destinationDirectory);
        var staging = StagingDirectoryFor(destination);
        try
        {
            var extracted = await UnpackAsync(archivePath, staging, options, cancellationToken).ConfigureAwait(false);
            return IoErrors.Guard("restoring into", destination, () => MoveIntoPlace(archivePath, staging, destination, extracted, options.Overwrite));
        }
        finally
        {
            TryDeleteDirectory(staging);
        }
    }

    /// <summary>Unpacks a single-file .gz (activity.jsonl.gz) to <paramref name="destinationPath"/>, refusing output
    /// that is longer or shorter than the manifest's <paramref name="expectedSize"/>; written through a temp file.</summary>
    public static Task DecompressGzipAsync(string archivePath, string destinationPath, long expectedSize, bool overwrite, CancellationToken cancellationToken) =>
        DecompressGzipAsync(archivePath, destinationPath, expectedSize, exact: true, overwrite, cancellationToken);

    /// <summary>Unpacks a single-file .gz whose unpacked size nothing records (a catalog row describes only the .gz),
    /// refusing output longer than <paramref name="maxSize"/>; written through a temp file.</summary>
    public static Task DecompressGzipAtMostAsync(string archivePath, string destinationPath, long maxSize, bool overwrite, CancellationToken cancellationToken) =>
        DecompressGzipAsync(archivePath, destinationPath, maxSize, exact: false, overwrite, cancellationToken);

    private static async Task DecompressGzipAsync(string archivePath, string destinationPath, long expectedSize, bool exact, bool overwrite, CancellationToken cancellationToken)
    {
        var destination = Path.GetFullPath(destinationPath);
        if (!overwrite && File.Exists(destination)) throw Exists(destination);
        await IoErrors.GuardAsync("restoring", destination, () =>
            AtomicFile.WriteAsync(destination, overwrite, async (output, ct) =>
            {
                await using var input = OpenArchive(archivePath);
                await using var gzip = new GZipStream(input, CompressionMode.Decompress);
                await using var bounded = new BoundedReadStream(gzip, expectedSize, archivePath);
                try
                {
                    await bounded.CopyToAsync(output, 1 << 18, ct).ConfigureAwait(false);
                }
                catch (InvalidDataException ex)
                {
                    throw Corrupt(archivePath, ex);
                }
                if (exact && bounded.BytesRead != expectedSize)
                    throw Unsafe(archivePath, Path.GetFileName(destination),
                        $"unpacks to {bounded.BytesRead:N0} bytes but the manifest says {expectedSize:N0}");
            }, cancellationToken)).ConfigureAwait(false);
    }

    private static async Task<List<ExtractedFile>> UnpackAsync(string archivePath, string staging, ExtractionOptions options, CancellationToken cancellationToken)
    {
        IoErrors.Guard("creating a temp directory in", staging, () => Directory.CreateDirectory(staging));
        if (options.Expected?.GroupBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw Unsafe(archivePath, twice.Key, "its manifest lists this name twice");
        var expected = options.Expected?.ToDictionary(e => e.Name, e => e.Size, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var extracted = new List<ExtractedFile>();
        long total = 0;

        await using var input = OpenArchive(archivePath);
        await using var gzip = new GZipStream(input, CompressionMode.Decompress);
        await using var bounded = new BoundedReadStream(gzip, options.MaxTotalBytes + HeaderAllowance, archivePath);
        await using var reader = new TarReader(bounded, leaveOpen: true);
        while (true)
        {
            TarEntry? entry;
            try
            {
                entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException) when (bounded.BytesRead == 0)
            {
                // A tar of no entries: earlier packages of a session without snapshots held an empty stream rather than
                // the two zero blocks that end a tar. Nothing to extract, and nothing is wrong.
                break;
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw Corrupt(archivePath, ex);
            }
            catch (NotSupportedException ex)
            {
                // .NET reads no GNU sparse entries (and we write none): the header names a kind of entry we never restore.
                throw Unsafe(archivePath, $"#{seen.Count + 1}", $"its header is of a kind TierStorage never writes ({ex.Message.TrimEnd('.')}); only regular files are restored");
            }
            catch (Exception ex) when (ex is OverflowException or ArgumentException or InvalidOperationException)
            {
                // A header whose size or name length is beyond any real file (a base-256 size past 2^63, a long-name record
                // of gigabytes) fails inside the tar reader with these: the archive is damaged, not the program.
                throw Corrupt(archivePath, ex);
            }
            if (entry is null) break;

            var name = entry.EntryType == TarEntryType.Directory ? entry.Name.TrimEnd('/') : entry.Name;
            if (ArchivePaths.Problem(name) is { } problem) throw Unsafe(archivePath, entry.Name, problem);
            if (!seen.Add(name)) throw Unsafe(archivePath, entry.Name, "the archive holds this name twice (ignoring case)");
            var target = Path.Combine(staging, name.Replace('/', Path.DirectorySeparatorChar));
            if (!Path.GetFullPath(target).StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw Unsafe(archivePath, entry.Name, "it resolves outside the destination");
            if (options.Select is { } select && !select(name)) continue;

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    if (expected is not null) throw Unsafe(archivePath, entry.Name, "the manifest lists no directories");
                    Directory.CreateDirectory(target);
                    continue;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    break;
                default:
                    throw Unsafe(archivePath, entry.Name, $"it is a {Describe(entry.EntryType)}; only regular files are restored");
            }

            if (expected is not null)
            {
                if (!expected.TryGetValue(name, out var size)) throw Unsafe(archivePath, entry.Name, "the manifest does not list it");
                if (entry.Length != size) throw Unsafe(archivePath, entry.Name, $"it is {entry.Length:N0} bytes but the manifest says {size:N0}");
            }
            total += entry.Length;
            if (total > options.MaxTotalBytes)
                throw Unsafe(archivePath, entry.Name, $"the archive unpacks to more than the {options.MaxTotalBytes:N0}-byte cap");

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await IoErrors.GuardAsync("unpacking into", target, async () =>
            {
                await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                if (entry.DataStream is { } data) await data.CopyToAsync(output, 1 << 16, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
                if (output.Length != entry.Length) throw Corrupt(archivePath, new EndOfStreamException($"'{entry.Name}' is cut short"));
            }).ConfigureAwait(false);
            extracted.Add(new ExtractedFile(name, entry.Length, target));
        }

        var missing = expected?.Keys.FirstOrDefault(name => !seen.Contains(name));
        if (missing is not null) throw Unsafe(archivePath, missing, "the manifest lists it but the archive does not hold it");
        return extracted;
    }

    /// <summary>Checks every target first, so an existing file stops the extraction before anything moves.</summary>
    private static IReadOnlyList<ExtractedFile> MoveIntoPlace(string archivePath, string staging, string destination, List<ExtractedFile> extracted, bool overwrite)
    {
        var placed = extracted.Select(f => f with { Path = Path.Combine(destination, Path.GetRelativePath(staging, f.Path)) }).ToList();
        foreach (var file in placed)
            if (LinkBetween(destination, file.Path) is { } link)
                throw new TierStorageException(ErrorIds.UnsafeArchive, TierErrorKind.InvalidData,
                    $"'{link}' inside the destination is a link (to '{new DirectoryInfo(link).LinkTarget}'): restoring through it would write outside '{destination}'. Nothing was extracted; remove the link or choose another destination.",
                    link);
        if (!overwrite && placed.FirstOrDefault(f => File.Exists(f.Path) || Directory.Exists(f.Path)) is { } conflict)
            throw Exists(conflict.Path);
        for (var i = 0; i < placed.Count; i++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(placed[i].Path)!);
            File.Move(extracted[i].Path, placed[i].Path, overwrite);
        }
        if (placed.Count == 0) Directory.CreateDirectory(destination);
        return placed;
    }

    /// <summary>The first folder below <paramref name="root"/> on the way to <paramref name="path"/> that is a symbolic link
    /// or junction, or null. The destination itself is the user's choice; what lies inside it may have been planted.</summary>
    private static string? LinkBetween(string root, string path)
    {
        var current = root;
        var parts = Path.GetRelativePath(root, Path.GetDirectoryName(path)!).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in parts.Where(p => p != "."))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            // A dangling link reports no existence but has a target: checked first.
            if (info.LinkTarget is not null) return current;
            if (!info.Exists) return null;
            if (info.Attributes.HasFlag(FileAttributes.ReparsePoint)) return current;
        }
        return null;
    }

    /// <summary>A hidden sibling of the destination: on the same volume, so moving into place is a rename, and outside
    /// it, so a refused archive leaves not even an empty folder there.</summary>
    private static string StagingDirectoryFor(string destination)
    {
        var parent = Path.GetDirectoryName(destination.TrimEnd(Path.DirectorySeparatorChar)) ?? destination;
        return Path.Combine(parent, $".{Path.GetFileName(destination.TrimEnd(Path.DirectorySeparatorChar))}.extract-{Guid.NewGuid():N}");
    }

    private static FileStream OpenArchive(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, $"The archive '{path}' does not exist.", path, ex);
        }
    }

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.HardLink => "hard link",
        TarEntryType.CharacterDevice => "character device",
        TarEntryType.BlockDevice => "block device",
        TarEntryType.Fifo => "fifo",
        _ => $"'{type}' entry",
    };

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover hidden .extract- folder holds only data that was never put in place.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    internal static TierStorageException Unsafe(string archive, string entry, string problem) =>
        new(ErrorIds.UnsafeArchive, TierErrorKind.InvalidData,
            $"The archive '{archive}' was refused because of entry '{entry}': {problem}. Nothing was extracted.", entry);

    private static TierStorageException Corrupt(string archive, Exception inner) =>
        new(ErrorIds.ArchiveCorrupt, TierErrorKind.InvalidData,
            $"The archive '{archive}' is damaged and cannot be read ({inner.Message}). Nothing was extracted.", archive, inner);

    private static TierStorageException Exists(string path) =>
        new(ErrorIds.FileExists, TierErrorKind.ResourceExists,
            $"'{path}' already exists; nothing was extracted. Restore with -Force to replace it, or choose another destination.", path);
}

/// <summary>Reads at most a limit of bytes from an inner stream and refuses the archive beyond it: a gzip bomb is
/// stopped after the limit, not after the disk is full.</summary>
internal sealed class BoundedReadStream(Stream inner, long limit, string archive) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer[..Allowed(buffer.Length)]));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false));

    /// <summary>Asks for one byte past the limit, so reaching it exactly is fine and going beyond is seen.</summary>
    private int Allowed(int wanted) => (int)Math.Min(wanted, limit - BytesRead + 1);

    private int Count(int read)
    {
        BytesRead += read;
        if (BytesRead > limit)
            throw SafeExtractor.Unsafe(archive, "(data)", $"it unpacks to more than {limit:N0} bytes");
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
