using TierStorage.Contracts;
using YamlDotNet.RepresentationModel;

namespace TierStorage.Engine.Policy;

/// <summary><c>alerts:</c> (issue 13): the thresholds of the run's alert conditions and the channels that reach a person.</summary>
internal sealed partial class PolicyReader
{
    private static readonly string[] AlertKeys =
        ["projected_full_days", "monthly_budget_usd", "tier_budgets_usd", "backup_failing_runs", "notify_resolved", "disable", "channels"];
    /// <summary>url and webhook_url are allowed here only to be refused by name: a webhook's URL is its password.</summary>
    private static readonly string[] ChannelKeys = ["name", "kind", "min_severity", "url_env", "url_file", "path", "socket", "url", "webhook_url"];
    private static readonly Dictionary<string, AlertChannelKind> ChannelKinds = new(StringComparer.Ordinal)
    {
        ["webhook"] = AlertChannelKind.Webhook,
        ["eventlog"] = AlertChannelKind.EventLog,
        ["syslog"] = AlertChannelKind.EventLog,
        ["file"] = AlertChannelKind.File,
    };
    private static readonly Dictionary<AlertChannelKind, string[]> ChannelKindKeys = new()
    {
        [AlertChannelKind.Webhook] = ["url_env", "url_file"],
        [AlertChannelKind.EventLog] = ["socket"],
        [AlertChannelKind.File] = ["path"],
    };
    private static readonly string[] Severities = ["warning", "critical"];

    private void ReadAlerts(YamlNode? node, string path, TierPolicy policy)
    {
        if (OpenMap(node, path, AlertKeys) is not { } map) return;
        var alerts = policy.Alerts;
        if (Integer(map.Get("projected_full_days"), Child(path, "projected_full_days"), 1, 3650) is { } days) alerts.ProjectedFullDays = (int)days;
        alerts.MonthlyBudgetUsd = Number(map.Get("monthly_budget_usd"), Child(path, "monthly_budget_usd"), 0, null);
        foreach (var (tierName, keyNode, value) in Entries(map.Get("tier_budgets_usd"), Child(path, "tier_budgets_usd"), "tier name", "a monthly budget in USD"))
        {
            var entryPath = Child(Child(path, "tier_budgets_usd"), tierName);
            if (policy.GetTier(tierName) is not { } tier)
                Add(FindingSeverity.Error, PolicyFindingCodes.MissingTier, keyNode, entryPath,
                    $"No tier named '{Shorten(tierName)}'{Suggest(tierName, policy.Tiers.Select(t => t.Name))}; tiers: {string.Join(", ", policy.Tiers.Select(t => t.Name))}.");
            else if (Number(value, entryPath, 0, null) is { } budget) alerts.TierBudgetsUsd[tier.Name] = budget;
        }
        if (Integer(map.Get("backup_failing_runs"), Child(path, "backup_failing_runs"), 1, 1000) is { } runs) alerts.BackupFailingRuns = (int)runs;
        if (Bool(map.Get("notify_resolved"), Child(path, "notify_resolved")) is { } resolved) alerts.NotifyResolved = resolved;

        var disablePath = Child(path, "disable");
        if (map.Get("disable") is { } disableNode && Sequence(disableNode, disablePath) is { } disabled)
        {
            foreach (var item in disabled.Children)
            {
                if (Text(item, disablePath) is not { } condition) continue;
                if (AlertPolicy.Conditions.Contains(condition)) alerts.Disabled.Add(condition);
                else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, item, disablePath,
                    $"Unknown alert condition '{Shorten(condition)}'{Suggest(condition, AlertPolicy.Conditions)}; conditions: {string.Join(", ", AlertPolicy.Conditions)}.");
            }
        }

