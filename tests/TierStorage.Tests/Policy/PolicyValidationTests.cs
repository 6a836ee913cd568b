using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>One test per validation rule, each pinning the finding's code, line, column and key path.</summary>
public sealed class PolicyValidationTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Unknown_key_names_the_nearest_known_key()
    {
        var finding = Only(_files.Test(ValidTiers.Replace("capacity: 1GB", "capacty: 1GB")), PolicyFindingCodes.UnknownKey);

        AssertAt(finding, 11, 5, "tiers[1].capacty");
        Assert.Contains("did you mean 'capacity'", finding.Message);
        Assert.Equal(FindingSeverity.Error, finding.Severity);
    }

    [Fact]
    public void Unknown_root_key_is_reported()
    {
        AssertAt(Only(_files.Test(ValidTiers + "retension: {}\n"), PolicyFindingCodes.UnknownKey), 17, 1, "retension");
    }

    [Fact]
    public void Key_of_another_kind_says_which_kind_it_belongs_to()
    {
        var finding = Only(_files.Test(ValidTiers.Replace("path: backup", "bucket: backup")), PolicyFindingCodes.KeyNotForKind);

        AssertAt(finding, 10, 5, "tiers[1].bucket");
        Assert.Contains("s3", finding.Message);
    }

    [Fact]
    public void Text_where_a_number_is_expected_is_a_wrong_type()
    {
        var finding = Only(_files.Test(ValidTiers + "retention:\n  local_sessions: two\n"), PolicyFindingCodes.WrongType);

        AssertAt(finding, 18, 19, "retention.local_sessions");
    }

    [Fact]
    public void Quoted_number_is_a_wrong_type()
    {
        var finding = Only(_files.Test(ValidTiers + "backup:\n  compression_level: \"6\"\n"), PolicyFindingCodes.WrongType);

        AssertAt(finding, 18, 22, "backup.compression_level");
        Assert.Contains("remove the quotes", finding.Message);
    }

    [Fact]
    public void List_where_a_mapping_is_expected_is_a_wrong_type()
    {
        AssertAt(Only(_files.Test(ValidTiers + "backup: [1, 2]\n"), PolicyFindingCodes.WrongType), 17, 9, "backup");
    }

    [Fact]
    public void Bad_size_is_a_wrong_type()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("capacity: 1GB", "capacity: lots")), PolicyFindingCodes.WrongType), 11, 15, "tiers[1].capacity");
    }

    [Fact]
    public void Duplicate_key_is_reported_and_the_rest_still_checked()
    {
        var findings = _files.Test(ValidTiers.Replace("    level: 2\n", "    level: 2\n    level: 3\n") + "backup: { compression_level: 0 }\n");

        AssertAt(Only(findings, PolicyFindingCodes.DuplicateKey), 9, 5, "tiers[1].level");
        AssertAt(Only(findings, PolicyFindingCodes.OutOfRange), 18, 30, "backup.compression_level");
    }

    [Fact]
    public void Missing_version_is_reported_at_the_top()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("version: 1\n", "")), PolicyFindingCodes.MissingKey), 1, 1, "version");
    }

    [Fact]
    public void Unsupported_version_is_reported()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("version: 1", "version: 2")), PolicyFindingCodes.UnsupportedVersion), 1, 10, "version");
    }

    [Theory]
    [InlineData("name: local", "level: 1", "tiers[0].name")]
    [InlineData("level: 1", "name: local", "tiers[0].level")]
    [InlineData("kind: folder", "name: local", "tiers[0].kind")]
    public void Missing_tier_key_is_reported_at_the_tier(string removed, string firstLeft, string keyPath)
    {
        var firstTier = ValidTiers.IndexOf("  - name: backup", StringComparison.Ordinal);
        var yaml = ValidTiers[..firstTier].Replace($"  - {removed}\n    ", "  - ").Replace($"    {removed}\n", "") + ValidTiers[firstTier..];
        Assert.Contains($"  - {firstLeft}", yaml);

        AssertAt(Only(_files.Test(yaml), PolicyFindingCodes.MissingKey), 3, 5, keyPath);
    }

    [Fact]
    public void Folder_tier_above_level_1_needs_a_path()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("    path: backup\n", "")), PolicyFindingCodes.MissingKey), 7, 5, "tiers[1].path");
    }

    [Fact]
    public void Drive_tier_needs_a_root_folder()
    {
        var findings = _files.Test(ValidTiers.Replace("kind: folder\n    path: backup", "kind: google-drive\n    price_per_gb_month: 0"));

        AssertAt(Only(findings, PolicyFindingCodes.MissingKey), 7, 5, "tiers[1].root_folder");
    }

    [Fact]
    public void S3_tier_needs_bucket_and_region()
    {
        var findings = _files.Test(ValidTiers.Replace("kind: folder\n    path: archive", "kind: s3\n    price_per_gb_month: 0"));

        var missing = findings.Where(f => f.Code == PolicyFindingCodes.MissingKey).OrderBy(f => f.KeyPath).ToList();
        Assert.Equal(["tiers[2].bucket", "tiers[2].region"], missing.Select(f => f.KeyPath));
        Assert.All(missing, f => Assert.Equal((12, 5), (f.Line!.Value, f.Column!.Value)));
    }

    [Fact]
    public void Critical_below_warn_is_reported_at_critical()
    {
        var finding = Only(_files.Test(ValidTiers.Replace("capacity: 1GB", "capacity: 1GB\n    warn_percent: 85\n    critical_percent: 70")), PolicyFindingCodes.ThresholdOrder);

        AssertAt(finding, 13, 23, "tiers[1].critical_percent");
    }

    [Fact]
    public void Critical_below_the_default_warn_is_reported()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("capacity: 1GB", "capacity: 1GB\n    critical_percent: 50")), PolicyFindingCodes.ThresholdOrder),
            12, 23, "tiers[1].critical_percent");
    }

    [Fact]
    public void Percent_above_100_is_out_of_range()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("capacity: 1GB", "capacity: 1GB\n    warn_percent: 150\n    critical_percent: 160")).Where(f => f.KeyPath!.EndsWith("warn_percent")).ToList(), PolicyFindingCodes.OutOfRange),
            12, 19, "tiers[1].warn_percent");
    }

    [Fact]
    public void Negative_retention_is_out_of_range()
    {
        var findings = _files.Test(ValidTiers + "retention:\n  local_sessions: -1\n  backup_phases: 0\n  archive_days: -5\n");

        var outOfRange = findings.Where(f => f.Code == PolicyFindingCodes.OutOfRange).ToList();
        Assert.Equal(3, outOfRange.Count);
        AssertAt(outOfRange[0], 18, 19, "retention.local_sessions");
        AssertAt(outOfRange[1], 19, 18, "retention.backup_phases");
        AssertAt(outOfRange[2], 20, 17, "retention.archive_days");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("10")]
    public void Compression_level_outside_1_to_9_is_out_of_range(string level)
    {
        AssertAt(Only(_files.Test(ValidTiers + $"backup:\n  compression_level: {level}\n"), PolicyFindingCodes.OutOfRange), 18, 22, "backup.compression_level");
    }

    [Fact]
    public void Duplicate_tier_name_is_reported_on_the_second()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("name: archive", "name: Backup")), PolicyFindingCodes.DuplicateTier), 12, 11, "tiers[2].name");
    }

    [Fact]
    public void Duplicate_tier_level_is_reported_on_the_second()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("level: 3", "level: 2")), PolicyFindingCodes.DuplicateTier), 13, 12, "tiers[2].level");
    }

    [Fact]
    public void Missing_level_1_tier_is_reported()
    {
        var yaml = """
            version: 1
            tiers:
              - { name: backup, level: 2, kind: folder, path: b, capacity: 1GB }
            """;

        AssertAt(Only(_files.Test(yaml), PolicyFindingCodes.MissingLocalTier), 3, 3, "tiers");
    }

    [Fact]
    public void Level_1_must_be_a_folder()
    {
        var findings = _files.Test(ValidTiers.Replace("    kind: folder\n    capacity: 20MB", "    kind: google-drive\n    root_folder: x\n    capacity: 20MB\n    price_per_gb_month: 0"));

        AssertAt(Only(findings, PolicyFindingCodes.InvalidValue), 5, 11, "tiers[0].kind");
    }

    [Fact]
    public void Unknown_kind_suggests_a_known_one()
    {
        var finding = Only(_files.Test(ValidTiers.Replace("kind: folder\n    path: archive", "kind: s4\n    path: archive")), PolicyFindingCodes.UnknownKind);

        AssertAt(finding, 14, 11, "tiers[2].kind");
        Assert.Contains("did you mean 's3'", finding.Message);
    }

    [Fact]
    public void Lifecycle_delete_before_archive_is_reported()
    {
        var yaml = ValidTiers + """
            lifecycle:
              - data_class: activity_logs
                core_days: 7
                archive_after_days: 90
                delete_after_days: 30
            """;

        var finding = Only(_files.Test(yaml), PolicyFindingCodes.LifecycleOrder);

        AssertAt(finding, 21, 24, "lifecycle[0].delete_after_days");
        Assert.Contains("archive_after_days", finding.Message);
    }

    [Fact]
    public void Lifecycle_never_and_forever_mean_null_and_do_not_conflict()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + "lifecycle:\n  - { data_class: handoffs, core_days: forever, main_days: 10, delete_after_days: never }\n"));

        var rule = policy.Lifecycle.Single(r => r.DataClass == "handoffs");
        Assert.Equal(((int?)null, (int?)10, (int?)null), (rule.CoreDays, rule.MainDays, rule.DeleteAfterDays));
    }

    [Fact]
    public void Unknown_data_class_and_duplicate_rule_are_reported()
    {
        var yaml = ValidTiers + """
            lifecycle:
              - data_class: activity_log
              - data_class: insights
              - data_class: insights
            """;
        var findings = _files.Test(yaml);

        var unknown = Only(findings, PolicyFindingCodes.InvalidValue);
        AssertAt(unknown, 18, 17, "lifecycle[0].data_class");
        Assert.Contains("did you mean 'activity_logs'", unknown.Message);
        AssertAt(Only(findings, PolicyFindingCodes.DuplicateRule), 20, 17, "lifecycle[2].data_class");
    }

    [Fact]
    public void Negative_lifecycle_days_are_out_of_range()
    {
        AssertAt(Only(_files.Test(ValidTiers + "lifecycle:\n  - data_class: snapshots\n    core_days: -1\n"), PolicyFindingCodes.OutOfRange), 19, 16, "lifecycle[0].core_days");
    }

    [Fact]
    public void Invalid_redaction_regex_is_reported()
    {
        var yaml = ValidTiers + """
            redaction:
              patterns:
                - name: broken
                  pattern: '(unclosed'
            """;

        var finding = Only(_files.Test(yaml), PolicyFindingCodes.InvalidRegex);

        AssertAt(finding, 20, 16, "redaction.patterns[0].pattern");
    }

    [Fact]
    public void Redaction_pattern_the_linear_time_engine_cannot_run_is_reported()
    {
        var finding = Only(_files.Test(ValidTiers + "redaction:\n  patterns:\n    - { name: lookbehind, pattern: '(?<=key=)\\w+' }\n"), PolicyFindingCodes.InvalidRegex);

        AssertAt(finding, 19, 36, "redaction.patterns[0].pattern");
        Assert.Contains("NonBacktracking", finding.Message);
    }

    [Fact]
    public void Redaction_regex_that_matches_empty_text_is_reported()
    {
        AssertAt(Only(_files.Test(ValidTiers + "redaction:\n  patterns:\n    - { name: all, pattern: 'x*' }\n"), PolicyFindingCodes.InvalidRegex),
            19, 29, "redaction.patterns[0].pattern");
    }

    [Fact]
    public void Redaction_pattern_may_not_reuse_a_built_in_name()
    {
        AssertAt(Only(_files.Test(ValidTiers + "redaction:\n  patterns:\n    - { name: bearer_token, pattern: 'x+' }\n"), PolicyFindingCodes.DuplicatePattern),
            19, 15, "redaction.patterns[0].name");
    }

    [Fact]
    public void Secret_in_the_policy_is_refused_with_where_credentials_come_from()
    {
        var yaml = ValidTiers.Replace("kind: folder\n    path: archive", "kind: s3\n    bucket: b-archive\n    region: us-east-1\n    secret_access_key: abc\n    price_per_gb_month: 0");

        var finding = Only(_files.Test(yaml), PolicyFindingCodes.SecretInPolicy);

        AssertAt(finding, 17, 5, "tiers[2].secret_access_key");
        Assert.Contains("credential chain", finding.Message);
        Assert.DoesNotContain("abc", finding.Message);
    }

    [Theory]
    [InlineData("password")]
    [InlineData("access_key")]
    [InlineData("api-key")]
    [InlineData("client_secret")]
    public void Credential_keys_anywhere_are_refused(string key)
    {
        AssertAt(Only(_files.Test(ValidTiers + $"backup:\n  {key}: hunter2\n"), PolicyFindingCodes.SecretInPolicy), 18, 3, $"backup.{key}");
    }

    [Fact]
    public void Unset_environment_variable_in_a_path_is_reported()
    {
        AssertAt(Only(_files.Test(ValidTiers.Replace("path: backup", "path: ${TIERSTORAGE_TEST_SURELY_UNSET_42}/b")), PolicyFindingCodes.UnsetVariable),
            10, 11, "tiers[1].path");
    }

    [Fact]
    public void Invalid_s3_settings_are_reported()
    {
        var yaml = ValidTiers.Replace("kind: folder\n    path: archive",
            "kind: s3\n    bucket: Bad_Bucket\n    region: us-east-1\n    storage_class: DEEP_ARCHIV\n    endpoint: ftp://x\n    server_side_encryption: rot13\n    force_path_style: maybe\n    price_per_gb_month: 0");

        var findings = Errors(_files.Test(yaml));

        Assert.Equal(
            [("tiers[2].bucket", 15), ("tiers[2].storage_class", 17), ("tiers[2].endpoint", 18), ("tiers[2].server_side_encryption", 19), ("tiers[2].force_path_style", 20)],
            findings.Select(f => (f.KeyPath!, f.Line!.Value)));
        Assert.Contains("did you mean 'DEEP_ARCHIVE'", findings[1].Message);
    }

    [Fact]
    public void Model_prices_need_input_and_output_and_complete_long_context()
    {
        var yaml = ValidTiers + """
            pricing:
              currency: usd
              models:
                half: { output: 1 }
                long: { input: 1, output: 2, long_context_threshold: 1000 }
            """;

        var findings = Errors(_files.Test(yaml));

        Assert.Equal(
            [("pricing.currency", PolicyFindingCodes.InvalidValue), ("pricing.models.half.input", PolicyFindingCodes.MissingKey),
             ("pricing.models.long.long_context_input", PolicyFindingCodes.MissingKey), ("pricing.models.long.long_context_output", PolicyFindingCodes.MissingKey)],
            findings.Select(f => (f.KeyPath!, f.Code)));
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var yaml = """
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
                capacity: 20MB
                warn_percent: 95
                critical_percent: 90
            retention: { local_sessions: -2 }
            backup: { compression_level: 11, on_session_complete: sometimes }
            nonsense: true
            """;

        var findings = Errors(_files.Test(yaml));

        Assert.Equal(
            [PolicyFindingCodes.ThresholdOrder, PolicyFindingCodes.OutOfRange, PolicyFindingCodes.OutOfRange, PolicyFindingCodes.WrongType, PolicyFindingCodes.UnknownKey],
            findings.Select(f => f.Code));
        Assert.All(findings, f => Assert.EndsWith("tierstorage.yaml", f.File));
    }
}
