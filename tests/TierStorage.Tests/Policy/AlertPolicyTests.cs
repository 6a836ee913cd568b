using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>alerts: (issue 13) read into the policy; a webhook's URL refused wherever it is written; every malformed entry a finding at its key.</summary>
public sealed class AlertPolicyTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Alerts_are_read_with_their_channels_and_defaults_filled_in()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            alerts:
              projected_full_days: 14
              monthly_budget_usd: 25.5
              tier_budgets_usd: { Backup: 10 }
              backup_failing_runs: 2
              notify_resolved: false
              disable: [tier-warning]
              channels:
                - kind: webhook
                  name: team-chat
                  url_env: TIERSTORAGE_ALERT_WEBHOOK
                  min_severity: critical
                - kind: webhook
                  name: discord
                  url_file: discord.url
                - kind: syslog
                  socket: /run/systemd/journal/dev-log
                - kind: file
                  path: watch/alerts.jsonl
            """));

        var alerts = policy.Alerts;
        Assert.Equal((14, 25.5m, 2, false), (alerts.ProjectedFullDays, alerts.MonthlyBudgetUsd!.Value, alerts.BackupFailingRuns, alerts.NotifyResolved));
        Assert.Equal(10m, alerts.TierBudgetsUsd["backup"]);
        Assert.Equal(["tier-warning"], alerts.Disabled);
        Assert.False(alerts.IsEnabled("tier-warning"));
        Assert.Equal(["team-chat", "discord", "syslog", "file"], alerts.Channels.Select(c => c.Name));
        Assert.Equal((AlertChannelKind.Webhook, "TIERSTORAGE_ALERT_WEBHOOK", AlertSeverity.Critical), (alerts.Channels[0].Kind, alerts.Channels[0].UrlVariable, alerts.Channels[0].MinSeverity));
        Assert.Equal(("discord.url", AlertSeverity.Warning), (alerts.Channels[1].UrlFile, alerts.Channels[1].MinSeverity));
        Assert.Equal((AlertChannelKind.EventLog, "/run/systemd/journal/dev-log"), (alerts.Channels[2].Kind, alerts.Channels[2].Socket));
        Assert.Equal(Path.Combine(_files.Directory, "watch", "alerts.jsonl"), alerts.Channels[3].Path);

        var silent = PolicyLoader.Load(_files.Write(ValidTiers, "plain.yaml")).Alerts;
        Assert.Equal((30, (decimal?)null, 3, true, 0), (silent.ProjectedFullDays, silent.MonthlyBudgetUsd, silent.BackupFailingRuns, silent.NotifyResolved, silent.Channels.Count));
    }

    [Fact]
    public void A_webhook_url_written_in_the_policy_is_refused_without_being_repeated()
    {
        const string url = "https://hooks.slack.com/services/T0001/B0002/abcdefSECRET";
        var findings = _files.Test(ValidTiers + $"""
            alerts:
              channels:
                - kind: webhook
                  url: {url}
                - kind: webhook
                  name: second
                  url_env: {url}
                - kind: webhook
                  name: third
                  webhook_url: {url}
                  url_file: {url}
            """);

        var secrets = findings.Where(f => f.Code == PolicyFindingCodes.SecretInPolicy).ToList();
        Assert.Equal(["alerts.channels[0].url", "alerts.channels[1].url_env", "alerts.channels[2].webhook_url", "alerts.channels[2].url_file"], secrets.Select(f => f.KeyPath));
        Assert.All(secrets, f => Assert.Equal(FindingSeverity.Error, f.Severity));
        Assert.All(secrets, f => Assert.NotNull(f.Line));
        Assert.All(findings, f => Assert.DoesNotContain("SECRET", f.Message, StringComparison.Ordinal));
        Assert.Contains("url_env", secrets[0].Message);
    }

    [Fact]
    public void Each_malformed_alert_setting_is_a_finding_at_its_key()
    {
        var findings = _files.Test(ValidTiers + """
            alerts:
              projected_full_days: 0
              monthly_budget_usd: -5
              tier_budgets_usd: { nowhere: 3 }
              backup_failing_runs: many
              disable: [tier-warnings]
              colour: red
              channels:
                - kind: pager
                - kind: webhook
                  name: chat
                - kind: webhook
                  name: chat
                  url_env: HOOK
                  path: x.jsonl
                  min_severity: urgent
                - kind: file
                  url_env: HOOK
                - kind: webhook
                  name: up
                  url_file: ../secret.url
                - kind: syslog
                  socket: relative/log
                - name: nokind
            """);

        var errors = findings.Where(f => f.Severity == FindingSeverity.Error).Select(f => (f.KeyPath, f.Code)).ToList();
        Assert.Contains(("alerts.projected_full_days", PolicyFindingCodes.OutOfRange), errors);
        Assert.Contains(("alerts.monthly_budget_usd", PolicyFindingCodes.OutOfRange), errors);
        Assert.Contains(("alerts.tier_budgets_usd.nowhere", PolicyFindingCodes.MissingTier), errors);
        Assert.Contains(("alerts.backup_failing_runs", PolicyFindingCodes.WrongType), errors);
        Assert.Contains(("alerts.disable", PolicyFindingCodes.InvalidValue), errors);
        Assert.Contains(("alerts.colour", PolicyFindingCodes.UnknownKey), errors);
        Assert.Contains(("alerts.channels[0].kind", PolicyFindingCodes.UnknownKind), errors);
        Assert.Contains(("alerts.channels[1].url_env", PolicyFindingCodes.MissingKey), errors);
        Assert.Contains(("alerts.channels[2]", PolicyFindingCodes.DuplicateRule), errors);
        Assert.Contains(("alerts.channels[2].path", PolicyFindingCodes.KeyNotForKind), errors);
        Assert.Contains(("alerts.channels[2].min_severity", PolicyFindingCodes.InvalidValue), errors);
        Assert.Contains(("alerts.channels[3].url_env", PolicyFindingCodes.KeyNotForKind), errors);
        Assert.Contains(("alerts.channels[4].url_file", PolicyFindingCodes.InvalidValue), errors);
        Assert.Contains(("alerts.channels[5].socket", PolicyFindingCodes.InvalidValue), errors);
        Assert.Contains(("alerts.channels[6].kind", PolicyFindingCodes.MissingKey), errors);
        Assert.Contains("did you mean 'tier-warning'", Assert.Single(findings, f => f.KeyPath == "alerts.disable").Message);
        Assert.All(findings, f => Assert.NotNull(f.Line));
    }
}
