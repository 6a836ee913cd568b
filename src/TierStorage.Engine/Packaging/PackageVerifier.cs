using TierStorage.Contracts;

namespace TierStorage.Engine.Packaging;

/// <summary>Checks downloaded package files against their manifest before anything is unpacked or trusted.</summary>
public static class PackageVerifier
{
    /// <summary>Checks size, then MD5 and SHA-256 in one read. ErrorIds.ObjectNotFound when the file is missing,
    /// ErrorIds.ChecksumMismatch naming the file and what differs.</summary>
    public static async Task VerifyFileAsync(string path, PackagedFile expected, CancellationToken cancellationToken)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
                $"'{expected.Name}' of the package is missing: '{path}' does not exist.", expected.Name);
        if (file.Length != expected.Size) throw Mismatch(expected.Name, path, "size", $"{file.Length:N0} bytes", $"{expected.Size:N0} bytes");
        RequireMatch(await ChecksumStream.ComputeAsync(path, cancellationToken).ConfigureAwait(false), expected, path);
    }

    /// <summary>ErrorIds.ChecksumMismatch when <paramref name="actual"/> (hashed as the bytes were read from
    /// <paramref name="path"/>) differs from <paramref name="expected"/> in size, MD5 or SHA-256.</summary>
    public static void RequireMatch(FileChecksum actual, PackagedFile expected, string path)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        if (actual.Size != expected.Size) throw Mismatch(expected.Name, path, "size", $"{actual.Size:N0} bytes", $"{expected.Size:N0} bytes");
        if (!string.Equals(actual.Md5, expected.Md5, StringComparison.OrdinalIgnoreCase)) throw Mismatch(expected.Name, path, "MD5", actual.Md5, expected.Md5);
        if (!string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase)) throw Mismatch(expected.Name, path, "SHA-256", actual.Sha256, expected.Sha256);
    }

    /// <summary>ErrorIds.ChecksumMismatch when <paramref name="actual"/> differs from <paramref name="expected"/> in size or
    /// SHA-256: for bytes hashed with SHA-256 only (<see cref="ChecksumReadStream"/> with md5: false). Equal SHA-256 means
    /// equal bytes, so equal MD5: checking the MD5 as well would cost a second hash of every byte and prove nothing more.</summary>
    public static void RequireSizeAndSha256(FileChecksum actual, PackagedFile expected, string path)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        if (actual.Size != expected.Size) throw Mismatch(expected.Name, path, "size", $"{actual.Size:N0} bytes", $"{expected.Size:N0} bytes");
        if (!string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase)) throw Mismatch(expected.Name, path, "SHA-256", actual.Sha256, expected.Sha256);
    }

    /// <summary>Verifies every file the manifest lists, found by name in <paramref name="directory"/>.</summary>
    public static async Task VerifyDirectoryAsync(string directory, SessionManifest manifest, CancellationToken cancellationToken)
    {
        foreach (var file in manifest.Files)
            await VerifyFileAsync(Path.Combine(directory, file.Name), file, cancellationToken).ConfigureAwait(false);
    }

    private static TierStorageException Mismatch(string name, string path, string what, string actual, string expected) =>
        new(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
            $"'{name}' does not match its manifest: its {what} is {actual}, the manifest says {expected} ('{path}'). The copy is corrupt; download it again.",
            name);
}
