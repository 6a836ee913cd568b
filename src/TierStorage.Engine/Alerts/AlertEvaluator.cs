using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Alerts;

/// <summary>One condition found by a run: its stable key, severity, figures and fix.</summary>
internal sealed record AlertCondition(string Condition, string Subject, AlertSeverity Severity, string Message, string Fix)
{
    public string Key => Condition + ":" + Subject;
}

/// <summary>
/// Turns what a policy run found into alert conditions, each keyed by what it is about (tier-critical:local), so a run
/// that finds the same condition again updates it instead of raising another. Backups queued or failing (sessions'
/// and collections') need
/// <see cref="AlertPolicy.BackupFailingRuns"/> consecutive runs; their counts live in <paramref name="streaks"/>.
/// </summary>
internal static class AlertEvaluator
{
    public const string BackupFailedPrefix = "Backup failed";

    public static List<AlertCondition> Evaluate(PolicyRunResult run, IReadOnlyList<BackupCheck> failedChecks, TierPolicy tierPolicy, DateTimeOffset now,
        Dictionary<string, int> streaks)
    {
        var policy = tierPolicy.Alerts;
        var found = new List<AlertCondition>();
        foreach (var u in run.Usage)
        {
            var of = u.CapacityBytes is { } capacity ? $" of {Readable.Bytes(capacity)}" : "";
            var usage = string.Create(CultureInfo.InvariantCulture, $"{Readable.Bytes(u.UsedBytes)}{of} used ({u.Percent:0.#}%)");
            var tier = tierPolicy.GetTier(u.Tier);
            switch (u.Status)
            {
                case TierHealth.Critical:
                    found.Add(new("tier-critical", u.Tier, AlertSeverity.Critical,
                        string.Create(CultureInfo.InvariantCulture, $"Tier '{u.Tier}' is critical: {usage}; critical at {tier?.CriticalPercent}%."), CapacityFix(u.Tier)));
                    found.Add(new("tier-warning", u.Tier, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Tier '{u.Tier}' is past its warning threshold: {usage}; warning at {tier?.WarnPercent}%."), CapacityFix(u.Tier)));
                    break;
                case TierHealth.Warning:
                    found.Add(new("tier-warning", u.Tier, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Tier '{u.Tier}' is past its warning threshold: {usage}; warning at {tier?.WarnPercent}%."), CapacityFix(u.Tier)));
                    break;
                case TierHealth.Unavailable:
                    found.Add(new("tier-unavailable", u.Tier, AlertSeverity.Warning, $"Tier '{u.Tier}' cannot be reached. {u.Message}".TrimEnd(),
                        $"Test-TierConnection -Tier {u.Tier} (tierstorage tier test --tier {u.Tier}); work for it is queued until it is back."));
                    break;
            }
            // A tier already full is tier-critical's; this one warns ahead of it.
            if (u.ProjectedFullAt is { } full && full > now && full <= now.AddDays(policy.ProjectedFullDays) && u.Status != TierHealth.Unavailable)
            {
                var days = Math.Max(0, (int)Math.Floor((full - now).TotalDays));
                found.Add(new("projected-full", u.Tier, days <= 7 ? AlertSeverity.Critical : AlertSeverity.Warning,
                    string.Create(CultureInfo.InvariantCulture,
                        $"Tier '{u.Tier}' will be full around {full:yyyy-MM-dd} (in {days} day(s)) at {Readable.Bytes(u.GrowthBytesPerWeek)}/week; {usage} now (alert at {policy.ProjectedFullDays} days)."),
                    $"Move-DataTier -WhatIf (tierstorage move --what-if) shows what the policy moves off '{u.Tier}'; shorten retention or raise tiers[{u.Tier}].capacity in tierstorage.yaml."));
            }
            if (policy.TierBudgetsUsd.TryGetValue(u.Tier, out var tierBudget) && u.MonthlyCostUsd > tierBudget)
                found.Add(new("budget", u.Tier, AlertSeverity.Warning,
                    $"Tier '{u.Tier}' costs {Readable.Usd(u.MonthlyCostUsd)} a month, above its budget of {Readable.Usd(tierBudget)} ({Readable.Bytes(u.UsedBytes)} stored).",
                    $"Get-TierUsage -Tier {u.Tier}; Move-DataTier (tierstorage move) archives or expires by the policy; shorten retention in tierstorage.yaml."));
        }
        if (policy.MonthlyBudgetUsd is { } budget && run.Usage.Sum(u => u.MonthlyCostUsd) is var total && total > budget)
            found.Add(new("budget", "total", AlertSeverity.Warning,
                $"The tiers cost {Readable.Usd(total)} a month together, above the budget of {Readable.Usd(budget)} ({string.Join(", ", run.Usage.Where(u => u.MonthlyCostUsd > 0).Select(u => $"{u.Tier} {Readable.Usd(u.MonthlyCostUsd)}"))}).",
                "Get-TierUsage | Sort-Object MonthlyCostUsd -Descending; Move-DataTier (tierstorage move) archives or expires by the policy."));

        // Backups queued or failing: counted per session over consecutive runs; a session backed up (or gone) starts again at 0.
        var failing = new Dictionary<string, AlertCondition>(StringComparer.Ordinal);
        foreach (var b in run.Backups.Where(b => b.Status is BackupStatus.Queued or BackupStatus.Failed))
        {
            failing[b.SessionId] = new("backup-failing", b.SessionId, b.Status == BackupStatus.Failed ? AlertSeverity.Critical : AlertSeverity.Warning,
                $"The backup of {b.SessionId} to tier '{b.Tier}' is {b.Status.ToString().ToLowerInvariant()}: {b.Message}".TrimEnd(' ', ':'),
                $"Test-TierConnection -Tier {b.Tier}; then Backup-Session -SessionId {b.SessionId} (tierstorage backup run {b.SessionId}).");
        }
        // A collection's version not taken (failed, or left for a full tier, the time limit or an unreachable tier) counts the same way.
        foreach (var c in run.Collections.Where(c => c.Status is CollectionBackupStatus.Failed or CollectionBackupStatus.Skipped))
        {
            failing["collection:" + c.Collection] = new("backup-failing", "collection:" + c.Collection, c.Status == CollectionBackupStatus.Failed ? AlertSeverity.Critical : AlertSeverity.Warning,
                $"The version of collection '{c.Collection}' on tier '{c.Tier}' was {(c.Status == CollectionBackupStatus.Failed ? "not taken, it failed" : "not taken")}: {c.Message}".TrimEnd(' ', ':'),
                $"Test-TierConnection -Tier {c.Tier}; then Backup-Collection {c.Collection} (tierstorage collection backup {c.Collection}).");
        }
        if (run.Alerts.FirstOrDefault(a => a.StartsWith(BackupFailedPrefix, StringComparison.Ordinal)) is { } whole)
            failing["run"] = new("backup-failing", "run", AlertSeverity.Critical, whole,
                "Test-TierConnection; then Invoke-TierPolicy (tierstorage run) again.");
        foreach (var stale in streaks.Keys.Where(k => k.StartsWith("backup-failing:", StringComparison.Ordinal) && !failing.ContainsKey(k["backup-failing:".Length..])).ToList())
            streaks.Remove(stale);
        foreach (var (subject, condition) in failing)
        {
            var runs = streaks[condition.Key] = streaks.GetValueOrDefault(condition.Key) + 1;
            if (runs >= policy.BackupFailingRuns)
                found.Add(condition with { Message = condition.Message + string.Create(CultureInfo.InvariantCulture, $" ({runs} runs in a row)") });
        }

        foreach (var check in failedChecks)
        {
            var what = check.Key ?? check.SessionId;
            found.Add(new("verification", what, AlertSeverity.Critical,
                $"Check of {what} on tier '{check.Tier}': {check.Status}. {check.Message}".TrimEnd(),
                $"Test-Backup -Tier {check.Tier} (tierstorage backup test --tier {check.Tier}) lists the damage; back the sessions up again from a good copy (Backup-Session, Restore-Phase)."));
        }

        // One condition per key (two failed checks of one archive are one alert), disabled kinds dropped.
        return found.Where(c => policy.IsEnabled(c.Condition)).GroupBy(c => c.Key, StringComparer.Ordinal).Select(g => g.First()).ToList();
    }

    private static string CapacityFix(string tier) =>
        $"Move-DataTier (tierstorage move) moves data off '{tier}' by the policy; or raise tiers[{tier}].capacity or set migrate_on_critical: true in tierstorage.yaml.";
}
