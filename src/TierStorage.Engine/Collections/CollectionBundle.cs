using System.Globalization;
using System.Text.Json;
using TierStorage.Contracts;

namespace TierStorage.Engine.Collections;

/// <summary>One content inside a bundle: the gzip object as Tier 2 held it, as the tar member <c>&lt;sha256&gt;.gz</c>.</summary>
/// <param name="Sha256">The SHA-256 of the content (what versions point at).</param>
/// <param name="Size">Bytes of the content, uncompressed.</param>
/// <param name="StoredSize">Bytes of the gzip member in the tar.</param>
/// <param name="StoredSha256">SHA-256 of the gzip member, checked when it is read out of the bundle.</param>
public sealed record CollectionBundleMember(string Sha256, long Size, long StoredSize, string StoredSha256)
{
    public string MemberName => Sha256 + ".gz";
}

/// <summary>
/// The manifest of a bundle on the archive tier: <c>collections/bundles/&lt;id&gt;.json</c>, in STANDARD class beside the
/// (cold) <c>collections/bundles/&lt;id&gt;.tar.gz</c>, so what a bundle holds is known without a thaw. It is written only
/// after the bundle is verified on the tier (size and MD5 as the tier reports them), so a manifest on the tier means a
/// verified bundle. Read back it is untrusted (invariant 8): bounded in size and count, every hash well formed, member
/// sizes within the bundle's, or refused as a whole.
/// </summary>
public sealed class CollectionBundle
{
    public const int CurrentFormat = 1;
    /// <summary>JSON read back at most: about 250 bytes a member, so far above <see cref="MaxMembers"/>.</summary>
    public const long MaxJsonBytes = 64L << 20;
    /// <summary>Members a bundle holds at most (a build closes a bundle at <see cref="CollectionArchiver.MaxMembersPerBundle"/>).</summary>
    public const int MaxMembers = 200_000;
    public const string BundlesPrefix = CollectionOperations.Prefix + "bundles/";

    public string BundleId { get; init; } = "";
    /// <summary>The tier whose contents it holds (the collections' tier): only versions on that tier use it, so only its
    /// versions decide when it is no longer needed.</summary>
    public string SourceTier { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public long Size { get; init; }
    public string Md5 { get; init; } = "";
    public string Sha256 { get; init; } = "";
    public IReadOnlyList<CollectionBundleMember> Members { get; init; } = [];

    public string ArchiveKey => ArchiveKeyFor(BundleId);

    public string ManifestKey => ManifestKeyFor(BundleId);

    public static string ArchiveKeyFor(string bundleId) => $"{BundlesPrefix}{bundleId}.tar.gz";

    public static string ManifestKeyFor(string bundleId) => $"{BundlesPrefix}{bundleId}.json";

    /// <summary>The bundle id a key under <see cref="BundlesPrefix"/> names, and whether it is the manifest's; null when it is neither key.</summary>
    public static (string Id, bool IsManifest)? ParseKey(string key)
    {
        if (!key.StartsWith(BundlesPrefix, StringComparison.Ordinal)) return null;
        var name = key[BundlesPrefix.Length..];
        if (name.EndsWith(".json", StringComparison.Ordinal) && name[..^5] is var id && CollectionManifest.IsVersionId(id)) return (id, true);
        if (name.EndsWith(".tar.gz", StringComparison.Ordinal) && name[..^7] is var archive && CollectionManifest.IsVersionId(archive)) return (archive, false);
        return null;
    }

    public byte[] ToUtf8Json()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", CurrentFormat);
            json.WriteString("bundle", BundleId);
            json.WriteString("source_tier", SourceTier);
            json.WriteString("created", CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("archive_key", ArchiveKey);
            json.WriteNumber("size", Size);
            json.WriteString("md5", Md5);
            json.WriteString("sha256", Sha256);
            json.WriteStartArray("members");
            foreach (var member in Members)
            {
                json.WriteStartObject();
                json.WriteString("sha256", member.Sha256);
                json.WriteNumber("size", member.Size);
                json.WriteNumber("stored_size", member.StoredSize);
                json.WriteString("stored_sha256", member.StoredSha256);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a bundle manifest that claims to be bundle <paramref name="expectedId"/>; anything else fails with
    /// ErrorIds.InvalidManifest naming <paramref name="source"/>.</summary>
    public static CollectionBundle Parse(ReadOnlySpan<byte> utf8, string expectedId, string source)
    {
        if (utf8.Length > MaxJsonBytes) throw Invalid(source, $"it is larger than {MaxJsonBytes} bytes");
        try
        {
            using var document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 6 });
            return Parse(document.RootElement, expectedId, source);
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"it is not valid JSON ({ex.Message})", ex);
        }
    }

