using System.Security.Cryptography;

namespace TierStorage.DriveFake;

/// <summary>One file or folder the fake holds. Mutated only under the server's lock.</summary>
public sealed class FakeFile
{
    public const string FolderMimeType = "application/vnd.google-apps.folder";

    public required string Id { get; init; }
    public required string Name { get; set; }
    public required string MimeType { get; set; }
    public List<string> Parents { get; init; } = [];
    public bool Trashed { get; set; }
    public DateTimeOffset CreatedTime { get; init; }
    public DateTimeOffset ModifiedTime { get; set; }
    /// <summary>Null for folders (Drive reports no size or md5Checksum for them).</summary>
    public byte[]? Content { get; private set; }
    public string? Md5 { get; private set; }

    public bool IsFolder => MimeType == FolderMimeType;

    public void SetContent(byte[] content, DateTimeOffset now)
    {
        Content = content;
        Md5 = Convert.ToHexStringLower(MD5.HashData(content));
        ModifiedTime = now;
    }
}
