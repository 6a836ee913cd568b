using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Review;
using Xunit;

namespace TierStorage.Tests.Review;

/// <summary>
/// Latency targets and budgets come from the policy's review section. Figures of phase 1 of <see cref="ReviewFixture"/>,
/// worked out in PhaseReviewerTests: tool_call p95 8,000 ms; total cost $0.9931 (mystery-model unpriced) over 4 tasks, so
/// $0.248275 per task; per day (UTC) 2026-11-22 $0.9711 and 2026-11-23 $0.022.
/// </summary>
public sealed class ReviewPolicyTargetsAndBudgetTests : IDisposable
{
    private readonly ReviewFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private async Task<PhaseReview> ReviewAsync(string reviewSection, int phase = 1, Action? afterBuild = null)
    {
        var policy = PolicyLoader.Parse("version: 1\n" + reviewSection, "inline.yaml");
        await using var db = await _fixture.BuildAsync();
        afterBuild?.Invoke();
        return await PhaseReviewer.ReviewAsync(db, policy, phase, CancellationToken.None);
    }

    [Theory]
    [InlineData(8000, true)]
    [InlineData(7999, false)]
    public async Task A_policy_target_at_or_above_the_p95_is_met_and_one_below_is_not(long target, bool met)
    {
        var review = await ReviewAsync($"review:\n  latency_targets_ms:\n    tool_call: {target}\n");

        var tool = review.Latency.Single(l => l.Operation == "tool_call");
        Assert.Equal((8000L, (long?)target, (bool?)met), (tool.P95Ms, tool.TargetMs, tool.Met));
        Assert.Equal(!met, review.Recommendations.Any(r => r.Contains($"tool_call p95 is 8,000 ms, above its {target:#,0} ms target", StringComparison.Ordinal)));
        // The other defaults still apply: llm_call p95 40,000 ms misses its 30,000 ms target.
        Assert.Equal((30_000L, (bool?)false), (review.Latency.Single(l => l.Operation == "llm_call").TargetMs!.Value, review.Latency.Single(l => l.Operation == "llm_call").Met));
    }

    [Theory]
    [InlineData(1200, true)]
    [InlineData(1199, false)]
    public async Task A_custom_event_type_gets_its_target_from_the_policy(long target, bool met)
    {
        void AddDeploySteps()
        {
            using var raw = _fixture.Raw();
            foreach (var (offset, ms) in new[] { (600, 200), (601, 1200), (602, 700) })
            {
                using var insert = raw.CreateCommand();
                insert.CommandText = "INSERT INTO events(session_id, ts, type, duration_ms) VALUES ('s1', $ts, 'deploy_step', $ms)";
                insert.Parameters.AddWithValue("$ts", ReviewFixture.T0.AddSeconds(offset).ToUnixTimeMilliseconds());
                insert.Parameters.AddWithValue("$ms", ms);
                insert.ExecuteNonQuery();
            }
        }

        var review = await ReviewAsync($"review:\n  latency_targets_ms:\n    deploy_step: {target}\n", afterBuild: AddDeploySteps);

        // 200, 700, 1200: p95 is the 3rd (ceil(0.95 * 3) = 3).
        var deploy = review.Latency.Single(l => l.Operation == "deploy_step");
        Assert.Equal((3L, 1200L, (long?)target, (bool?)met), (deploy.EventCount, deploy.P95Ms, deploy.TargetMs, deploy.Met));
        Assert.Equal(5_000, review.Latency.Single(l => l.Operation == "tool_call").TargetMs);
    }

