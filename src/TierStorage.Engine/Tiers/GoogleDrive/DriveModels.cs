using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>The members of Drive's File resource the store asks for (int64 values arrive as JSON strings).</summary>
internal sealed class DriveFile
{
    public const string FolderMimeType = "application/vnd.google-apps.folder";
    /// <summary>The <c>fields</c> selection every files request uses, so each answer carries the same members.</summary>
    public const string Fields = "id,name,mimeType,size,md5Checksum,createdTime,modifiedTime";

    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string MimeType { get; set; } = "";
    public long? Size { get; set; }
    public string? Md5Checksum { get; set; }
    public DateTimeOffset? CreatedTime { get; set; }
    public DateTimeOffset? ModifiedTime { get; set; }

    [JsonIgnore]
    public bool IsFolder => MimeType == FolderMimeType;

    /// <summary>Oldest first (creation time, then id), so every process picks the same one of same-named duplicates.</summary>
    public static IEnumerable<DriveFile> OldestFirst(IEnumerable<DriveFile> files) =>
        files.OrderBy(f => f.CreatedTime ?? DateTimeOffset.MaxValue).ThenBy(f => f.Id, StringComparer.Ordinal);
}

internal sealed class DriveFileList
{
    public string? NextPageToken { get; set; }
    public List<DriveFile> Files { get; set; } = [];
}

internal sealed class DriveAbout
{
    public DriveStorageQuota? StorageQuota { get; set; }
    public DriveUser? User { get; set; }
}

internal sealed class DriveStorageQuota
{
    public long? Limit { get; set; }
    public long Usage { get; set; }
}

internal sealed class DriveUser
{
    public string? EmailAddress { get; set; }
    public string? DisplayName { get; set; }
}

/// <summary>Drive's error body: {"error":{"errors":[{"domain","reason","message"}],"code","message"}}.</summary>
internal sealed class DriveErrorBody
{
    public DriveErrorDetail? Error { get; set; }
}

internal sealed class DriveErrorDetail
{
    public int Code { get; set; }
    public string? Message { get; set; }
    public List<DriveErrorItem> Errors { get; set; } = [];
}

internal sealed class DriveErrorItem
{
    public string? Domain { get; set; }
    public string? Reason { get; set; }
    public string? Message { get; set; }
}

/// <summary>The metadata part of a create or an upload: only the members given are sent (<c>{}</c> when none).</summary>
internal sealed record DriveFileMetadata
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MimeType { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string[]? Parents { get; init; }
}

internal static class DriveJson
{
    /// <summary>camelCase, case-insensitive, numbers from strings (Drive sends int64 as strings), through the source-generated
    /// <see cref="DriveJsonContext"/> (the CLI is NativeAOT).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { TypeInfoResolver = DriveJsonContext.Default };

    public static JsonContent Content(DriveFileMetadata metadata) => JsonContent.Create(metadata, Options.Info<DriveFileMetadata>());
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DriveFile))]
[JsonSerializable(typeof(DriveFileList))]
[JsonSerializable(typeof(DriveAbout))]
[JsonSerializable(typeof(DriveErrorBody))]
[JsonSerializable(typeof(DriveFileMetadata))]
internal sealed partial class DriveJsonContext : JsonSerializerContext;
