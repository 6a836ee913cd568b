using System.Globalization;
using System.Text;
using TierStorage.Contracts;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TierStorage.Engine.Catalog.Transfer;

/// <summary>The policy's <c>catalog:</c> section as Copy-TierCatalog reads and writes it.</summary>
/// <param name="Provider">sqlite or postgres: which catalog the workspace uses.</param>
/// <param name="Connection">The PostgreSQL connection string (no password): the shared catalog, or the mirror while dual-writing.</param>
/// <param name="PasswordEnv">The environment variable holding its password.</param>
/// <param name="DualWrite">With provider sqlite: every command that changed the SQLite catalog mirrors it into <paramref name="Connection"/>.</param>
public sealed record CatalogPolicySection(string Provider, string? Connection, string? PasswordEnv, bool DualWrite)
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>The PostgreSQL catalog the section names, or null when it names none.</summary>
    public CatalogLocation? ConnectionLocation => Connection is { Length: > 0 } c ? CatalogLocation.Postgres(c, PasswordEnv) : null;
}

/// <summary>
/// Reads and replaces the top-level <c>catalog:</c> block of a policy file as text: every other line and comment stays
/// as it was, the block is written in block style with the keys the policy reader knows (provider, connection,
/// password_env, dual_write).
/// </summary>
public static class CatalogPolicyFile
{
    /// <summary>The section, or null when the policy has none. ErrorIds.PolicyInvalid when the YAML does not parse.</summary>
    public static CatalogPolicySection? Read(string yaml, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new TierStorageException(ErrorIds.PolicyInvalid, TierErrorKind.InvalidData,
                string.Create(CultureInfo.InvariantCulture, $"Invalid policy '{path}' line {ex.Start.Line}: {ex.Message}"), path, ex);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) return null;
        if (!root.Children.TryGetValue(new YamlScalarNode("catalog"), out var node)) return null;
        if (node is not YamlMappingNode catalog)
            throw new TierStorageException(ErrorIds.PolicyInvalid, TierErrorKind.InvalidData,
                string.Create(CultureInfo.InvariantCulture, $"Invalid policy '{path}' line {node.Start.Line}: catalog must be a mapping (provider, connection, password_env, dual_write)."), path);
        string? Scalar(string key) => catalog.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode s ? s.Value : null;
        return new CatalogPolicySection(
            Scalar("provider") ?? CatalogPolicySection.Sqlite,
            Scalar("connection"),
            Scalar("password_env"),
            string.Equals(Scalar("dual_write"), "true", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The policy text with its top-level catalog block replaced by <paramref name="section"/> (appended when it has none).</summary>
    public static string WithSection(string yaml, CatalogPolicySection section)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(section);
        var newline = yaml.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var lines = yaml.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        var block = Render(section);
        var start = lines.FindIndex(l => l.StartsWith("catalog:", StringComparison.Ordinal) || l.StartsWith("catalog :", StringComparison.Ordinal));
        if (start < 0)
        {
            if (lines.Count > 0 && lines[^1].Trim().Length > 0) lines.Add("");
            lines.AddRange(block);
        }
        else
        {
            // The block is its first line and every indented line after it; blank lines and comments between it and the
            // next top-level key stay where they are (they may introduce that key).
            var end = start + 1;
            var last = start;
            for (; end < lines.Count; end++)
            {
                var line = lines[end];
                if (line.Trim().Length == 0) continue;
                if (!char.IsWhiteSpace(line[0])) break;
                last = end;
            }
            lines.RemoveRange(start, last - start + 1);
            lines.InsertRange(start, block);
        }
        return string.Join(newline, lines) + newline;
    }

    private static List<string> Render(CatalogPolicySection section)
    {
        var block = new List<string> { "catalog:", "  provider: " + section.Provider };
        if (section.Connection is { Length: > 0 } connection) block.Add("  connection: " + Quote(connection));
        if (section.PasswordEnv is { Length: > 0 } variable) block.Add("  password_env: " + Quote(variable));
        if (section.DualWrite) block.Add("  dual_write: true");
        return block;
    }

    /// <summary>A YAML single-quoted scalar: nothing in it is special but the quote, which is doubled.</summary>
    private static string Quote(string value)
    {
        if (value.Contains('\n', StringComparison.Ordinal) || value.Contains('\r', StringComparison.Ordinal))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, "A catalog connection or variable name cannot span lines.");
        return new StringBuilder("'").Append(value.Replace("'", "''", StringComparison.Ordinal)).Append('\'').ToString();
    }
}
