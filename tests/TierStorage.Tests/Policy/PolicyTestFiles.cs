using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;

namespace TierStorage.Tests.Policy;

/// <summary>A temp directory holding policy files, deleted after the test.</summary>
internal sealed class PolicyTestFiles : IDisposable
{
    public PolicyTestFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "tierstorage-policy-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string Write(string yaml, string name = "tierstorage.yaml")
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    public string WriteBytes(byte[] bytes, string name = "tierstorage.yaml")
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public IReadOnlyList<PolicyFinding> Test(string yaml) => PolicyLoader.Test(Write(yaml));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; failing the test over it would hide the real result.
        }
    }

    /// <summary>A file of the repository's examples/ folder, found above the test output directory.</summary>
    public static string FindExample(string name = "tierstorage.yaml")
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "examples", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"examples/{name} not found above the test output directory.");
    }

    /// <summary>The one finding with this code; fails with the whole list otherwise, which is what you need to see.</summary>
    public static PolicyFinding Only(IReadOnlyList<PolicyFinding> findings, string code)
    {
        var matching = findings.Where(f => f.Code == code).ToList();
        Assert.True(matching.Count == 1, $"Expected one {code}, got:{Environment.NewLine}{string.Join(Environment.NewLine, findings)}");
        return matching[0];
    }

    public static void AssertAt(PolicyFinding finding, int line, int column, string? keyPath)
    {
        Assert.Equal((line, column, keyPath), (finding.Line, finding.Column, finding.KeyPath));
    }

    public static IReadOnlyList<PolicyFinding> Errors(IReadOnlyList<PolicyFinding> findings) =>
        findings.Where(f => f.Severity == FindingSeverity.Error).ToList();

    /// <summary>A valid three-tier policy; tests append to or replace lines of it.</summary>
    public const string ValidTiers = """
        version: 1
        tiers:
          - name: local
            level: 1
            kind: folder
            capacity: 20MB
          - name: backup
            level: 2
            kind: folder
            path: backup
            capacity: 1GB
          - name: archive
            level: 3
            kind: folder
            path: archive
            capacity: unlimited

        """;
}
