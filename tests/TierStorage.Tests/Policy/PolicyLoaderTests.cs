using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

public sealed class PolicyLoaderTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Embedded_default_loads_without_findings()
    {
        var policy = PolicyLoader.Load(null);

        Assert.Equal(PolicyLoader.EmbeddedSource, policy.Source);
        Assert.Empty(PolicyLoader.Test(null));
        Assert.Contains("TIERSTORAGE_DATA", PolicyLoader.EmbeddedDefaultYaml);
        Assert.Equal(["local", "backup", "archive"], policy.Tiers.Select(t => t.Name));
        Assert.All(policy.Tiers, t => Assert.Equal(TierKind.Folder, t.Kind));
        Assert.Null(policy.GetTier(TierLevel.Local)!.Path);
        Assert.Equal(2_000_000_000, policy.GetTier(TierLevel.Local)!.CapacityBytes);
    }

    [Fact]
    public void Example_file_loads_with_no_errors_or_warnings()
    {
        var example = FindExample();

        Assert.Empty(PolicyLoader.Test(example));
        var policy = PolicyLoader.Load(example);

        Assert.Equal(Path.GetFullPath(example), policy.Source);
        var drive = policy.GetTier(TierLevel.Backup)!;
        Assert.Equal((TierKind.GoogleDrive, "TierStorage", 15_000_000_000L), (drive.Kind, drive.RootFolder, drive.CapacityBytes!.Value));
        var archive = policy.GetTier(TierLevel.Archive)!;
        Assert.Equal((TierKind.S3, "DEEP_ARCHIVE", "us-east-1", "AES256"), (archive.Kind, archive.StorageClass, archive.Region, archive.ServerSideEncryption));
        Assert.Equal(0.00099m, archive.PricePerGbMonth);
        Assert.Equal(["acme_deploy_key", "jira_token"], policy.Redaction.Patterns.Select(p => p.Name));
        Assert.Equal(200_000, policy.Pricing.Models["claude-sonnet-4-5"].LongContextThreshold);
        Assert.Null(policy.Lifecycle.Single(r => r.DataClass == "analytics").CoreDays);
        Assert.Equal(5_000, policy.Review.LatencyTargetsMs["tool_call"]);
        Assert.Equal((100m, 2.50m, 25m), (policy.Review.Budget.PhaseUsd!.Value, policy.Review.Budget.TaskUsd!.Value, policy.Review.Budget.DailyUsd!.Value));
    }

    [Fact]
    public void Defaults_fill_everything_left_out()
    {
        var policy = PolicyLoader.Load(_files.Write("version: 1\n"));

        Assert.Equal(["local", "backup", "archive"], policy.Tiers.Select(t => t.Name));
        Assert.Equal((2, 2, (int?)null), (policy.Retention.LocalSessions, policy.Retention.BackupPhases, policy.Retention.ArchiveDays));
        Assert.Equal((true, 6), (policy.Backup.OnSessionComplete, policy.Backup.CompressionLevel));
        Assert.True(policy.Redaction.UseDefaults);
        Assert.Equal(["activity_logs", "snapshots", "handoffs", "analytics", "insights"], policy.Lifecycle.Select(r => r.DataClass));
        Assert.Equal("USD", policy.Pricing.Currency);
        var opus = policy.Pricing.Models["claude-opus-4-5"];
        Assert.Equal((5m, 25m, 6.25m, 10m, 0.5m), (opus.Input, opus.Output, opus.CacheWrite5m, opus.CacheWrite1h, opus.CacheRead));
        Assert.Equal((3m, 15m, 6m, 22.5m), (policy.Pricing.Models["claude-sonnet-4-5"].Input, policy.Pricing.Models["claude-sonnet-4-5"].Output,
            policy.Pricing.Models["claude-sonnet-4-5"].LongContextInput!.Value, policy.Pricing.Models["claude-sonnet-4-5"].LongContextOutput!.Value));
        Assert.Equal(1m, policy.Pricing.Models["claude-haiku-4-5"].Input);
    }

    [Fact]
    public void Tier_defaults_and_partial_sections_are_filled()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            lifecycle:
              - data_class: snapshots
                core_days: 1
            pricing:
              models:
                my-model: { input: 2, output: 8 }
            """));

        var backup = policy.GetTier("backup")!;
        Assert.Equal((80d, 90d), (backup.WarnPercent, backup.CriticalPercent));
        Assert.Equal(Path.Combine(_files.Directory, "backup"), backup.Path);
        Assert.Null(policy.GetTier("archive")!.CapacityBytes);
        var snapshots = policy.Lifecycle.Single(r => r.DataClass == "snapshots");
        Assert.Equal((1, (int?)null), (snapshots.CoreDays, snapshots.DeleteAfterDays));
        Assert.Equal(7, policy.Lifecycle.Single(r => r.DataClass == "activity_logs").CoreDays);
        var mine = policy.Pricing.Models["my-model"];
        Assert.Equal((2.5m, 4m, 0.2m), (mine.CacheWrite5m, mine.CacheWrite1h, mine.CacheRead));
        Assert.True(policy.Pricing.Models.ContainsKey("claude-opus-4-5"));
    }

    [Fact]
    public void S3_tier_defaults_to_deep_archive()
    {
        var policy = PolicyLoader.Load(_files.Write("""
            version: 1
            tiers:
              - { name: local, level: 1, kind: folder, capacity: 20MB }
              - { name: cold, level: 3, kind: s3, bucket: my-bucket, region: eu-west-1, capacity: unlimited, price_per_gb_month: 0.00099 }
            """));

        Assert.Equal("DEEP_ARCHIVE", policy.GetTier("cold")!.StorageClass);
    }

    [Fact]
    public void Sizes_accept_bytes_and_decimal_and_binary_units()
    {
        var policy = PolicyLoader.Load(_files.Write("""
            version: 1
            tiers:
              - { name: a, level: 1, kind: folder, capacity: 1048576 }
              - { name: b, level: 2, kind: folder, path: b, capacity: 1.5GiB }
              - { name: c, level: 3, kind: folder, path: c, capacity: 15 GB }
            """));

        Assert.Equal([1_048_576L, 1_610_612_736L, 15_000_000_000L], policy.Tiers.Select(t => t.CapacityBytes!.Value));
    }

    [Fact]
    public void Load_throws_PolicyInvalid_with_every_finding()
    {
        var path = _files.Write(ValidTiers.Replace("level: 2", "level: two") + "backup: { compression_level: 12 }\n");

        var ex = Assert.Throws<TierStorageException>(() => PolicyLoader.Load(path));

        Assert.Equal(ErrorIds.PolicyInvalid, ex.ErrorId);
        Assert.Equal(TierErrorKind.InvalidData, ex.Kind);
        Assert.Equal(2, Errors(ex.Findings).Count);
        Assert.Contains($"{path}:8:12: tiers[1].level:", ex.Message);
        Assert.Contains("2 errors", ex.Message);
    }

    [Fact]
    public void Parse_reports_findings_under_the_source_name()
    {
        var ex = Assert.Throws<TierStorageException>(() => PolicyLoader.Parse("version: 3\n", "inline.yaml"));

        Assert.Equal("inline.yaml", Only(ex.Findings, PolicyFindingCodes.UnsupportedVersion).File);
        Assert.Equal("mem", PolicyLoader.Parse("version: 1\n", "mem").Source);
    }

    [Fact]
    public void Load_of_a_missing_file_throws_PolicyNotFound()
    {
        var ex = Assert.Throws<TierStorageException>(() => PolicyLoader.Load(Path.Combine(_files.Directory, "absent.yaml")));

        Assert.Equal(ErrorIds.PolicyNotFound, ex.ErrorId);
        Assert.Equal(TierErrorKind.ObjectNotFound, ex.Kind);
    }

    [Fact]
    public void Test_of_a_missing_file_is_a_finding_not_an_exception()
    {
        var finding = Assert.Single(PolicyLoader.Test(Path.Combine(_files.Directory, "absent.yaml")));

        Assert.Equal(PolicyFindingCodes.FileNotFound, finding.Code);
        Assert.Equal(FindingSeverity.Error, finding.Severity);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\0bad")]
    public void Test_never_throws_on_odd_paths(string path)
    {
        Assert.NotEmpty(PolicyLoader.Test(path));
    }

    [Fact]
    public void Warnings_do_not_stop_Load()
    {
        var path = _files.Write("""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
              - name: drive
                level: 2
                kind: google-drive
                root_folder: TierStorage
            """);

        var findings = PolicyLoader.Test(path);

        AssertAt(Only(findings, PolicyFindingCodes.NoPrice), 6, 5, "tiers[1].price_per_gb_month");
        Assert.Equal(2, findings.Count(f => f.Code == PolicyFindingCodes.NoCapacity));
        Assert.Single(findings, f => f.Code == PolicyFindingCodes.MissingTier);
        Assert.All(findings, f => Assert.Equal(FindingSeverity.Warning, f.Severity));
        Assert.Equal(2, PolicyLoader.Load(path).Tiers.Count);
    }
}
