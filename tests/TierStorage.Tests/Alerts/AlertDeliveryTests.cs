using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Alerts;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Cli;
using TierStorage.Tests.Workspace;
using Xunit;

namespace TierStorage.Tests.Alerts;

/// <summary>
/// Alerts that reach a person (issue 13): the policy run's conditions sent once per condition to a real local HTTP
/// listener, a file and a syslog socket, retried through failures, kept until delivered, and resolved when they clear.
/// </summary>
public sealed class AlertDeliveryTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly AlertDeliverySettings Fast = new() { FirstRetryDelay = TimeSpan.FromMilliseconds(20), HttpTimeout = TimeSpan.FromSeconds(10) };
    private const string OnlyCritical = "  disable: [tier-warning, projected-full]\n";

    [Fact]
    public async Task A_webhook_failing_with_500_then_429_then_a_reset_gets_the_alert_on_the_fourth_attempt_once_and_the_resolved_notice_when_it_clears()
    {
        await using var hook = new TestWebhook(WebhookReply.ServerError, WebhookReply.TooManyRequests, WebhookReply.Reset);
        var variable = UrlVariable(hook.Url);
        await using var bed = await TestWorkspace.CreateAsync();
        WritePolicy(bed, "8KB", OnlyCritical + Webhook("chat", variable));

        var ws = await OpenAsync(bed);
        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        var alert = Assert.Single(run.TierAlerts);
        Assert.Equal(("tier-critical:local", "tier-critical", "local", AlertSeverity.Critical, 1), (alert.Key, alert.Condition, alert.Subject, alert.Severity, alert.Runs));
        Assert.Equal(["chat"], alert.DeliveredTo);
        Assert.Contains(run.Alerts, a => a.StartsWith("Tier 'local' is Critical", StringComparison.Ordinal)); // the plain list is kept as it was
        Assert.Equal([WebhookReply.ServerError, WebhookReply.TooManyRequests, WebhookReply.Reset, WebhookReply.Ok], hook.Requests.Select(r => r.Reply));
        Assert.All(hook.Requests, r => Assert.Equal("/hooks/T000/B000/secret-token", r.Path));
        Assert.Single(hook.Requests.Select(r => r.Body.GetProperty("tierstorage").GetProperty("id").GetString()).Distinct());
        var body = Assert.Single(hook.Delivered);
        var text = body.GetProperty("text").GetString()!;
        Assert.StartsWith("[TierStorage] CRITICAL tier-critical:local on ", text);
        Assert.Contains("Fix: Move-DataTier", text);
        Assert.Equal(text, body.GetProperty("content").GetString());
        Assert.Equal(("opened", "critical", "local"), (Field(body, "notice"), Field(body, "severity"), Field(body, "subject")));
        Assert.Empty(ws.Alerts.GetPending(null));

        // The same condition on the next run: its figures updated, nothing sent again.
        var again = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.Equal(2, Assert.Single(again.TierAlerts).Runs);
        Assert.Equal(4, hook.Requests.Count);

        // Room again: the alert is resolved, and the channel told once.
        WritePolicy(bed, "1GB", OnlyCritical + Webhook("chat", variable));
        var roomy = await OpenAsync(bed);
        var cleared = await roomy.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.Empty(cleared.TierAlerts);
        Assert.Equal(2, hook.Delivered.Count);
        var resolved = hook.Delivered[1];
        Assert.Equal(("resolved", "tier-critical:local", 2), (Field(resolved, "notice"), Field(resolved, "key"), resolved.GetProperty("tierstorage").GetProperty("runs").GetInt32()));
        Assert.StartsWith("[TierStorage] RESOLVED tier-critical:local", resolved.GetProperty("text").GetString());
        Assert.Empty(roomy.Alerts.GetAlerts(includeResolved: false));
        var history = Assert.Single(roomy.Alerts.GetAlerts(includeResolved: true));
        Assert.Equal((TierAlertState.Resolved, bed.Time.Now), (history.State, history.ResolvedAt!.Value));

        // The webhook's URL is a secret: never in the state, the warnings or what was sent.
        Assert.DoesNotContain("secret-token", File.ReadAllText(AlertStateFile.PathIn(bed.Layout)));
        Assert.DoesNotContain(bed.Warnings, w => w.Contains("secret-token", StringComparison.Ordinal));
        Assert.All(hook.Requests, r => Assert.DoesNotContain("secret-token", r.Body.GetRawText()));
    }

    [Fact]
    public async Task No_alert_is_lost_when_the_webhook_is_down_for_whole_runs_it_gets_the_alert_and_then_its_resolution_in_order()
    {
        await using var hook = new TestWebhook(WebhookReply.ServerError, WebhookReply.ServerError, WebhookReply.ServerError, WebhookReply.ServerError);
        // First run: nothing listens on the port at all.
        var variable = UrlVariable(DeadUrl());
        await using var bed = await TestWorkspace.CreateAsync();
        WritePolicy(bed, "8KB", OnlyCritical + Webhook("chat", variable));
        var ws = await OpenAsync(bed);

        var down = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        var waiting = Assert.Single(ws.Alerts.GetPending("chat"));
        Assert.Equal(("tier-critical:local", AlertNotice.Opened, Fast.AttemptsPerRun), (waiting.Key, waiting.Notice, waiting.Attempts));
        Assert.Contains("could not be reached", waiting.LastError);
        Assert.Equal(["chat"], Assert.Single(down.TierAlerts).PendingFor);
        Assert.Contains(bed.Warnings, w => w.Contains("could not be sent to channel 'chat'", StringComparison.Ordinal));

        // Second run: the webhook answers 500 to every attempt.
        Environment.SetEnvironmentVariable(variable, hook.Url);
        await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.Equal(4, hook.Requests.Count);
        Assert.Empty(hook.Delivered);
        var still = Assert.Single(ws.Alerts.GetPending(null));
        Assert.Equal((waiting.NotificationId, 2 * Fast.AttemptsPerRun), (still.NotificationId, still.Attempts));
        Assert.Contains("HTTP 500", still.LastError);

        // Third run: the condition has cleared meanwhile and the webhook is back: the opening, then the resolution.
        WritePolicy(bed, "1GB", OnlyCritical + Webhook("chat", variable));
        var back = await OpenAsync(bed);
        await back.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        Assert.Equal([("opened", "tier-critical:local"), ("resolved", "tier-critical:local")], hook.Delivered.Select(b => (Field(b, "notice"), Field(b, "key"))));
        Assert.Equal(waiting.NotificationId, Field(hook.Delivered[0], "id"));
        Assert.Empty(back.Alerts.GetPending(null));
    }

    [Fact]
    public async Task A_webhook_whose_variable_is_not_set_keeps_the_alert_waiting_and_says_so_and_one_in_the_credentials_folder_is_used()
    {
        await using var hook = new TestWebhook();
        await using var bed = await TestWorkspace.CreateAsync();
        var unset = "TS_ALERT_UNSET_" + Guid.NewGuid().ToString("N");
        WritePolicy(bed, "8KB", OnlyCritical + Webhook("chat", unset) + "    - kind: webhook\n      name: filed\n      url_file: alert-hook.url\n");
        File.WriteAllText(Path.Combine(bed.Layout.CredentialsDirectory, "alert-hook.url"), "\n" + hook.Url + "\n");
        var ws = await OpenAsync(bed);

        await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        var waiting = Assert.Single(ws.Alerts.GetPending(null));
        Assert.Equal(("chat", 1), (waiting.Channel, waiting.Attempts));
        Assert.Equal($"the environment variable {unset} is not set", waiting.LastError);
        Assert.Equal("tier-critical:local", Field(Assert.Single(hook.Delivered), "key"));
        Assert.Equal(["filed"], Assert.Single(ws.Alerts.GetAlerts(false)).DeliveredTo);
    }

    [Fact]
    public async Task The_file_channel_gets_one_json_line_per_alert_and_resolution_and_a_critical_only_channel_only_the_critical()
    {
        await using var bed = await TestWorkspace.CreateAsync();
        const string channels = "  disable: [projected-full]\n  channels:\n    - kind: file\n    - kind: file\n      name: pager\n      min_severity: critical\n      path: logs/pager.jsonl\n";
        WritePolicy(bed, "8KB", channels);
        var ws = await OpenAsync(bed);
        var file = Path.Combine(bed.Layout.LogsDirectory, "alerts.jsonl");
        var pager = Path.Combine(bed.Layout.LogsDirectory, "pager.jsonl");

        var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

        Assert.Equal(["tier-critical:local", "tier-warning:local"], run.TierAlerts.Select(a => a.Key).Order());
        Assert.Equal([("opened", "tier-critical:local"), ("opened", "tier-warning:local")], Lines(file).Select(l => (Field(l, "notice"), Field(l, "key"))).Order());
        Assert.Equal([("opened", "tier-critical:local")], Lines(pager).Select(l => (Field(l, "notice"), Field(l, "key"))));
        var line = Lines(pager)[0];
        Assert.Equal((bed.Root, Environment.MachineName, 1), (Field(line, "workspace"), Field(line, "host"), line.GetProperty("runs").GetInt32()));
        Assert.Contains("Move-DataTier", Field(line, "fix"));

        // A watcher's file torn by a crash mid-line: the next line still starts on a line of its own.
        File.AppendAllText(file, "{\"torn\":");
        WritePolicy(bed, "1GB", channels);
        await (await OpenAsync(bed)).Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
        var all = File.ReadAllLines(file);
        Assert.Equal("{\"torn\":", all[2]);
        Assert.Equal([("resolved", "tier-critical:local"), ("resolved", "tier-warning:local")],
            all.Skip(3).Select(l => JsonDocument.Parse(l).RootElement).Select(l => (Field(l, "notice"), Field(l, "key"))).Order());
        Assert.Equal(2, Lines(pager).Count);
    }

    [Fact]
    public async Task The_syslog_channel_writes_rfc3164_to_a_unix_datagram_socket()
    {
        if (OperatingSystem.IsWindows()) return; // the Event Log there
        var socketPath = Path.Combine(Path.GetTempPath(), "ts-log-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        using var syslog = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        syslog.Bind(new UnixDomainSocketEndPoint(socketPath));
        try
        {
            await using var bed = await TestWorkspace.CreateAsync();
            WritePolicy(bed, "8KB", OnlyCritical + $"  channels:\n    - kind: syslog\n      socket: {socketPath}\n");
            var ws = await OpenAsync(bed);

            var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);

            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var received = await syslog.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            var message = Encoding.UTF8.GetString(buffer, 0, received);
            // Facility user (1) * 8 + severity critical (2).
            Assert.Matches(@"^<10>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d TierStorage\[\d+\]: \[TierStorage\] CRITICAL tier-critical:local ", message);
            Assert.Matches(@" \[id=[0-9a-f]{32}\]$", message);
            Assert.Equal(["syslog"], Assert.Single(run.TierAlerts).DeliveredTo);
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    [Fact]
    public async Task A_backup_queued_for_backup_failing_runs_in_a_row_raises_one_alert_which_resolves_when_the_backup_goes_through()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-alert-backup-" + Guid.NewGuid().ToString("N"));
        await using var bed = await TestWorkspace.CreateAsync();
        var tier = Path.Combine(root, "share", "backup");
        File.WriteAllText(bed.Layout.PolicyPath, $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
              - name: backup
                level: 2
                kind: folder
                path: {tier}
            alerts:
              backup_failing_runs: 2
              channels:
                - kind: file
            """);
        try
        {
            var ws = await OpenAsync(bed);
            await ws.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None);
            var session = (await ws.CompleteSessionAsync(null, None)).SessionId;

            var first = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.Equal(BackupStatus.Queued, Assert.Single(first.Backups).Status);
            Assert.Equal(["tier-unavailable:backup"], first.TierAlerts.Select(a => a.Key));

            var second = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            var failing = Assert.Single(second.TierAlerts, a => a.Condition == "backup-failing");
            Assert.Equal(($"backup-failing:{session}", AlertSeverity.Warning), (failing.Key, failing.Severity));
            Assert.EndsWith("(2 runs in a row)", failing.Message);
            Assert.Contains($"Backup-Session -SessionId {session}", failing.Fix);

            Directory.CreateDirectory(Path.Combine(root, "share"));
            var third = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.Equal(BackupStatus.Succeeded, Assert.Single(third.Backups).Status);
            Assert.Empty(third.TierAlerts);
            Assert.Equal([("opened", "tier-unavailable:backup"), ("opened", $"backup-failing:{session}"), ("resolved", "tier-unavailable:backup"), ("resolved", $"backup-failing:{session}")],
                Lines(Path.Combine(bed.Layout.LogsDirectory, "alerts.jsonl")).Select(l => (Field(l, "notice"), Field(l, "key"))));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_run_killed_while_the_webhook_has_the_request_sends_it_again_on_the_next_run_and_loses_nothing()
    {
        await using var hook = new TestWebhook(WebhookReply.Hang);
        var variable = UrlVariable(hook.Url);
        await using var bed = await TestWorkspace.CreateAsync();
        WritePolicy(bed, "8KB", OnlyCritical + Webhook("chat", variable));

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "tierstorage.dll"), "run", "--workspace", bed.Root }) start.ArgumentList.Add(arg);
        start.Environment[variable] = hook.Url;
        using (var process = Process.Start(start)!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var deadline = Stopwatch.StartNew();
            while (hook.Requests.Count == 0 && !process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(10);
            Assert.False(process.HasExited, "the run ended before its webhook request arrived");
            process.Kill(); // SIGKILL: no finally blocks run
            await process.WaitForExitAsync();
        }
        var sentBeforeKill = Field(Assert.Single(hook.Requests).Body, "id");

        var rerun = await CliRunner.RunAsync("run", "--workspace", bed.Root);
        Assert.Equal(0, rerun.ExitCode);
        var delivered = Assert.Single(hook.Delivered);
        Assert.Equal(sentBeforeKill, Field(delivered, "id"));
        var alerts = await CliRunner.RunAsync("alerts", "--workspace", bed.Root, "--json");
        CliRunner.AssertExit(0, alerts);
        var listed = JsonDocument.Parse(Assert.Single(alerts.StdoutLines)).RootElement;
        Assert.Equal("tier-critical:local", listed.GetProperty("key").GetString());
        Assert.Equal(2, listed.GetProperty("runs").GetInt32());
        Assert.Equal("chat", listed.GetProperty("deliveredTo")[0].GetString());
        var pending = await CliRunner.RunAsync("alerts", "--workspace", bed.Root, "--pending");
        Assert.Contains("Every notification was delivered.", pending.Stdout);
    }

    private static string Webhook(string name, string variable) =>
        $"  channels:\n    - kind: webhook\n      name: {name}\n      url_env: {variable}\n";

    /// <summary>A process-wide environment variable of this test's own, holding the webhook's URL.</summary>
    private static string UrlVariable(string url)
    {
        var name = "TS_ALERT_HOOK_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, url);
        return name;
    }

    /// <summary>A URL on a loopback port nothing listens on.</summary>
    private static string DeadUrl()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}/hooks/T000/B000/secret-token";
    }

    /// <summary>The workspace as its own local tier with <paramref name="capacity"/>, and the given lines under alerts:.</summary>
    private static void WritePolicy(TestWorkspace bed, string capacity, string alerts) =>
        File.WriteAllText(bed.Layout.PolicyPath,
            $"version: 1\ntiers:\n  - name: local\n    level: 1\n    kind: folder\n    capacity: {capacity}\nalerts:\n{alerts}");

    private static async Task<TierWorkspace> OpenAsync(TestWorkspace bed)
    {
        var ws = await bed.OpenAsync();
        ws.Alerts.Settings = Fast;
        return ws;
    }

    private static List<JsonElement> Lines(string path) => File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static string Field(JsonElement body, string name) =>
        (body.TryGetProperty("tierstorage", out var inner) ? inner : body).GetProperty(name).GetString()!;
}

/// <summary>Send-TierAlert -Test: a test notification to each channel, nothing recorded.</summary>
public sealed class AlertChannelTestTests
{
    [Fact]
    public async Task A_test_notification_reaches_each_channel_or_says_why_not_and_records_nothing()
    {
        await using var hook = new TestWebhook(WebhookReply.ServerError);
        var variable = "TS_ALERT_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, hook.Url);
        await using var bed = await TestWorkspace.CreateAsync();
        File.WriteAllText(bed.Layout.PolicyPath,
            $"version: 1\nalerts:\n  channels:\n    - kind: webhook\n      name: chat\n      url_env: {variable}\n    - kind: file\n    - kind: syslog\n      socket: {Path.Combine(bed.Root, "no.sock")}\n");
        var ws = await bed.OpenAsync();
        ws.Alerts.Settings = new AlertDeliverySettings { FirstRetryDelay = TimeSpan.FromMilliseconds(10) };

        var results = new List<AlertChannelTest>();
        await foreach (var result in ws.Alerts.TestChannelsAsync(null, CancellationToken.None)) results.Add(result);

        Assert.Equal([("chat", true, 2), ("file", true, 1), ("syslog", false, 1)], results.Select(r => (r.Channel, r.Succeeded, r.Attempts)));
        Assert.Equal($"posted to the URL in ${variable}", results[0].Message);
        Assert.StartsWith("there is no syslog socket at ", results[2].Message);
        var body = Assert.Single(hook.Delivered);
        Assert.Equal("test", body.GetProperty("tierstorage").GetProperty("notice").GetString());
        Assert.StartsWith("[TierStorage] TEST on ", body.GetProperty("text").GetString());
        Assert.Contains("\"notice\":\"test\"", File.ReadAllText(Path.Combine(bed.Layout.LogsDirectory, "alerts.jsonl")));
        Assert.False(File.Exists(AlertStateFile.PathIn(bed.Layout)));
        Assert.Empty(ws.Alerts.GetAlerts(includeResolved: true));

        var unknown = await Assert.ThrowsAsync<TierStorageException>(async () =>
        {
            await foreach (var _ in ws.Alerts.TestChannelsAsync(["pager"], CancellationToken.None)) { }
        });
        Assert.Equal(ErrorIds.AlertChannelNotFound, unknown.ErrorId);
        Assert.Contains("Channels: chat, file, syslog", unknown.Message);
    }
}
