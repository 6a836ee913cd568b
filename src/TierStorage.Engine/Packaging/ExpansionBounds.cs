using TierStorage.Contracts;

namespace TierStorage.Engine.Packaging;

/// <summary>
/// How far a session package read back from a tier may unpack when the catalog cannot vouch for its manifest (the catalog
/// was rebuilt from the tier, or the package comes out of a phase archive). Unpacking is already held to the sizes the
/// manifest declares, exactly; this holds the declared sizes themselves to what deflate can produce from the stored bytes
/// and to an absolute ceiling, so a 27 MB gzip whose manifest claims 6 GiB is refused before a byte is unpacked
/// (issue 11 #11). A manifest the catalog recorded when it made the backup is trusted with its sizes.
/// </summary>
public static class ExpansionBounds
{
    /// <summary>Deflate's largest possible expansion is about 1032:1; a manifest claiming more for a file is lying.</summary>
    public const long MaxDeflateRatio = 1032;
    /// <summary>Room for tar headers and gzip framing beyond the ratio, per compressed file.</summary>
    private const long FramingAllowance = 1L << 20;
    /// <summary>1 GiB for one unpacked file: far above any session's log or snapshot, far below filling a disk by surprise.</summary>
    public const long MaxUnvouchedEntryBytes = 1L << 30;
    /// <summary>2 GiB for everything one session package unpacks to.</summary>
    public const long MaxUnvouchedTotalBytes = 2L << 30;

    /// <summary>Throws ErrorIds.ArchiveTooLarge (InvalidData) naming <paramref name="source"/> and the file when the manifest
    /// declares more than the bounds allow.</summary>
    public static void RequireWithin(SessionManifest manifest, string source)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        long total = 0;
        foreach (var file in manifest.Files)
        {
            var unpacked = UnpackedSize(file);
            if (unpacked == 0) continue;
            foreach (var entry in file.Contents)
                if (entry.Size > MaxUnvouchedEntryBytes)
                    throw TooLarge(source, $"'{file.Name}' member '{entry.Name}' is declared as {entry.Size:N0} bytes, above the {MaxUnvouchedEntryBytes:N0}-byte limit per file");
            if (unpacked > MaxUnvouchedEntryBytes && file.Contents.Count == 0)
                throw TooLarge(source, $"'{file.Name}' is declared to unpack to {unpacked:N0} bytes, above the {MaxUnvouchedEntryBytes:N0}-byte limit per file");
            var possible = file.Size > (long.MaxValue - FramingAllowance) / MaxDeflateRatio ? long.MaxValue : file.Size * MaxDeflateRatio + FramingAllowance;
            if (unpacked > possible)
                throw TooLarge(source, $"'{file.Name}' is {file.Size:N0} bytes but declared to unpack to {unpacked:N0}, more than deflate can expand it to");
            total = unpacked > long.MaxValue - total ? long.MaxValue : total + unpacked;
            if (total > MaxUnvouchedTotalBytes)
                throw TooLarge(source, $"the package is declared to unpack to more than the {MaxUnvouchedTotalBytes:N0}-byte limit per session (at '{file.Name}')");
        }
    }

    /// <summary>What a compressed file unpacks to by its manifest: its members' sizes, or for a .gz without a member list
    /// (older packages) its source bytes; 0 for files stored as they are. Saturates instead of overflowing.</summary>
    private static long UnpackedSize(PackagedFile file)
    {
        if (file.Contents.Count == 0)
            return file.Name.EndsWith(".gz", StringComparison.Ordinal) ? file.SourceBytes : 0;
        long sum = 0;
        foreach (var entry in file.Contents)
            sum = entry.Size > long.MaxValue - sum ? long.MaxValue : sum + entry.Size;
        return sum;
    }

    private static TierStorageException TooLarge(string source, string problem) =>
        new(ErrorIds.ArchiveTooLarge, TierErrorKind.InvalidData,
            $"The session package '{source}' was refused: {problem}. The catalog holds no record of this manifest to vouch for it, so nothing was unpacked.", source);
}
