using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Reads, validates and fills in tierstorage.yaml.</summary>
public static class PolicyLoader
{
    public const string EmbeddedSource = "(embedded default)";

    /// <summary>Text of the embedded default policy (everything on this machine: folder tiers under the per-user data directory).</summary>
    public static string EmbeddedDefaultYaml => throw new NotImplementedException();

    /// <summary>Loads the policy at <paramref name="path"/>, or the embedded default when null. Throws TierStorageException:
    /// ErrorIds.PolicyNotFound (missing file), ErrorIds.PolicyInvalid (with Findings: file, line, column, key path).</summary>
    public static TierPolicy Load(string? path) => throw new NotImplementedException();

    /// <summary>Parses YAML text; <paramref name="sourceName"/> is the file name used in findings. Same errors as Load.</summary>
    public static TierPolicy Parse(string yaml, string sourceName) => throw new NotImplementedException();

    /// <summary>Every finding for the file (or the embedded default when null); never throws.</summary>
    public static IReadOnlyList<PolicyFinding> Test(string? path) => throw new NotImplementedException();
}
