using System.Globalization;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Packaging;

/// <summary>One member of a packaged archive (a snapshot inside snapshots.tar.gz, the log inside activity.jsonl.gz):
/// the name it extracts to and its exact size, which is what bounds extraction.</summary>
public sealed record PackagedEntry(string Name, long Size);

/// <summary>One file of a session package as it travels to a tier.</summary>
public sealed record PackagedFile
{
    /// <summary>Plain file name inside the session's folder on the tier, e.g. activity.jsonl.gz.</summary>
    public string Name { get; init; } = "";
    public long Size { get; init; }
    public string Md5 { get; init; } = "";
    public string Sha256 { get; init; } = "";
    /// <summary>Bytes of the local source(s) this file was made from, before compression.</summary>
    public long SourceBytes { get; init; }
    /// <summary>What the file unpacks to; empty for files stored as they are (handoff.md, format 1's analytics_snapshot.db).</summary>
    public IReadOnlyList<PackagedEntry> Contents { get; init; } = [];
}

/// <summary>
/// manifest.json of a session package: which session and phase, when, and every packaged file with its size and
/// checksums. It travels with the data so the catalog can be rebuilt from a tier alone, and it is what downloads are
/// verified and archives are bounded against. Reading is strict: anything missing or malformed fails with
/// ErrorIds.InvalidManifest naming the file and the field.
/// </summary>
public sealed record SessionManifest
{
    /// <summary>1: the analytics snapshot stored as analytics_snapshot.db. 2 (issue 12): stored gzipped as
    /// analytics_snapshot.db.gz, with the plain file and its size as its one member. Both are read; an older TierStorage
    /// refuses format 2 by name ("written by a newer TierStorage") instead of restoring a .gz where it expects a database.</summary>
    public const int CurrentFormat = 2;
    public const string FileName = "manifest.json";

    public int Format { get; init; } = CurrentFormat;
    public string SessionId { get; init; } = "";
    public int PhaseNumber { get; init; }
    public string? PhaseName { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public IReadOnlyList<PackagedFile> Files { get; init; } = [];

    public PackagedFile? Find(string name) => Files.FirstOrDefault(f => f.Name == name);

    public byte[] ToUtf8Json()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", Format);
            json.WriteString("sessionId", SessionId);
            json.WriteStartObject("phase");
            json.WriteNumber("number", PhaseNumber);
            if (PhaseName is null) json.WriteNull("name");
            else json.WriteString("name", PhaseName);
            json.WriteEndObject();
            json.WriteString("createdAt", CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteStartArray("files");
            foreach (var file in Files)
            {
                json.WriteStartObject();
                json.WriteString("name", file.Name);
                json.WriteNumber("size", file.Size);
                json.WriteString("md5", file.Md5);
                json.WriteString("sha256", file.Sha256);
                json.WriteNumber("sourceBytes", file.SourceBytes);
                json.WriteStartArray("contents");
                foreach (var entry in file.Contents)
                {
                    json.WriteStartObject();
                    json.WriteString("name", entry.Name);
                    json.WriteNumber("size", entry.Size);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public Task WriteAsync(string path, CancellationToken cancellationToken) =>
        IoErrors.GuardAsync("writing the manifest", path, () =>
            AtomicFile.WriteAsync(path, overwrite: true, (stream, ct) => stream.WriteAsync(ToUtf8Json(), ct).AsTask(), cancellationToken));

    public static async Task<SessionManifest> ReadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] utf8;
        try
        {
            utf8 = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TierStorageException(ErrorIds.InvalidManifest, TierErrorKind.ObjectNotFound, $"The manifest '{path}' does not exist.", path, ex);
        }
        return Parse(utf8, path);
    }

    /// <summary>Parses and validates a manifest; <paramref name="source"/> names it in errors (a path or a tier key).</summary>
    public static SessionManifest Parse(ReadOnlySpan<byte> utf8, string source)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 16 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})", ex);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(source, "is not a JSON object");
            var format = Int(root, "format", source, "format");
            if (format > CurrentFormat)
                throw Invalid(source, $"has format {format}, written by a newer TierStorage (this one reads format {CurrentFormat}); update TierStorage");
            if (format < 1) throw Invalid(source, $"field 'format' is {format}; expected {CurrentFormat}");

            var sessionId = String(root, "sessionId", source, "sessionId");
            if (!SessionIds.IsValid(sessionId)) throw Invalid(source, $"field 'sessionId' is not a valid session id ('{sessionId}')");

            var phase = Property(root, "phase", JsonValueKind.Object, source, "phase");
            var phaseNumber = Int(phase, "number", source, "phase.number");
            if (phaseNumber < 0) throw Invalid(source, "field 'phase.number' is negative");
            var phaseName = phase.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;

            var createdText = String(root, "createdAt", source, "createdAt");
            if (!DateTimeOffset.TryParse(createdText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var createdAt))
                throw Invalid(source, $"field 'createdAt' is not an ISO 8601 time: '{createdText}'");

