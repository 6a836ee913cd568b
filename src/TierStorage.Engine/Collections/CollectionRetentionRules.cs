using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Collections;

/// <summary>
/// restic's <c>forget</c> rules over a collection's versions: <c>last</c> keeps the newest N; <c>daily</c>, <c>weekly</c>
/// (ISO weeks), <c>monthly</c> and <c>yearly</c> keep the newest version of each of the last N days, weeks, months and years
/// that have one (local time, as the schedule). A version any rule keeps is kept. <c>delete_after_days</c> then removes
/// versions older than that, whatever kept them — except the newest version, which is always kept: an unchanged folder
/// must not lose its only copy.
/// </summary>
public static class CollectionRetentionRules
{
    /// <summary>Why each version is kept, by id; a version absent from the result is to be deleted.</summary>
    public static IReadOnlyDictionary<string, string> Keep(IReadOnlyList<(string Id, DateTimeOffset CreatedAt)> versions, CollectionRetention keep, int? deleteAfterDays, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(versions);
        ArgumentNullException.ThrowIfNull(keep);
        var newestFirst = versions.OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.Id, StringComparer.Ordinal).ToList();
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        if (newestFirst.Count == 0) return reasons;
        if (keep.KeepsEverything)
            foreach (var v in newestFirst) reasons[v.Id] = "keep: every version";
        else
        {
            foreach (var v in newestFirst.Take(keep.Last ?? 0)) reasons.TryAdd(v.Id, "keep.last");
            KeepBuckets(newestFirst, keep.Daily, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "keep.daily", reasons);
            KeepBuckets(newestFirst, keep.Weekly, t => $"{ISOWeek.GetYear(t)}-W{ISOWeek.GetWeekOfYear(t)}", "keep.weekly", reasons);
            KeepBuckets(newestFirst, keep.Monthly, t => t.ToString("yyyy-MM", CultureInfo.InvariantCulture), "keep.monthly", reasons);
            KeepBuckets(newestFirst, keep.Yearly, t => t.ToString("yyyy", CultureInfo.InvariantCulture), "keep.yearly", reasons);
        }
        if (deleteAfterDays is { } days)
            foreach (var v in newestFirst.Skip(1).Where(v => v.CreatedAt < now.AddDays(-days))) reasons.Remove(v.Id);
        reasons.TryAdd(newestFirst[0].Id, "the newest version");
        return reasons;
    }

    private static void KeepBuckets(List<(string Id, DateTimeOffset CreatedAt)> newestFirst, int? count, Func<DateTime, string> bucketOf, string rule, Dictionary<string, string> reasons)
    {
        if (count is not { } n || n == 0) return;
        string? last = null;
        var buckets = 0;
        foreach (var v in newestFirst)
        {
            var bucket = bucketOf(v.CreatedAt.ToLocalTime().DateTime);
            if (bucket == last) continue;
            last = bucket;
            reasons.TryAdd(v.Id, rule);
            if (++buckets == n) return;
        }
    }
}
