using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>collections: (issue 13) read into the policy, and every malformed entry a finding at its key.</summary>
public sealed class CollectionPolicyTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_collection_is_read_with_its_defaults_filled_in()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            collections:
              - name: agents
                path: ~/agents
                include: ["**/*.md", "*.json"]
                exclude: [drafts]
                priority: high
                schedule: "30 2 * * *"
                tier: archive
                keep: { last: 7, daily: 14, weekly: 8, monthly: 12, yearly: 3 }
                archive_after_days: 90
                delete_after_days: 2555
              - name: logs
                path: logs
            """));

        var agents = policy.GetCollection("agents")!;
        Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "agents"), agents.Path);
        Assert.Equal(["**/*.md", "*.json"], agents.Include);
        Assert.Equal(["drafts"], agents.Exclude);
        Assert.Equal((CollectionPriority.High, "30 2 * * *", "archive"), (agents.Priority, agents.Schedule, agents.Tier));
        Assert.Equal((7, 14, 8, 12, 3), (agents.Keep.Last!.Value, agents.Keep.Daily!.Value, agents.Keep.Weekly!.Value, agents.Keep.Monthly!.Value, agents.Keep.Yearly!.Value));
        Assert.Equal((90, 2555), (agents.ArchiveAfterDays!.Value, agents.DeleteAfterDays!.Value));
        var logs = policy.GetCollection("LOGS")!;
        Assert.Equal((CollectionPriority.Medium, "daily", (string?)null, true), (logs.Priority, logs.Schedule, logs.Tier, logs.DefaultExcludes));
        Assert.True(logs.Keep.KeepsEverything);
        Assert.Equal(Path.Combine(_files.Directory, "logs"), logs.Path);
    }

    [Fact]
    public void Each_malformed_entry_is_a_finding_at_its_key()
    {
        var findings = _files.Test(ValidTiers + """
            collections:
              - name: ok
                path: a
                include: ["../up", "a\\b"]
                priority: urgent
                schedule: hourly
                tier: local
                keep: { last: 0 }
              - name: ok
                path: b
                tier: nowhere
              - name: "bad name!"
                path: c
                delete_after_days: 10
                archive_after_days: 20
              - path: d
                colour: blue
            """);

        var errors = findings.Where(f => f.Severity == FindingSeverity.Error).Select(f => f.KeyPath).ToList();
        Assert.Contains("collections[0].include[0]", errors);
        Assert.Contains("collections[0].include[1]", errors);
        Assert.Contains("collections[0].priority", errors);
        Assert.Contains("collections[0].schedule", errors);
        Assert.Contains("collections[0].tier", errors);
        Assert.Contains("collections[0].keep", errors);
        Assert.Contains("collections[1].name", errors);
        Assert.Contains("collections[1].tier", errors);
        Assert.Contains("collections[2].name", errors);
        Assert.Contains("collections[2].delete_after_days", errors);
        Assert.Contains("collections[3].name", errors);
        Assert.Contains("collections[3].colour", errors);
        Assert.All(findings, f => Assert.True(f.Line > 0, f.Message));
    }

    [Fact]
    public void Clean_up_rules_are_read_with_require_backup_on_by_default_and_each_malformed_rule_is_a_finding()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            collections:
              - name: logs
                path: logs
                cleanup:
                  - { include: ['*.log'], older_than_days: 30 }
                  - include: ['cache/**']
                    exclude: ['cache/keep/**']
                    older_than_days: 7
                    require_backup: false
            """));
        var rules = policy.GetCollection("logs")!.Cleanup;
        Assert.Equal(["*.log"], rules[0].Include);
        Assert.Equal((30, true), (rules[0].OlderThanDays, rules[0].RequireBackup));
        Assert.Equal(["cache/keep/**"], rules[1].Exclude);
        Assert.Equal((7, false), (rules[1].OlderThanDays, rules[1].RequireBackup));
        Assert.Equal("cache/** except cache/keep/** older than 7 days, backup not required", rules[1].ToString());

        var findings = _files.Test(ValidTiers + """
            collections:
              - name: logs
                path: logs
                cleanup:
                  - { older_than_days: 30 }
                  - { include: [], older_than_days: 30 }
                  - { include: ['*.log'] }
                  - { include: ['*.log'], older_than_days: 0 }
                  - { include: ['*.log'], older_than_days: never }
                  - { include: ['../*.log'], older_than_days: 3, require_backup: maybe, age: 3 }
            """);
        var errors = findings.Where(f => f.Severity == FindingSeverity.Error).Select(f => f.KeyPath).ToList();
        Assert.Contains("collections[0].cleanup[0].include", errors);
        Assert.Contains("collections[0].cleanup[1].include", errors);
        Assert.Contains("collections[0].cleanup[2].older_than_days", errors);
        Assert.Contains("collections[0].cleanup[3].older_than_days", errors);
        Assert.Contains("collections[0].cleanup[4].older_than_days", errors);
        Assert.Contains("collections[0].cleanup[5].include[0]", errors);
        Assert.Contains("collections[0].cleanup[5].require_backup", errors);
        Assert.Contains("collections[0].cleanup[5].age", errors);
        Assert.All(findings, f => Assert.True(f.Line > 0, f.Message));
    }

    [Fact]
    public void Archive_after_days_of_zero_is_read_and_without_an_archive_tier_is_a_warning_at_its_key()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            collections:
              - name: notes
                path: notes
                archive_after_days: 0
            """));
        Assert.Equal(0, policy.GetCollection("notes")!.ArchiveAfterDays);

        var findings = _files.Test("""
            version: 1
            tiers:
              - { name: local, level: 1, kind: folder }
              - { name: backup, level: 2, kind: folder, path: backup }
            collections:
              - name: notes
                path: notes
                archive_after_days: 30
            """);

        var finding = Assert.Single(findings, f => f.KeyPath?.StartsWith("collections", StringComparison.Ordinal) == true);
        Assert.Equal((FindingSeverity.Warning, "collections[0].archive_after_days", 8), (finding.Severity, finding.KeyPath, finding.Line));
        Assert.Contains("no archive tier", finding.Message, StringComparison.Ordinal);
    }
}
