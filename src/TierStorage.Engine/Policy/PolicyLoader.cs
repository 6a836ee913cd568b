using System.Text;
using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Reads, validates and fills in tierstorage.yaml.</summary>
public static class PolicyLoader
{
    public const string EmbeddedSource = "(embedded default)";

    /// <summary>Largest policy accepted (1 MiB). Real policies are a few KB; the cap keeps a hostile or mistaken
    /// file (a log pointed at by -PolicyPath) from being read into memory whole.</summary>
    public const int MaxPolicyBytes = 1024 * 1024;

    private const string EmbeddedResourceName = "TierStorage.Engine.Policy.DefaultPolicy.yaml";

    private static readonly Lazy<string> Embedded = new(ReadEmbeddedResource);

    /// <summary>Text of the embedded default policy (everything on this machine: folder tiers under the per-user data directory).</summary>
    public static string EmbeddedDefaultYaml => Embedded.Value;

    /// <summary>Loads the policy at <paramref name="path"/>, or the embedded default when null. Throws TierStorageException:
    /// ErrorIds.PolicyNotFound (missing file), ErrorIds.PolicyInvalid (with Findings: file, line, column, key path).</summary>
    public static TierPolicy Load(string? path)
    {
        if (path is null) return ThrowIfInvalid(ReadEmbedded(), EmbeddedSource);

        var fullPath = FullPathOrNull(path);
        if (fullPath is null || !File.Exists(fullPath))
            throw new TierStorageException(ErrorIds.PolicyNotFound, TierErrorKind.ObjectNotFound, $"Policy file '{fullPath ?? path}' does not exist.", fullPath ?? path);
        return ThrowIfInvalid(ReadFile(fullPath), fullPath);
    }

    /// <summary>Parses YAML text; <paramref name="sourceName"/> is the file name used in findings. Same errors as Load.</summary>
    /// <remarks>Relative folder paths resolve against the directory of <paramref name="sourceName"/> when it is a rooted
    /// path, otherwise against the current directory.</remarks>
    public static TierPolicy Parse(string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        return ThrowIfInvalid(ReadText(yaml, sourceName, BaseDirectoryOf(sourceName)), sourceName);
    }

    /// <summary>Every finding for the file (or the embedded default when null); never throws.</summary>
    public static IReadOnlyList<PolicyFinding> Test(string? path)
    {
        if (path is null) return ReadEmbedded().Findings;

        var fullPath = FullPathOrNull(path);
        if (fullPath is null || !File.Exists(fullPath))
            return [Finding(PolicyFindingCodes.FileNotFound, fullPath ?? path, $"Policy file '{fullPath ?? path}' does not exist.")];
        return ReadFile(fullPath).Findings;
    }

    /// <summary>The embedded default's tiers, used when a policy leaves out 'tiers' altogether.</summary>
    internal static List<TierDefinition> DefaultTiers() => ReadEmbedded().Policy.Tiers;

    private static (TierPolicy Policy, IReadOnlyList<PolicyFinding> Findings) ReadEmbedded() =>
        new PolicyReader(EmbeddedDefaultYaml, EmbeddedSource, PathExpander.DataDirectory, DefaultTiers).Read();

    private static (TierPolicy Policy, IReadOnlyList<PolicyFinding> Findings) ReadText(string yaml, string sourceName, string baseDirectory)
    {
        if (Encoding.UTF8.GetByteCount(yaml) > MaxPolicyBytes)
            return (new TierPolicy { Source = sourceName }, [Finding(PolicyFindingCodes.FileTooLarge, sourceName, $"The policy is larger than {MaxPolicyBytes / 1024} KiB; a real policy is a few KB.")]);
        return new PolicyReader(yaml, sourceName, baseDirectory, DefaultTiers).Read();
    }

    private static (TierPolicy Policy, IReadOnlyList<PolicyFinding> Findings) ReadFile(string fullPath)
    {
        var empty = new TierPolicy { Source = fullPath };
        try
        {
            using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            // Read at most one byte past the cap: the length reported up front can change while we read.
            var buffer = new byte[Math.Min(stream.Length, MaxPolicyBytes) + 1];
            var read = 0;
            int count;
            while (read < buffer.Length && (count = stream.Read(buffer, read, buffer.Length - read)) > 0) read += count;
            if (read > MaxPolicyBytes)
                return (empty, [Finding(PolicyFindingCodes.FileTooLarge, fullPath, $"The policy file is larger than {MaxPolicyBytes / 1024} KiB; a real policy is a few KB. Is this the right file?")]);

            var bytes = buffer.AsSpan(0, read);
            if (bytes.Contains((byte)0))
                return (empty, [Finding(PolicyFindingCodes.BinaryContent, fullPath, "The file contains NUL bytes; it is not a YAML text file.")]);
            string text;
            try
            {
                text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return (empty, [Finding(PolicyFindingCodes.BinaryContent, fullPath, "The file is not UTF-8 text; save the policy as UTF-8.")]);
            }
            return new PolicyReader(text.TrimStart('\uFEFF'), fullPath, Path.GetDirectoryName(fullPath)!, DefaultTiers).Read();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (empty, [Finding(PolicyFindingCodes.FileUnreadable, fullPath, $"The policy file cannot be read: {ex.Message}")]);
        }
    }

    private static TierPolicy ThrowIfInvalid((TierPolicy Policy, IReadOnlyList<PolicyFinding> Findings) result, string source)
    {
        var errors = result.Findings.Where(f => f.Severity == FindingSeverity.Error).ToList();
        if (errors.Count == 0) return result.Policy;
        var more = errors.Count == 1 ? "1 error" : $"{errors.Count} errors, the first shown; Test-TierPolicy lists them all";
        throw new TierStorageException(ErrorIds.PolicyInvalid, TierErrorKind.InvalidData, $"Invalid policy ({more}): {errors[0]}", source)
        {
            Findings = result.Findings,
        };
    }

    private static PolicyFinding Finding(string code, string file, string message) =>
        new() { Severity = FindingSeverity.Error, Code = code, File = file, Message = message };

    private static string? FullPathOrNull(string path)
    {
        try
        {
            return string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    private static string BaseDirectoryOf(string sourceName) =>
        Path.IsPathRooted(sourceName) && Path.GetDirectoryName(sourceName) is { Length: > 0 } directory ? directory : Environment.CurrentDirectory;

    private static string ReadEmbeddedResource()
    {
        using var stream = typeof(PolicyLoader).Assembly.GetManifestResourceStream(EmbeddedResourceName)
            ?? throw new InvalidOperationException($"The engine assembly lacks its embedded resource {EmbeddedResourceName}; the build is broken.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
