using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using TierStorage.Contracts;

namespace TierStorage.Engine.Collections;

/// <summary>One file of a version: where it goes, what it was, and the content it points at.</summary>
public sealed record CollectionFileEntry(string Path, long Size, DateTimeOffset Modified, int? Mode, string Sha256);

/// <summary>Where an archived version's contents are: the bundles on the archive tier that hold every one of them.</summary>
public sealed record CollectionArchiveRecord(string Tier, DateTimeOffset ArchivedAt, IReadOnlyList<string> Bundles);

/// <summary>
/// A version of a collection: every file's relative path, size, modified time, Unix mode and SHA-256, pointing at
/// contents stored once per hash on the tier. Stored gzipped as JSON at
/// <c>collections/&lt;name&gt;/versions/&lt;version&gt;.json.gz</c>, after every content it points at is verified there, so
/// a version on the tier never claims a file it does not have. Read back, it is untrusted (invariant 8): bounded in size
/// and count, every path relative and free of '..', every hash well formed, or refused as a whole.
/// </summary>
public sealed partial class CollectionManifest
{
    public const int CurrentFormat = 1;
    /// <summary>The format of an archived version (it has "archive"): a reader that does not know bundles refuses it
    /// rather than looking for its contents on Tier 2, where they are no longer.</summary>
    public const int ArchivedFormat = 2;
    private const int MaxBundles = 100_000;
    /// <summary>Uncompressed JSON read back at most: ~250 bytes a file, so about four million files.</summary>
    public const long MaxJsonBytes = 1L << 30;
    public const int MaxFiles = 4_000_000;
    private const int MaxPathLength = 4096;
    private const int MaxSegmentLength = 1024;