    [Fact]
    public async Task Without_targets_in_the_policy_object_the_built_in_ones_apply()
    {
        await using var db = await _fixture.BuildAsync();
        var review = await PhaseReviewer.ReviewAsync(db, ReviewFixture.Policy(), 1, CancellationToken.None);

        Assert.Equal([("agent_invocation", 300_000L), ("llm_call", 30_000L), ("tool_call", 5_000L)],
            review.Latency.Select(l => (l.Operation, l.TargetMs!.Value)));
        Assert.Empty(review.Budget);
        Assert.DoesNotContain("budget", review.ExecutiveSummary, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Budget_rows_flag_the_phase_and_each_day_over_their_limits()
    {
        var review = await ReviewAsync("review:\n  budget: { phase_usd: 0.99, task_usd: 0.25, daily_usd: 0.5 }\n");

        // phase 0.9931 > 0.99; task 0.248275 <= 0.25; 2026-11-22 0.9711 > 0.5, 2026-11-23 0.022 is within (no row).
        Assert.Equal(
            [
                ("phase", 0.99m, (decimal?)0.9931m, (bool?)false),
                ("task", 0.25m, 0.248275m, true),
                ("day 2026-11-22", 0.5m, 0.9711m, false),
            ],
            review.Budget.Select(b => (b.Budget, b.LimitUsd, b.ActualUsd, b.Within)));
        Assert.Contains("Phase spend is $0.9931, above the $0.99 phase budget", Single(review.Recommendations, "phase budget"), StringComparison.Ordinal);
        Assert.Contains("Spend on 2026-11-22 was $0.9711, above the $0.50 daily budget", Single(review.Recommendations, "daily budget"), StringComparison.Ordinal);
        Assert.DoesNotContain(review.Recommendations, r => r.Contains("task budget", StringComparison.Ordinal));
        Assert.Contains("Over budget: phase $0.9931 of $0.99, day 2026-11-22 $0.9711 of $0.50.", review.ExecutiveSummary, StringComparison.Ordinal);

        var md = PhaseReportWriter.RenderMarkdown(review);
        var section = md[md.IndexOf("## Budget Adherence\n", StringComparison.Ordinal)..md.IndexOf("## Agent Performance\n", StringComparison.Ordinal)];
        Assert.Contains("| Budget | Limit | Actual | Status |", section, StringComparison.Ordinal);
        Assert.Contains("| phase | $0.99 | $0.9931 | ⚠️ |", section, StringComparison.Ordinal);
        Assert.Contains("| task | $0.25 | $0.2483 | ✅ |", section, StringComparison.Ordinal);
        Assert.Contains("| day 2026-11-22 | $0.50 | $0.9711 | ⚠️ |", section, StringComparison.Ordinal);
        Assert.Contains("Models without a price are not counted", section, StringComparison.Ordinal);
        Assert.Contains("<td>phase</td><td>$0.99</td><td>$0.9931</td><td>⚠️</td>", PhaseReportWriter.RenderHtml(review), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Task_budget_over_and_no_day_over_gives_the_highest_day_as_within()
    {
        var review = await ReviewAsync("review:\n  budget: { phase_usd: 1, task_usd: 0.248, daily_usd: 1 }\n");

        Assert.Equal(
            [
                ("phase", 1m, (decimal?)0.9931m, (bool?)true),
                ("task", 0.248m, 0.248275m, false),
                ("day 2026-11-22 (highest)", 1m, 0.9711m, true),
            ],
            review.Budget.Select(b => (b.Budget, b.LimitUsd, b.ActualUsd, b.Within)));
        Assert.Contains("Cost per task is $0.2483 over 4 tasks, above the $0.248 task budget", Single(review.Recommendations, "budget"), StringComparison.Ordinal);
        Assert.Contains("Over budget: task $0.2483 of $0.248.", review.ExecutiveSummary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_day_over_the_daily_budget_gets_a_row_and_within_budget_is_said_in_the_summary()
    {
        await using var db = await _fixture.BuildAsync();
        Task<PhaseReview> Review(string section) =>
            PhaseReviewer.ReviewAsync(db, PolicyLoader.Parse("version: 1\n" + section, "inline.yaml"), 1, CancellationToken.None);

        var over = await Review("review:\n  budget: { daily_usd: 0.02 }\n");
        Assert.Equal([("day 2026-11-22", (decimal?)0.9711m), ("day 2026-11-23", 0.022m)], over.Budget.Select(b => (b.Budget, b.ActualUsd)));
        Assert.Equal(2, over.Recommendations.Count(r => r.Contains("daily budget", StringComparison.Ordinal)));

        var within = await Review("review:\n  budget: { phase_usd: 100 }\n");
        Assert.Contains("Within budget: phase $0.9931 of $100.00.", within.ExecutiveSummary, StringComparison.Ordinal);
        Assert.Contains("| phase | $100.00 | $0.9931 | ✅ |", PhaseReportWriter.RenderMarkdown(within), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_phase_without_tasks_or_spending_days_has_budget_rows_without_a_verdict()
    {
        var review = await ReviewAsync("review:\n  budget: { phase_usd: 5, task_usd: 1, daily_usd: 1 }\n", phase: 3);

        Assert.Equal(
            [("phase", (decimal?)0m, (bool?)true), ("task", null, null), ("day", null, null)],
            review.Budget.Select(b => (b.Budget, b.ActualUsd, b.Within)));
        var md = PhaseReportWriter.RenderMarkdown(review);
        Assert.Contains("| task | $1.00 | n/a | — |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_budget_the_report_says_so()
    {
        var md = PhaseReportWriter.RenderMarkdown(new PhaseReview { Phase = 4 });

        Assert.Contains("## Budget Adherence\n\nNo budget is set (review.budget in the policy).\n\n## Agent Performance", md, StringComparison.Ordinal);
    }

    private static string Single(IEnumerable<string> lines, string containing) =>
        Assert.Single(lines, l => l.Contains(containing, StringComparison.Ordinal));
}