        var channelsPath = Child(path, "channels");
        if (map.Get("channels") is not { } channelsNode || Sequence(channelsNode, channelsPath) is not { } items) return;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < items.Children.Count; i++)
        {
            var itemPath = $"{channelsPath}[{i}]";
            if (ReadChannel(items.Children[i], itemPath) is not { } channel) continue;
            if (!names.Add(channel.Name))
                Add(FindingSeverity.Error, PolicyFindingCodes.DuplicateRule, items.Children[i], itemPath,
                    $"Two channels are named '{channel.Name}'; give each its own name.");
            else alerts.Channels.Add(channel);
        }
    }

    private AlertChannelDefinition? ReadChannel(YamlNode node, string path)
    {
        // The kind decides which keys belong, so it is read before the mapping is checked.
        AlertChannelKind? kind = null;
        var kindNode = (node as YamlMappingNode)?.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: "kind" }).Value;
        if (kindNode is YamlScalarNode { Value: { Length: > 0 } kindText } && !IsNull(kindNode))
        {
            if (ChannelKinds.TryGetValue(kindText, out var known)) kind = known;
            else Add(FindingSeverity.Error, PolicyFindingCodes.UnknownKind, kindNode, Child(path, "kind"),
                $"Unknown channel kind '{Shorten(kindText)}'{Suggest(kindText, ChannelKinds.Keys)}; expected webhook, eventlog (syslog on Linux and macOS) or file.");
        }
        var allowed = kind is { } own ? ChannelKeys.Where(k => !ChannelKindKeys.Where(p => p.Key != own).Any(p => p.Value.Contains(k)) || ChannelKindKeys[own].Contains(k)).ToArray() : ChannelKeys;
        var map = OpenMap(node, path, allowed, key =>
            kind is { } k && ChannelKindKeys.Where(p => p.Key != k).Any(p => p.Value.Contains(key))
                ? $"'{key}' does not apply to a {k.ToString().ToLowerInvariant()} channel; its keys: name, kind, min_severity{string.Concat(ChannelKindKeys[k].Select(x => ", " + x))}."
                : null);
        if (map is null) return null;
        if (Require(map, "kind") is null || kind is not { } channelKind) return null;

        // Unnamed, a channel is called by its kind as written (syslog or eventlog).
        var channel = new AlertChannelDefinition { Kind = channelKind, Name = ((YamlScalarNode)kindNode!).Value! };
        foreach (var secret in new[] { "url", "webhook_url" }.Where(map.Contains))
            Add(FindingSeverity.Error, PolicyFindingCodes.SecretInPolicy, map.KeyNode(secret), Child(path, secret),
                $"'{secret}': a webhook's URL is its password (anyone who has it can post), so it never goes in the policy. Put it in an environment variable named by url_env (e.g. url_env: TIERSTORAGE_ALERT_WEBHOOK), or in a file in the workspace's credentials/ folder named by url_file.");

        if (map.Get("name") is { } nameNode && Text(nameNode, Child(path, "name")) is { } name)
        {
            if (TierName().IsMatch(name)) channel.Name = name;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, nameNode, Child(path, "name"),
                $"Channel name '{Shorten(name)}' must start with a letter or digit and use only letters, digits, '-', '_' and '.'.");
        }
        if (map.Get("min_severity") is { } severityNode && Text(severityNode, Child(path, "min_severity")) is { } severity)
        {
            if (severity == "warning") channel.MinSeverity = AlertSeverity.Warning;
            else if (severity == "critical") channel.MinSeverity = AlertSeverity.Critical;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, severityNode, Child(path, "min_severity"),
                $"Unknown severity '{Shorten(severity)}'{Suggest(severity, Severities)}; expected warning or critical.");
        }

        switch (channelKind)
        {
            case AlertChannelKind.Webhook:
                ReadWebhookSource(map, path, channel);
                break;
            case AlertChannelKind.File when map.Get("path") is { } fileNode && Text(fileNode, Child(path, "path")) is { } file:
                channel.Path = ExpandedPath(fileNode, Child(path, "path"), file);
                break;
            case AlertChannelKind.EventLog when map.Get("socket") is { } socketNode && Text(socketNode, Child(path, "socket")) is { } socket:
                if (System.IO.Path.IsPathFullyQualified(socket)) channel.Socket = socket;
                else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, socketNode, Child(path, "socket"),
                    $"'{Shorten(socket)}' must be the full path of the syslog socket (default /dev/log; /var/run/syslog on macOS).");
                break;
        }
        return channel;
    }

    private void ReadWebhookSource(Map map, string path, AlertChannelDefinition channel)
    {
        var variablePath = Child(path, "url_env");
        if (map.Get("url_env") is { } variableNode && Text(variableNode, variablePath) is { } variable)
        {
            // A URL pasted where the variable's name goes is the secret itself: refused without repeating it.
            if (variable.Contains("://", StringComparison.Ordinal))
                Add(FindingSeverity.Error, PolicyFindingCodes.SecretInPolicy, variableNode, variablePath,
                    "url_env names the environment variable that holds the webhook's URL (e.g. TIERSTORAGE_ALERT_WEBHOOK), never the URL itself.");
            else if (!EnvironmentVariableName().IsMatch(variable))
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, variableNode, variablePath,
                    "url_env must be an environment variable's name: letters, digits and '_', not starting with a digit.");
            else channel.UrlVariable = variable;
        }
        var filePath = Child(path, "url_file");
        if (map.Get("url_file") is { } fileNode && Text(fileNode, filePath) is { } file)
        {
            if (file.Contains("://", StringComparison.Ordinal))
                Add(FindingSeverity.Error, PolicyFindingCodes.SecretInPolicy, fileNode, filePath,
                    "url_file names a file in the workspace's credentials/ folder that holds the webhook's URL, never the URL itself.");
            else if (System.IO.Path.IsPathRooted(file) || file.Split('/', '\\').Any(part => part is ".." or ""))
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, fileNode, filePath,
                    $"url_file '{Shorten(file)}' must be a file name inside the workspace's credentials/ folder (no '..', not absolute).");
            else channel.UrlFile = file;
        }
        if (channel.UrlVariable is null && channel.UrlFile is null && !map.Contains("url_env") && !map.Contains("url_file"))
            Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, map.Node, variablePath,
                "A webhook channel needs url_env (the environment variable that holds its URL) or url_file (a file in credentials/).");
    }
}
