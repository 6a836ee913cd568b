using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;

namespace TierStorage.Engine.Packaging;

/// <summary>One file inside a phase archive: sessions/&lt;session&gt;/&lt;name&gt; with the checksums it had on the backup tier.</summary>
public sealed record PhaseArchiveFile
{
    public required string SessionId { get; init; }
    /// <summary>Path inside the tar: sessions/&lt;session&gt;/&lt;file&gt;.</summary>
    public required string Path { get; init; }
    public required long Size { get; init; }
    public required string Md5 { get; init; }
    public required string Sha256 { get; init; }
}

public sealed record PhaseArchiveSession
{
    public required string SessionId { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public long EventCount { get; init; }
}

/// <summary>The phase's analytics, carried in the manifest so a review of an archived phase never needs a thaw.</summary>
public sealed record PhaseArchiveTotals
{
    public long Sessions { get; init; }
    public long Events { get; init; }
    public long Failures { get; init; }
    public long DurationMs { get; init; }
    public TokenUsage Tokens { get; set; } = new();
    public IReadOnlyList<NameCount> Agents { get; set; } = [];
    public IReadOnlyList<NameCount> Tools { get; set; } = [];
    public IReadOnlyList<NameCount> Models { get; set; } = [];
    public IReadOnlyList<NameCount> Tasks { get; set; } = [];
}

/// <summary>
/// metadata/Phase_&lt;n&gt;_&lt;name&gt;_manifest.json on the archive tier: the phase, the archive's own size and checksums,
/// every file inside it with its session and checksums, and the phase's analytics totals. Stored in a warm storage class
/// beside the (cold) archive, it is what restores are verified against and what rebuilds the catalog.
/// </summary>
public sealed record PhaseArchiveManifest
{
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;
    public required int Phase { get; init; }
    public string? PhaseName { get; init; }
    public DateTimeOffset? PhaseStartedAt { get; init; }
    public DateTimeOffset? PhaseEndedAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>Key of the archive on its tier, e.g. Phase_1_setup.tar.gz.</summary>
    public required string ArchiveKey { get; init; }
    public required long ArchiveSize { get; init; }
    public required string ArchiveMd5 { get; init; }
    public required string ArchiveSha256 { get; init; }
    public required IReadOnlyList<PhaseArchiveSession> Sessions { get; init; }
    public required IReadOnlyList<PhaseArchiveFile> Files { get; init; }
    public PhaseArchiveTotals Totals { get; set; } = new();
    /// <summary>The phase review computed from every event when the phase was archived (absent in older manifests).</summary>
    public PhaseReview? Review { get; init; }

    public static string ArchiveKeyFor(string phaseFolder) => phaseFolder + ".tar.gz";

    public static string ManifestKeyFor(string phaseFolder) => $"metadata/{phaseFolder}_manifest.json";

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, PhaseArchiveManifestJson.Default.PhaseArchiveManifest);

    /// <summary>Strict: unknown or missing fields, a newer format, or files outside sessions/ fail with ErrorIds.InvalidManifest naming the source.</summary>
    public static PhaseArchiveManifest Parse(ReadOnlySpan<byte> utf8, string source)
    {
        PhaseArchiveManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(utf8, PhaseArchiveManifestJson.Default.PhaseArchiveManifest);
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"is not a phase archive manifest ({ex.Message})", ex);
        }
        if (manifest is null) throw Invalid(source, "is empty");
        if (manifest.Format > CurrentFormat) throw Invalid(source, $"has format {manifest.Format}, newer than this version reads ({CurrentFormat})");
        // JSON null passes 'required'; everything below (and every reader after) assumes these are there.
        if (manifest.Sessions is null || manifest.Files is null || manifest.ArchiveKey is null || manifest.ArchiveMd5 is null || manifest.ArchiveSha256 is null
            || manifest.Totals is null || manifest.Sessions.Any(s => s?.SessionId is null)
            || manifest.Files.Any(f => f?.SessionId is null || f.Path is null || f.Md5 is null || f.Sha256 is null))
            throw Invalid(source, "has a null where a value is required");
        if (ArchivePaths.Problem(manifest.ArchiveKey) is { } keyProblem) throw Invalid(source, $"names the archive '{manifest.ArchiveKey}' ({keyProblem})");
        if (manifest.ArchiveSize < 0) throw Invalid(source, "has a negative archive size");
        var paths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in manifest.Files)
        {
            if (ArchivePaths.Problem(file.Path) is { } problem || !file.Path.StartsWith($"sessions/{file.SessionId}/", StringComparison.Ordinal))
                throw Invalid(source, $"lists '{file.Path}', which is not a file of session '{file.SessionId}'");
            if (!paths.Add(file.Path)) throw Invalid(source, $"lists '{file.Path}' twice");
        }
        if (manifest.Sessions.GroupBy(s => s.SessionId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw Invalid(source, $"lists session '{repeated.Key}' twice");
        if (!SessionManifest.FitsInLong(manifest.Files.Select(f => f.Size))) throw Invalid(source, "has file sizes that are negative or add up beyond 2^63 bytes");
        return manifest;
    }

    private static TierStorageException Invalid(string source, string what, Exception? inner = null) =>
        new(ErrorIds.InvalidManifest, TierErrorKind.InvalidData, $"The phase archive manifest '{source}' {what}.", source, inner);
}

/// <summary>The manifest's JSON, source-generated (the CLI is NativeAOT): enums by name, as the format has always written them.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, UseStringEnumConverter = true)]
[JsonSerializable(typeof(PhaseArchiveManifest))]
internal sealed partial class PhaseArchiveManifestJson : JsonSerializerContext;
