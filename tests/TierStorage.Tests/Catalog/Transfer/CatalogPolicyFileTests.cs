using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Catalog.Transfer;
using CatalogLocation = TierStorage.Engine.Catalog.CatalogLocation;
using Xunit;

namespace TierStorage.Tests.Catalog.Transfer;

/// <summary>The policy edits of Copy-TierCatalog -DualWrite and -Cutover: only the top-level catalog block changes.</summary>
public sealed class CatalogPolicyFileTests : IDisposable
{
    private const string Connection = "Host=db.example;Port=5432;Database=ts;Username=me";
    private readonly TransferCatalogs _catalogs = new();

    public void Dispose() => _catalogs.Dispose();

    private const string Policy = """
        # my policy
        version: 1
        tiers:
          - name: local   # the disk
            level: 1
            kind: local

        # the catalog, set by hand
        catalog:
          provider: sqlite
          # a comment inside
          connection: 'Host=old;Database=x'

        # retention comes next
        retention:
          local_sessions: 2
        """;

    [Fact]
    public void Replacing_the_catalog_block_keeps_every_other_line_and_comment()
    {
        var edited = CatalogPolicyFile.WithSection(Policy, new CatalogPolicySection("postgres", Connection + ";Options='-c x=1'", "TS_PG", false));
        var expected = Policy.Replace("""
            catalog:
              provider: sqlite
              # a comment inside
              connection: 'Host=old;Database=x'
            """, $"""
            catalog:
              provider: postgres
              connection: '{Connection};Options=''-c x=1'''
              password_env: 'TS_PG'
            """, StringComparison.Ordinal) + "\n";
        Assert.Equal(expected, edited);
        var read = CatalogPolicyFile.Read(edited, "p.yaml");
        Assert.Equal(new CatalogPolicySection("postgres", Connection + ";Options='-c x=1'", "TS_PG", false), read);
    }

    [Fact]
    public void A_policy_without_a_catalog_block_gets_one_at_the_end()
    {
        const string policy = "version: 1\r\ntiers: []\r\n";
        var edited = CatalogPolicyFile.WithSection(policy, new CatalogPolicySection("sqlite", Connection, null, true));
        Assert.Equal($"version: 1\r\ntiers: []\r\n\r\ncatalog:\r\n  provider: sqlite\r\n  connection: '{Connection}'\r\n  dual_write: true\r\n", edited);
        Assert.True(CatalogPolicyFile.Read(edited, "p.yaml")!.DualWrite);
    }

    [Fact]
    public async Task Cutover_refuses_when_a_table_differs_and_changes_nothing_then_edits_only_the_catalog_block()
    {
        var workspace = Path.Combine(_catalogs.Directory, "ws");
        await TransferCatalogs.FillAsync(CatalogLocation.Sqlite(Path.Combine(workspace, "analytics", "agent_metrics.db")), "a", 1, 3);
        var policyPath = Path.Combine(workspace, "tierstorage.yaml");
        await File.WriteAllTextAsync(policyPath, Policy.Replace("Host=old;Database=x", Connection, StringComparison.Ordinal));
        var before = await File.ReadAllTextAsync(policyPath);
        var migration = new CatalogMigration(workspace, policyPath);
        CatalogTableComparison Table(string name, bool match) => new() { Table = name, SourceRows = 1, TargetRows = match ? 1 : 0, Match = match,
            Differences = match ? [] : [new CatalogDifference { Table = name, Key = "session_id=s1", Kind = CatalogDifferenceKind.Missing }] };

        var refused = Assert.Throws<TierStorageException>(() => migration.PlanCutover([Table("phases", true), Table("sessions", false)]));
        Assert.Equal(ErrorIds.CatalogMismatch, refused.ErrorId);
        Assert.Contains("sessions (1 rows here, 0 there: Missing session_id=s1)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(policyPath));

        var edit = migration.PlanCutover([Table("phases", true), Table("sessions", true)]);
        await migration.ApplyAsync(edit, CancellationToken.None);
        var after = await File.ReadAllTextAsync(policyPath);
        // A file that did not end in a newline gets one.
        Assert.Equal(before.Replace("  provider: sqlite\n  # a comment inside\n", "  provider: postgres\n", StringComparison.Ordinal) + "\n", after);
    }

    [Fact]
    public async Task Dual_write_refuses_a_password_and_another_connection_without_force()
    {
        var workspace = Path.Combine(_catalogs.Directory, "ws");
        await TransferCatalogs.FillAsync(CatalogLocation.Sqlite(Path.Combine(workspace, "analytics", "agent_metrics.db")), "a", 1, 1);
        var policyPath = Path.Combine(workspace, "tierstorage.yaml");
        await File.WriteAllTextAsync(policyPath, Policy);
        var migration = new CatalogMigration(workspace, policyPath);
        var other = Assert.Throws<TierStorageException>(() => migration.PlanDualWrite(CatalogLocation.Postgres(Connection), force: false));
        Assert.Equal(ErrorIds.InvalidArgument, other.ErrorId);
        Assert.Contains("Force", other.Message, StringComparison.Ordinal);
        var edit = migration.PlanDualWrite(CatalogLocation.Postgres(Connection, "TS_PG"), force: true);
        Assert.Equal(new CatalogPolicySection("sqlite", Connection, "TS_PG", true), CatalogPolicyFile.Read(edit.After, policyPath));
        var secret = Assert.Throws<TierStorageException>(() => CatalogLocation.Parse(Connection + ";Password=s3cr3t-value"));
        Assert.DoesNotContain("s3cr3t-value", secret.Message, StringComparison.Ordinal);
        Assert.Equal(Policy, await File.ReadAllTextAsync(policyPath));
    }
}