            var files = new List<PackagedFile>();
            var index = 0;
            foreach (var file in Property(root, "files", JsonValueKind.Array, source, "files").EnumerateArray())
            {
                var at = $"files[{index++}]";
                if (file.ValueKind != JsonValueKind.Object) throw Invalid(source, $"'{at}' is not an object");
                var fileName = SafeName(String(file, "name", source, at + ".name"), source, at + ".name");
                if (files.Any(f => string.Equals(f.Name, fileName, StringComparison.OrdinalIgnoreCase)))
                    throw Invalid(source, $"field '{at}.name' repeats '{fileName}'");
                var contents = new List<PackagedEntry>();
                if (file.TryGetProperty("contents", out var entries))
                {
                    if (entries.ValueKind != JsonValueKind.Array) throw Invalid(source, $"field '{at}.contents' is not an array");
                    var e = 0;
                    foreach (var entry in entries.EnumerateArray())
                    {
                        var entryAt = $"{at}.contents[{e++}]";
                        if (entry.ValueKind != JsonValueKind.Object) throw Invalid(source, $"'{entryAt}' is not an object");
                        var entryName = SafeName(String(entry, "name", source, entryAt + ".name"), source, entryAt + ".name");
                        if (contents.Any(c => string.Equals(c.Name, entryName, StringComparison.OrdinalIgnoreCase)))
                            throw Invalid(source, $"field '{entryAt}.name' repeats '{entryName}'");
                        contents.Add(new PackagedEntry(entryName, Size(entry, source, entryAt)));
                    }
                    if (!FitsInLong(contents.Select(c => c.Size))) throw Invalid(source, $"the sizes in '{at}.contents' add up beyond 2^63 bytes");
                }
                files.Add(new PackagedFile
                {
                    Name = fileName,
                    Size = Size(file, source, at),
                    Md5 = Hex(String(file, "md5", source, at + ".md5"), 32, source, at + ".md5"),
                    Sha256 = Hex(String(file, "sha256", source, at + ".sha256"), 64, source, at + ".sha256"),
                    SourceBytes = file.TryGetProperty("sourceBytes", out _) ? Long(file, "sourceBytes", source, at + ".sourceBytes") : 0,
                    Contents = contents,
                });
            }
            if (!FitsInLong(files.Select(f => f.Size))) throw Invalid(source, "the sizes of its files add up beyond 2^63 bytes");
            return new SessionManifest
            {
                Format = format, SessionId = sessionId, PhaseNumber = phaseNumber, PhaseName = phaseName, CreatedAt = createdAt, Files = files,
            };
        }
    }

    private static JsonElement Property(JsonElement parent, string name, JsonValueKind kind, string source, string field)
    {
        if (!parent.TryGetProperty(name, out var value)) throw Invalid(source, $"has no field '{field}'");
        if (value.ValueKind != kind) throw Invalid(source, $"field '{field}' is {value.ValueKind}, expected {kind}");
        return value;
    }

    private static string String(JsonElement parent, string name, string source, string field) =>
        Property(parent, name, JsonValueKind.String, source, field).GetString()!;

    private static long Long(JsonElement parent, string name, string source, string field)
    {
        var value = Property(parent, name, JsonValueKind.Number, source, field);
        if (!value.TryGetInt64(out var number) || number < 0) throw Invalid(source, $"field '{field}' is not a whole number >= 0");
        return number;
    }

    private static int Int(JsonElement parent, string name, string source, string field)
    {
        var value = Property(parent, name, JsonValueKind.Number, source, field);
        if (!value.TryGetInt32(out var number)) throw Invalid(source, $"field '{field}' is not a whole number");
        return number;
    }

    private static long Size(JsonElement parent, string source, string at) => Long(parent, "size", source, at + ".size");

    private static string Hex(string value, int length, string source, string field)
    {
        if (value.Length != length || !value.All(char.IsAsciiHexDigit))
            throw Invalid(source, $"field '{field}' is not {length} hexadecimal digits");
        return value.ToLowerInvariant();
    }

    /// <summary>Names in a manifest become file names on restore, so only plain names are accepted.</summary>
    private static string SafeName(string name, string source, string field)
    {
        var problem = ArchivePaths.Problem(name) ?? (name.Contains('/') ? "it contains '/'" : null);
        if (problem is not null) throw Invalid(source, $"field '{field}' is not a plain file name ('{name}': {problem})");
        return name;
    }

    /// <summary>False when the sizes overflow a long when added: every later total (progress, bounds) adds them.</summary>
    internal static bool FitsInLong(IEnumerable<long> sizes)
    {
        long total = 0;
        foreach (var size in sizes)
        {
            if (size < 0 || size > long.MaxValue - total) return false;
            total += size;
        }
        return true;
    }

    private static TierStorageException Invalid(string source, string problem, Exception? inner = null) =>
        new(ErrorIds.InvalidManifest, TierErrorKind.InvalidData, $"The session manifest '{source}' {problem}.", source, inner);

}
