using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Who a workspace is (invariant 7): a random id, the namespace its objects live under on every backup and archive tier,
/// and the directory it was last used from. Kept in &lt;workspace&gt;/workspace.json (and mirrored in the catalog, so either
/// one restores the other). Two projects on one tier have different ids, so different namespaces; a copy carries the
/// original's id, and <see cref="TierWorkspace"/> tells it apart from a move by the recorded directory.
/// </summary>
public sealed partial record WorkspaceIdentity
{
    public const string FileName = "workspace.json";
    /// <summary>The file is the user's (and a copy's): read bounded, like anything else from disk.</summary>
    private const int MaxFileBytes = 64 * 1024;
    private const int MaxProjectNameLength = 40;

    /// <summary>32 lower-case hex digits.</summary>
    public required string Id { get; init; }
    /// <summary>The folder (key prefix) this workspace's objects live under on every non-local tier: &lt;project&gt;-&lt;first 8 id
    /// digits&gt;. Empty for a workspace that backed up before namespaces existed (its objects are at the tier's root).</summary>
    public required string Namespace { get; init; }
    /// <summary>The full path of the workspace directory it was last opened from.</summary>
    public required string Root { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>A new identity for a workspace at <paramref name="root"/>: a fresh id and the namespace
    /// &lt;project&gt;-&lt;id8&gt;, where the project is the folder holding .tierstorage (or the workspace folder's own name).</summary>
    public static WorkspaceIdentity New(string root, DateTimeOffset now)
    {
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        return new WorkspaceIdentity { Id = id, Namespace = $"{ProjectName(root)}-{id[..8]}", Root = Path.GetFullPath(root), CreatedAt = now };
    }

    /// <summary>The namespace as a tier that encrypts shows it: a name derived from it that reveals nothing of the project
    /// ("ts-" and 16 hex digits), since encrypted tiers show no more than phase numbers and sizes. Empty stays empty.</summary>
    public static string SealedNamespace(string space) => space.Length == 0 ? ""
        : "ts-" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("tierstorage-namespace\n" + space)))[..16].ToLowerInvariant();

    /// <summary>The project part of a namespace: only characters every tier accepts in a folder name.</summary>
    internal static string ProjectName(string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var name = Path.GetFileName(full);
        if (string.Equals(name, TierWorkspace.DefaultDirectoryName, StringComparison.OrdinalIgnoreCase))
            name = Path.GetFileName(Path.GetDirectoryName(full) ?? "") ?? "";
        name = UnsafeCharacters().Replace(name, "_").Trim('.', '_', '-');
        if (name.Length > MaxProjectNameLength) name = name[..MaxProjectNameLength].TrimEnd('.', '_', '-');
        return name.Length == 0 ? "workspace" : name;
    }

    public static string PathIn(string workspaceRoot) => System.IO.Path.Combine(workspaceRoot, FileName);

    /// <summary>The identity recorded in <paramref name="workspaceRoot"/>, or null when there is no file.
    /// ErrorIds.WorkspaceIdentityInvalid when the file is there but is not one.</summary>
    public static async Task<WorkspaceIdentity?> ReadAsync(string workspaceRoot, CancellationToken cancellationToken)
    {
        var path = PathIn(workspaceRoot);
        byte[] bytes;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (!stream.CanSeek || stream.Length > MaxFileBytes) throw Invalid(path, $"it is not a regular file of at most {MaxFileBytes / 1024} KB");
            bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        return Parse(bytes, path);
    }

    /// <remarks>Read with <see cref="JsonDocument"/> rather than a serializer: every command opens the workspace, and the
    /// serializer's metadata (even source-generated) was JIT-compiled on each start (issue 12). Like the serializer before it:
    /// keys are case-sensitive, unknown keys are ignored, the last of a repeated key wins, and null is "not there".</remarks>
    internal static WorkspaceIdentity Parse(ReadOnlyMemory<byte> json, string source)
    {
        string? id = null, space = null, root = null;
        DateTimeOffset? createdAt = null;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Null) throw Invalid(source, "it is empty");
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(source, "it is not a JSON object");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "id": id = StringOrNull(property); break;
                    case "namespace": space = StringOrNull(property); break;
                    case "root": root = StringOrNull(property); break;
                    case "createdAt":
                        createdAt = property.Value.ValueKind == JsonValueKind.Null ? null
                            : property.Value.ValueKind == JsonValueKind.String && property.Value.TryGetDateTimeOffset(out var at) ? at
                            : throw Invalid(source, "'createdAt' must be a date and time (ISO 8601)");
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"it is not valid JSON ({e.Message})");
        }
        if (id is null || !IdPattern().IsMatch(id)) throw Invalid(source, "'id' must be 32 lower-case hex digits");
        if (space is null || (space.Length > 0 && !NamespacePattern().IsMatch(space)))
            throw Invalid(source, "'namespace' must be letters, digits, '.', '_' or '-' (at most 80, not starting with '.')");
        if (string.IsNullOrWhiteSpace(root) || !System.IO.Path.IsPathFullyQualified(root)) throw Invalid(source, "'root' must be a full path");
        return new WorkspaceIdentity { Id = id, Namespace = space, Root = root, CreatedAt = createdAt ?? default };

        string? StringOrNull(JsonProperty property) => property.Value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => property.Value.GetString(),
            _ => throw Invalid(source, $"'{property.Name}' must be a string"),
        };
    }

    /// <summary>Writes the identity into <paramref name="workspaceRoot"/> whole or not at all.</summary>
    public Task WriteAsync(string workspaceRoot, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllTextAsync(PathIn(workspaceRoot), ToJson(), overwrite: true, cancellationToken);

    internal string ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("id", Id);
            writer.WriteString("namespace", Namespace);
            writer.WriteString("root", Root);
            writer.WriteString("createdAt", CreatedAt);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>True when <paramref name="other"/> names this workspace's directory (Windows paths ignore case).</summary>
    public bool IsAt(string other) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Root), Path.TrimEndingDirectorySeparator(Path.GetFullPath(other)),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static TierStorageException Invalid(string path, string reason) =>
        new(ErrorIds.WorkspaceIdentityInvalid, TierErrorKind.InvalidData,
            $"The workspace identity '{path}' is damaged: {reason}. It says which namespace of the tiers holds this workspace's backups; " +
            "restore it from a copy of the workspace, or delete it to have it recreated from the catalog.", path);

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,79}$")]
    internal static partial Regex NamespacePattern();

    [GeneratedRegex(@"[^A-Za-z0-9._\-]+")]
    private static partial Regex UnsafeCharacters();
}