    public string Collection { get; init; } = "";
    public string VersionId { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public string? ParentVersionId { get; init; }
    /// <summary>The folder it was taken from, for the user's information; restores go where the policy or the user says.</summary>
    public string SourcePath { get; init; } = "";
    /// <summary>Uncompressed bytes of the contents this version was the first to store.</summary>
    public long NewBytes { get; init; }
    /// <summary>Sorted by path, ordinal.</summary>
    public IReadOnlyList<CollectionFileEntry> Files { get; init; } = [];
    /// <summary>Set once the version's contents are verified in bundles on the archive tier; null while they are on its own tier.</summary>
    public CollectionArchiveRecord? Archive { get; init; }

    public long TotalBytes => Files.Sum(f => f.Size);

    /// <summary>The same version, its contents in the bundles <paramref name="archive"/> names.</summary>
    public CollectionManifest Archived(CollectionArchiveRecord archive) => new()
    {
        Collection = Collection,
        VersionId = VersionId,
        CreatedAt = CreatedAt,
        ParentVersionId = ParentVersionId,
        SourcePath = SourcePath,
        NewBytes = NewBytes,
        Files = Files,
        Archive = archive,
    };

    public CollectionVersionInfo ToInfo(string tier) => new()
    {
        Collection = Collection,
        VersionId = VersionId,
        CreatedAt = CreatedAt,
        FileCount = Files.Count,
        TotalBytes = TotalBytes,
        NewBytes = NewBytes,
        Tier = Archive?.Tier ?? tier,
        ArchivedAt = Archive?.ArchivedAt,
        ParentVersionId = ParentVersionId,
    };

    /// <summary>A new version id: its UTC time (so ids sort by age) and a random suffix.</summary>
    public static string NewVersionId(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();

    public static bool IsVersionId(string text) => VersionIdPattern().IsMatch(text);

    public static bool IsSha256(string text) => Sha256Pattern().IsMatch(text);

    /// <summary>A collection name as the policy allows it (read from a tier's keys, it is checked before it names a folder).</summary>
    public static bool IsCollectionName(string text) => CollectionNamePattern().IsMatch(text);

    /// <summary>Whether a manifest's path is one a restore may create under its destination on any system: relative,
    /// '/' between non-empty segments, no '.' or '..' segment, no control characters. (A restore checks the system's own
    /// rules on top: on Windows no ':' or '\'.)</summary>
    public static bool IsSafeRelativePath(string path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxPathLength || path[0] == '/') return false;
        foreach (var c in path) if (char.IsControl(c)) return false;
        foreach (var segment in path.Split('/'))
            if (segment.Length is 0 or > MaxSegmentLength || segment is "." or "..") return false;
        return true;
    }

    public async Task WriteAsync(Stream output, CancellationToken cancellationToken)
    {
        await using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            await using var json = new Utf8JsonWriter(gzip);
            json.WriteStartObject();
            json.WriteNumber("format", Archive is null ? CurrentFormat : ArchivedFormat);
            json.WriteString("collection", Collection);
            json.WriteString("version", VersionId);
            json.WriteString("created", CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            if (ParentVersionId is null) json.WriteNull("parent");
            else json.WriteString("parent", ParentVersionId);
            json.WriteString("source", SourcePath);
            json.WriteNumber("new_bytes", NewBytes);
            if (Archive is { } archive)
            {
                json.WriteStartObject("archive");
                json.WriteString("tier", archive.Tier);
                json.WriteString("archived", archive.ArchivedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                json.WriteStartArray("bundles");
                foreach (var bundle in archive.Bundles) json.WriteStringValue(bundle);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteStartArray("files");
            foreach (var file in Files)
            {
                json.WriteStartObject();
                json.WriteString("path", file.Path);
                json.WriteNumber("size", file.Size);
                json.WriteString("modified", file.Modified.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                if (file.Mode is { } mode) json.WriteNumber("mode", mode);
                json.WriteString("sha256", file.Sha256);
                json.WriteEndObject();
                if (json.BytesPending > 1 << 16) await json.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a gzipped manifest that claims to be <paramref name="expectedCollection"/>@<paramref name="expectedVersion"/>;
    /// anything else, malformed, oversized or with an unsafe path fails with ErrorIds.InvalidManifest naming <paramref name="source"/>.</summary>
    public static async Task<CollectionManifest> ReadAsync(Stream input, string expectedCollection, string expectedVersion, string source, CancellationToken cancellationToken)
    {
        byte[] json;
        await using (var gzip = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true))
        using (var buffer = new MemoryStream())
        {
            try
            {
                var chunk = ArrayPool<byte>.Shared.Rent(1 << 16);
                try
                {
                    int read;
                    while ((read = await gzip.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        if (buffer.Length + read > MaxJsonBytes) throw Invalid(source, $"it is larger than {MaxJsonBytes} bytes uncompressed");
                        buffer.Write(chunk, 0, read);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk);
                }
            }
            catch (InvalidDataException ex)
            {
                throw Invalid(source, "it is not gzip data", ex);
            }
            json = buffer.ToArray();
        }
        try
        {
            return Parse(json, expectedCollection, expectedVersion, source);
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"it is not valid JSON ({ex.Message})", ex);
        }
    }

    private static CollectionManifest Parse(byte[] json, string expectedCollection, string expectedVersion, string source)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Invalid(source, "it is not a JSON object");
        if (!root.TryGetProperty("format", out var format) || !format.TryGetInt32(out var formatNumber) || formatNumber is not (CurrentFormat or ArchivedFormat))
            throw Invalid(source, $"its format is not {CurrentFormat} or {ArchivedFormat} (written by another version of TierStorage?)");
        var collection = RequiredString(root, "collection", source);
        var version = RequiredString(root, "version", source);
        if (!string.Equals(collection, expectedCollection, StringComparison.OrdinalIgnoreCase) || version != expectedVersion)
            throw Invalid(source, $"it describes {collection}@{version}, not {expectedCollection}@{expectedVersion}");
        string? parent = null;
        if (root.TryGetProperty("parent", out var parentElement) && parentElement.ValueKind != JsonValueKind.Null)
        {
            parent = parentElement.ValueKind == JsonValueKind.String ? parentElement.GetString() : null;
            if (parent is null || !IsVersionId(parent)) throw Invalid(source, "its parent is not a version id");
        }
        if (!root.TryGetProperty("new_bytes", out var newBytesElement) || !newBytesElement.TryGetInt64(out var newBytes) || newBytes < 0)
            throw Invalid(source, "its new_bytes is not a whole number of bytes");
        if (!root.TryGetProperty("files", out var filesElement) || filesElement.ValueKind != JsonValueKind.Array)
            throw Invalid(source, "it has no files list");
        if (filesElement.GetArrayLength() > MaxFiles) throw Invalid(source, $"it lists more than {MaxFiles} files");
        var files = new List<CollectionFileEntry>(filesElement.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in filesElement.EnumerateArray())
        {
            if (file.ValueKind != JsonValueKind.Object) throw Invalid(source, "a file entry is not an object");
            var path = RequiredString(file, "path", source);
            if (!IsSafeRelativePath(path)) throw Invalid(source, $"the path '{Shorten(path)}' is not a safe relative path (absolute, '..', empty segments or control characters)");
            if (!seen.Add(path)) throw Invalid(source, $"the path '{Shorten(path)}' is listed twice");
            if (!file.TryGetProperty("size", out var sizeElement) || !sizeElement.TryGetInt64(out var size) || size < 0)
                throw Invalid(source, $"the size of '{Shorten(path)}' is not a whole number of bytes");
            if (!DateTimeOffset.TryParse(RequiredString(file, "modified", source), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var modified))
                throw Invalid(source, $"the modified time of '{Shorten(path)}' is not a date");
            int? mode = null;
            if (file.TryGetProperty("mode", out var modeElement))
            {
                if (!modeElement.TryGetInt32(out var modeValue) || modeValue is < 0 or > 0xFFF) throw Invalid(source, $"the mode of '{Shorten(path)}' is not a Unix permission mode");
                mode = modeValue;
            }
            var sha = RequiredString(file, "sha256", source);
            if (!IsSha256(sha)) throw Invalid(source, $"the SHA-256 of '{Shorten(path)}' is not 64 lower-case hex digits");
            files.Add(new CollectionFileEntry(path, size, modified, mode, sha));
        }
        if (!DateTimeOffset.TryParse(RequiredString(root, "created", source), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var created))
            throw Invalid(source, "its created time is not a date");
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var archive = ReadArchive(root, formatNumber == ArchivedFormat, source);
        return new CollectionManifest
        {
            Collection = collection,
            VersionId = version,
            CreatedAt = created,
            ParentVersionId = parent,
            SourcePath = root.TryGetProperty("source", out var sourceElement) && sourceElement.ValueKind == JsonValueKind.String ? sourceElement.GetString() ?? "" : "",
            NewBytes = newBytes,
            Files = files,
            Archive = archive,
        };
    }

    private static CollectionArchiveRecord? ReadArchive(JsonElement root, bool archived, string source)
    {
        var present = root.TryGetProperty("archive", out var element) && element.ValueKind != JsonValueKind.Null;
        if (present != archived) throw Invalid(source, archived ? $"its format is {ArchivedFormat} but it has no archive" : $"it has an archive but its format is not {ArchivedFormat}");
        if (!present) return null;
        if (element.ValueKind != JsonValueKind.Object) throw Invalid(source, "its archive is not an object");
        var tier = RequiredString(element, "tier", source);
        if (tier.Length is 0 or > 64 || tier.Any(char.IsControl)) throw Invalid(source, "its archive tier is not a tier name");
        if (!DateTimeOffset.TryParse(RequiredString(element, "archived", source), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var archivedAt))
            throw Invalid(source, "its archived time is not a date");
        if (!element.TryGetProperty("bundles", out var bundlesElement) || bundlesElement.ValueKind != JsonValueKind.Array || bundlesElement.GetArrayLength() > MaxBundles)
            throw Invalid(source, $"its archive has no bundles list of at most {MaxBundles}");
        var bundles = new List<string>(bundlesElement.GetArrayLength());
        foreach (var bundle in bundlesElement.EnumerateArray())
        {
            if (bundle.ValueKind != JsonValueKind.String || bundle.GetString() is not { } id || !IsVersionId(id)) throw Invalid(source, "a bundle of its archive is not a bundle id");
            bundles.Add(id);
        }
        return new CollectionArchiveRecord(tier, archivedAt, bundles);
    }

    private static string RequiredString(JsonElement element, string name, string source) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid(source, $"'{name}' is missing or not text");

    private static TierStorageException Invalid(string source, string why, Exception? inner = null) =>
        new(ErrorIds.InvalidManifest, TierErrorKind.InvalidData, $"The collection manifest '{source}' was refused: {why}.", source, inner);

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";

    [GeneratedRegex("^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}$")]
    private static partial Regex VersionIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
    private static partial Regex CollectionNamePattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