    private static CollectionBundle Parse(JsonElement root, string expectedId, string source)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Invalid(source, "it is not a JSON object");
        if (!root.TryGetProperty("format", out var format) || !format.TryGetInt32(out var formatNumber) || formatNumber != CurrentFormat)
            throw Invalid(source, $"its format is not {CurrentFormat} (written by another version of TierStorage?)");
        var id = RequiredString(root, "bundle", source);
        if (id != expectedId) throw Invalid(source, $"it describes bundle '{Shorten(id)}', not '{expectedId}'");
        var sourceTier = RequiredString(root, "source_tier", source);
        if (sourceTier.Length is 0 or > 64 || sourceTier.Any(char.IsControl)) throw Invalid(source, "its source_tier is not a tier name");
        if (RequiredString(root, "archive_key", source) != ArchiveKeyFor(id)) throw Invalid(source, $"its archive_key is not '{ArchiveKeyFor(id)}'");
        if (!DateTimeOffset.TryParse(RequiredString(root, "created", source), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var created))
            throw Invalid(source, "its created time is not a date");
        var size = RequiredSize(root, "size", source);
        var md5 = RequiredString(root, "md5", source);
        if (md5.Length != 32 || !md5.All(char.IsAsciiHexDigitLower)) throw Invalid(source, "its md5 is not 32 lower-case hex digits");
        var sha = RequiredString(root, "sha256", source);
        if (!CollectionManifest.IsSha256(sha)) throw Invalid(source, "its sha256 is not 64 lower-case hex digits");
        if (!root.TryGetProperty("members", out var membersElement) || membersElement.ValueKind != JsonValueKind.Array)
            throw Invalid(source, "it has no members list");
        if (membersElement.GetArrayLength() > MaxMembers) throw Invalid(source, $"it lists more than {MaxMembers} members");
        var members = new List<CollectionBundleMember>(membersElement.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long stored = 0;
        foreach (var element in membersElement.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object) throw Invalid(source, "a member is not an object");
            var memberSha = RequiredString(element, "sha256", source);
            if (!CollectionManifest.IsSha256(memberSha)) throw Invalid(source, $"a member's sha256 '{Shorten(memberSha)}' is not 64 lower-case hex digits");
            if (!seen.Add(memberSha)) throw Invalid(source, $"it lists {memberSha} twice");
            var storedSha = RequiredString(element, "stored_sha256", source);
            if (!CollectionManifest.IsSha256(storedSha)) throw Invalid(source, $"the stored_sha256 of {memberSha} is not 64 lower-case hex digits");
            var member = new CollectionBundleMember(memberSha, RequiredSize(element, "size", source), RequiredSize(element, "stored_size", source), storedSha);
            // The members' bytes lie inside the bundle: more than its size is a lie that would size an extraction.
            stored += member.StoredSize;
            if (member.StoredSize > size || stored > size) throw Invalid(source, "its members add up to more bytes than the bundle holds");
            members.Add(member);
        }
        return new CollectionBundle { BundleId = id, SourceTier = sourceTier, CreatedAt = created, Size = size, Md5 = md5, Sha256 = sha, Members = members };
    }

    private static long RequiredSize(JsonElement element, string name, string source) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out var size) && size >= 0 ? size : throw Invalid(source, $"'{name}' is not a whole number of bytes");

    private static string RequiredString(JsonElement element, string name, string source) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid(source, $"'{name}' is missing or not text");

    private static TierStorageException Invalid(string source, string why, Exception? inner = null) =>
        new(ErrorIds.InvalidManifest, TierErrorKind.InvalidData, $"The collection bundle manifest '{source}' was refused: {why}.", source, inner);

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";
}
