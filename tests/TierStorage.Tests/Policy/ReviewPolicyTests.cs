using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>The review section: latency targets per event type and the spending budget.</summary>
public sealed class ReviewPolicyTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Without_a_review_section_the_built_in_targets_apply_and_no_budget_is_set()
    {
        foreach (var policy in new[] { PolicyLoader.Load(null), PolicyLoader.Load(_files.Write("version: 1\n")) })
        {
            Assert.Equal(
                new Dictionary<string, long> { ["agent_invocation"] = 300_000, ["file_operation"] = 1_000, ["llm_call"] = 30_000, ["tool_call"] = 5_000 },
                policy.Review.LatencyTargetsMs.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary());
            Assert.Equal(((decimal?)null, (decimal?)null, (decimal?)null),
                (policy.Review.Budget.PhaseUsd, policy.Review.Budget.TaskUsd, policy.Review.Budget.DailyUsd));
        }
    }

    [Fact]
    public void Targets_merge_over_the_defaults_custom_event_types_included_and_budgets_are_read()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            review:
              latency_targets_ms:
                tool_call: 2500
                deploy_step: 60000
                file_operation:
              budget:
                phase_usd: 100
                task_usd: 2.50
                daily_usd: 0
            """));

        var targets = policy.Review.LatencyTargetsMs;
        Assert.Equal(2_500, targets["tool_call"]);
        Assert.Equal(60_000, targets["deploy_step"]);
        Assert.Equal(1_000, targets["file_operation"]);
        Assert.Equal(30_000, targets["llm_call"]);
        Assert.Equal(5, targets.Count);
        Assert.Equal((100m, 2.50m, 0m), (policy.Review.Budget.PhaseUsd!.Value, policy.Review.Budget.TaskUsd!.Value, policy.Review.Budget.DailyUsd!.Value));
        Assert.Null(PolicyLoader.Load(_files.Write(ValidTiers + "review:\n  budget: { task_usd: 1 }\n")).Review.Budget.PhaseUsd);
    }

    [Fact]
    public void Each_malformed_value_is_a_finding_at_its_line_and_key_and_the_load_fails()
    {
        var yaml = ValidTiers + """
            review:
              latency_targets_ms:
                tool_call: 0
                llm_call: fast
                agent_invocation: 2.5
                "bad type": 10
                my_step: 1500
              budget:
                phase_usd: -1
                task_usd: "2"
                daily_usd: lots
                monthly_usd: 5
            """;

        var findings = Errors(_files.Test(yaml));

        Assert.Equal(
            [
                (19, 16, "review.latency_targets_ms.tool_call", PolicyFindingCodes.OutOfRange),
                (20, 15, "review.latency_targets_ms.llm_call", PolicyFindingCodes.WrongType),
                (21, 23, "review.latency_targets_ms.agent_invocation", PolicyFindingCodes.WrongType),
                (22, 5, "review.latency_targets_ms.bad type", PolicyFindingCodes.InvalidValue),
                (25, 16, "review.budget.phase_usd", PolicyFindingCodes.OutOfRange),
                (26, 15, "review.budget.task_usd", PolicyFindingCodes.WrongType),
                (27, 16, "review.budget.daily_usd", PolicyFindingCodes.WrongType),
                (28, 5, "review.budget.monthly_usd", PolicyFindingCodes.UnknownKey),
            ],
            findings.Select(f => (f.Line!.Value, f.Column!.Value, f.KeyPath!, f.Code)));
        Assert.All(findings, f => Assert.EndsWith("tierstorage.yaml", f.File));
        Assert.Contains("must not be negative", findings[4].Message);
        Assert.Contains("remove the quotes", findings[5].Message);

        var path = _files.Write(yaml);
        var ex = Assert.Throws<TierStorageException>(() => PolicyLoader.Load(path));
        Assert.Equal(ErrorIds.PolicyInvalid, ex.ErrorId);
        Assert.Contains($"{path}:19:16: review.latency_targets_ms.tool_call:", ex.Message);
        Assert.Contains("8 errors", ex.Message);
    }

    [Fact]
    public void A_target_for_a_near_miss_of_a_built_in_event_type_is_a_warning_naming_it_and_a_custom_type_is_not()
    {
        var findings = _files.Test(ValidTiers + "review:\n  latency_targets_ms:\n    tool_cal: 2000\n    deploy_step: 60000\n");

        var warning = Assert.Single(findings, f => f.KeyPath == "review.latency_targets_ms.tool_cal");
        Assert.Equal((FindingSeverity.Warning, PolicyFindingCodes.UnknownKey), (warning.Severity, warning.Code));
        Assert.Contains("did you mean 'tool_call'", warning.Message);
        Assert.DoesNotContain(findings, f => f.KeyPath == "review.latency_targets_ms.deploy_step");
        Assert.Equal(2_000, PolicyLoader.Load(_files.Write(ValidTiers + "review:\n  latency_targets_ms:\n    tool_cal: 2000\n")).Review.LatencyTargetsMs["tool_cal"]);
    }

    [Fact]
    public void Unknown_key_in_the_review_section_names_the_nearest_one()
    {
        var finding = Only(_files.Test(ValidTiers + "review:\n  latency_target_ms: {}\n"), PolicyFindingCodes.UnknownKey);

        AssertAt(finding, 18, 3, "review.latency_target_ms");
        Assert.Contains("did you mean 'latency_targets_ms'", finding.Message);
    }

    [Fact]
    public void The_example_in_the_policy_reference_loads_with_its_review_section()
    {
        var reference = File.ReadAllText(FindExample("POLICY.md"));
        var start = reference.IndexOf("```yaml\n", reference.IndexOf("### Example", StringComparison.Ordinal), StringComparison.Ordinal) + "```yaml\n".Length;
        var yaml = reference[start..reference.IndexOf("```", start, StringComparison.Ordinal)];

        Assert.Empty(Errors(_files.Test(yaml)));
        var review = PolicyLoader.Load(_files.Write(yaml)).Review;
        Assert.Equal((3_000L, 60_000L, 30_000L), (review.LatencyTargetsMs["tool_call"], review.LatencyTargetsMs["deploy_step"], review.LatencyTargetsMs["llm_call"]));
        Assert.Equal((100m, (decimal?)null, 25m), (review.Budget.PhaseUsd!.Value, review.Budget.TaskUsd, review.Budget.DailyUsd!.Value));
    }

    [Theory]
    [InlineData("review: 5\n", 17, 9, "review")]
    [InlineData("review: { latency_targets_ms: [1000] }\n", 17, 31, "review.latency_targets_ms")]
    [InlineData("review: { latency_targets_ms: { [a]: 1 } }\n", 17, 33, "review.latency_targets_ms")]
    [InlineData("review: { budget: 25 }\n", 17, 19, "review.budget")]
    public void Wrong_shapes_are_wrong_types(string section, int line, int column, string keyPath)
    {
        AssertAt(Only(_files.Test(ValidTiers + section), PolicyFindingCodes.WrongType), line, column, keyPath);
    }
}
