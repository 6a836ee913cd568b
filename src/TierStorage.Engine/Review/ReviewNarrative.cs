using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Review;

/// <summary>Writes the executive summary and the recommendations from the figures; each recommendation quotes the
/// figure and the threshold that triggered it.</summary>
internal static class ReviewNarrative
{
    public const double ToolSuccessFloor = 0.90;
    public const double AgentSuccessFloor = 0.80;
    public const double FixRateFloor = 0.50;
    public const double CacheReadFloor = 0.30;
    public const int MinimumSample = 5;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Percent(double? rate) => rate is { } r ? (r * 100).ToString("0.#", Invariant) + "%" : "n/a";
    public static string Ms(double ms) => ms.ToString("#,0", Invariant) + " ms";
    public static string Usd(decimal usd) => "$" + usd.ToString("#,0.00##", Invariant);

    public static IReadOnlyList<string> Recommend(PhaseReview review)
    {
        var list = new List<string>();
        if (review.EventCount == 0)
        {
            list.Add($"No events were recorded for phase {review.Phase} (sessions: {review.Sessions}); check that sessions are tracked before the next review.");
            return list;
        }
        foreach (var row in review.Latency.Where(r => r.Met == false))
            list.Add($"{row.Operation} p95 is {Ms(row.P95Ms)}, above its {Ms(row.TargetMs!.Value)} target: look at the bottleneck table for the slowest {row.Operation} operations.");
        foreach (var row in review.Budget.Where(b => b.Within == false)) list.Add(OverBudget(review, row));
        foreach (var tool in review.Tools.Where(t => t.Calls >= MinimumSample && t.SuccessRate < ToolSuccessFloor))
            list.Add($"Tool {tool.Tool} succeeds in {Percent(tool.SuccessRate)} of {tool.Calls} calls (below {Percent(ToolSuccessFloor)}): review how it is invoked.");
        foreach (var agent in review.Agents.Where(a => a.Tasks >= MinimumSample && a.SuccessRate < AgentSuccessFloor))
            list.Add($"Agent {agent.Agent} succeeds in {Percent(agent.SuccessRate)} of {agent.Tasks} tasks (below {Percent(AgentSuccessFloor)}): refine its instructions or split its tasks.");
        foreach (var error in review.Errors.Where(e => e.FixSuccessRate < FixRateFloor))
            list.Add($"Error {error.ErrorType} occurred {error.Occurrences} times and was fixed afterwards in only {Percent(error.FixSuccessRate)} of cases (below {Percent(FixRateFloor)}).");
        var prompt = review.Total.InputTokens + review.Total.CacheReadTokens;
        if (prompt > 0)
        {
            var cacheShare = (double)review.Total.CacheReadTokens / prompt;
            if (cacheShare < CacheReadFloor)
                list.Add($"Cache reads are {Percent(cacheShare)} of prompt tokens (below {Percent(CacheReadFloor)}): stable prompt prefixes would cut the {Usd(review.Total.CostUsd)} spent.");
        }
        if (review.Bottlenecks.Count > 0)
        {
            var top = review.Bottlenecks[0];
            list.Add($"The largest bottleneck is {top.Operation}{(top.Tool is null ? "" : " " + top.Tool)}: {top.EventCount} of the slowest 20% of operations, average {Ms(top.AverageMs)}, p95 {Ms(top.P95Ms)}.");
        }
        if (review.SkewedEvents > 0)
            list.Add($"{review.SkewedEvents} event(s) have negative durations (clock skew): fix the clock or the recorder before trusting latency figures.");
        if (!review.Total.Priced)
            list.Add("Some models have no price in the policy (see warnings): add them to pricing.models so that cost is complete.");
        return list;
    }

    private static string OverBudget(PhaseReview review, BudgetRow row)
    {
        var (actual, limit) = (Usd(row.ActualUsd!.Value), Usd(row.LimitUsd));
        return row.Budget switch
        {
            "phase" => $"Phase spend is {actual}, above the {limit} phase budget: the per-model cost table shows where it went; routine calls on a cheaper model or more cache reads would cut it.",
            "task" => $"Cost per task is {actual} over {review.TaskCount} tasks, above the {limit} task budget: split large tasks or give routine ones to a cheaper model.",
            _ => $"Spend on {row.Budget["day ".Length..]} was {actual}, above the {limit} daily budget: look at that day's sessions for retries or runaway loops.",
        };
    }

    public static string Summarize(PhaseReview review)
    {
        var name = review.PhaseName is null ? $"Phase {review.Phase}" : $"Phase {review.Phase} ({review.PhaseName})";
        if (review.Sessions == 0) return $"{name} has no sessions in the catalog; there is nothing to review.";
        if (review.EventCount == 0) return $"{name} has {review.Sessions} session(s) but no recorded events.";
        var text = new System.Text.StringBuilder();
        text.Append(Invariant, $"{name}: {review.Sessions} session(s), {review.EventCount:#,0} events");
        if (review.FirstEventAt is { } first && review.LastEventAt is { } last)
            text.Append(Invariant, $" from {first:yyyy-MM-dd} to {last:yyyy-MM-dd}");
        text.Append(". ");
        text.Append(Invariant, $"Overall success rate {Percent(review.SuccessRate)}; {review.ErrorCount:#,0} error(s). ");
        text.Append(Invariant, $"{review.Total.InputTokens + review.Total.OutputTokens + review.Total.CacheReadTokens + review.Total.CacheWriteTokens:#,0} tokens cost {Usd(review.Total.CostUsd)}");
        if (review.CostPerTask is { } perTask) text.Append(Invariant, $" ({Usd(perTask)} per task over {review.TaskCount} tasks)");
        text.Append(". ");
        var missed = review.Latency.Where(r => r.Met == false).Select(r => r.Operation).ToList();
        var withTarget = review.Latency.Count(r => r.Met is not null);
        if (withTarget > 0)
            text.Append(missed.Count == 0 ? "Every latency target was met." : $"Latency targets missed: {string.Join(", ", missed)}.");
        var over = review.Budget.Where(b => b.Within == false).ToList();
        var within = review.Budget.Where(b => b.Within == true).ToList();
        if (over.Count > 0 || within.Count > 0)
        {
            if (text[^1] != ' ') text.Append(' ');
            text.Append(over.Count > 0 ? $"Over budget: {string.Join(", ", over.Select(Figure))}." : $"Within budget: {string.Join(", ", within.Select(Figure))}.");
        }
        if (review.Warnings.Count > 0) text.Append(Invariant, $" {review.Warnings.Count} data warning(s) below.");
        return text.ToString().Trim();

        static string Figure(BudgetRow b) => $"{b.Budget} {Usd(b.ActualUsd!.Value)} of {Usd(b.LimitUsd)}";
    }
}
