using System.Globalization;
using System.Text.RegularExpressions;
using TierStorage.Contracts;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TierStorage.Engine.Policy;

/// <summary>
/// Walks the YAML representation model of one policy, building the effective <see cref="TierPolicy"/> and
/// collecting every problem as a finding (file, line, column, key path) instead of stopping at the first.
/// Attribute deserialization is avoided on purpose: it loses positions and stops at the first error.
/// </summary>
internal sealed partial class PolicyReader
{
    private static readonly string[] RootKeys = ["version", "tiers", "retention", "lifecycle", "backup", "redaction", "pricing", "review", "encryption", "collections", "alerts", "catalog"];
    private static readonly string[] CommonTierKeys = ["name", "level", "kind", "capacity", "warn_percent", "critical_percent", "migrate_on_critical", "price_per_gb_month"];
    private static readonly string[] RetentionKeys = ["local_sessions", "backup_phases", "archive_days"];
    private static readonly string[] LifecycleKeys = ["data_class", "core_days", "main_days", "archive_after_days", "delete_after_days"];
    private static readonly string[] BackupKeys = ["on_session_complete", "compression_level"];
    private static readonly string[] RedactionKeys = ["use_defaults", "patterns"];
    private static readonly string[] PatternKeys = ["name", "pattern"];
    private static readonly string[] PricingKeys = ["currency", "archive_standard_retrieval_per_gb", "archive_bulk_retrieval_per_gb", "models"];
    private static readonly string[] ModelKeys = ["input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "long_context_threshold", "long_context_input", "long_context_output"];
    private static readonly string[] ReviewKeys = ["latency_targets_ms", "budget"];
    private static readonly string[] EncryptionKeys = ["enabled", "key_source", "passphrase_env", "kdf_iterations", "chunk_size", "tiers"];
    private static readonly string[] KeySources = ["key_file", "passphrase"];
    private static readonly string[] BudgetKeys = ["phase_usd", "task_usd", "daily_usd"];
    private static readonly string[] LongContextKeys = ["long_context_threshold", "long_context_input", "long_context_output"];
    private static readonly string[] Never = ["never", "forever"];
    private static readonly string[] Unlimited = ["unlimited", "unbounded"];
    private static readonly string[] StorageClasses =
        ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY", "EXPRESS_ONEZONE"];

    private static readonly Dictionary<string, TierKind> Kinds = new(StringComparer.Ordinal)
    {
        ["folder"] = TierKind.Folder,
        ["google-drive"] = TierKind.GoogleDrive,
        ["s3"] = TierKind.S3,
    };

    private static readonly Dictionary<TierKind, string[]> KindKeys = new()
    {
        [TierKind.Folder] = ["path"],
        [TierKind.GoogleDrive] = ["root_folder", "client_secrets", "api_endpoint", "auth_endpoint", "token_endpoint"],
        [TierKind.S3] = ["bucket", "region", "prefix", "storage_class", "endpoint", "force_path_style", "server_side_encryption", "profile"],
    };

    /// <summary>Credential-looking keys that <see cref="Redactor.IsSensitiveKeyName"/> does not already cover.</summary>
    private static readonly string[] CredentialKeys = ["access_key_id", "aws_access_key_id", "credentials", "credential", "passphrase", "encryption_key"];

    private readonly string _yaml;
    private readonly string _file;
    private readonly string _baseDirectory;
    private readonly Func<List<TierDefinition>> _defaultTiers;
    private readonly List<PolicyFinding> _findings = [];

    public PolicyReader(string yaml, string file, string baseDirectory, Func<List<TierDefinition>> defaultTiers)
    {
        _yaml = yaml;
        _file = file;
        _baseDirectory = baseDirectory;
        _defaultTiers = defaultTiers;
    }

    /// <summary>The effective policy (defaults wherever the file is silent or wrong) and every finding, in file order.</summary>
    public (TierPolicy Policy, IReadOnlyList<PolicyFinding> Findings) Read()
    {
        var policy = new TierPolicy
        {
            Source = _file,
            Lifecycle = PolicyDefaults.LifecycleRules(),
        };
        policy.Pricing.Models = PolicyDefaults.ModelPrices();
        policy.Review.LatencyTargetsMs = PolicyDefaults.LatencyTargetsMs();

        var root = LoadDocument();
        if (root is not null) ReadRoot(root, policy);
        return (policy, _findings.OrderBy(f => f.Line ?? 0).ThenBy(f => f.Column ?? 0).ToList());
    }

    private YamlNode? LoadDocument()
    {
        if (_yaml.Contains('\0'))
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.BinaryContent, (YamlNode?)null, null, "The policy contains NUL characters; it is not a YAML text file.");
            return null;
        }

        var stream = new YamlStream();
        var parser = new GuardedParser(new Parser(new StringReader(_yaml)), (mark, code, keyPath, message) => Add(FindingSeverity.Error, code, mark, keyPath, message));
        try
        {
            stream.Load(parser);
        }
        catch (GuardedParser.TooDeepException)
        {
            return null;
        }
        catch (YamlException ex)
        {
            AddSyntaxError(ex.Start, PositionPrefix().Replace(ex.Message, ""));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some unterminated flow collections instead of a YamlException.
            AddSyntaxError(parser.LastEnd, "unexpected end of a flow collection; a '[' or '{' is not closed.");
            return null;
        }

        var root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        if (root is null || IsNull(root))
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.EmptyDocument, root?.Start, null, "The policy is empty; it needs at least 'version: 1'.");
            return null;
        }
        if (root is not YamlMappingNode)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, root.Start, null,
                $"The policy must be a mapping of keys ({string.Join(", ", RootKeys)}), not {Describe(root)}.");
            return null;
        }
        return root;
    }

    private void AddSyntaxError(Mark at, string message)
    {
        // YamlDotNet reports tab indentation at the start of the document; point at the tab instead.
        var lines = _yaml.Split('\n');
        var tabLine = Array.FindIndex(lines, l => l.TakeWhile(c => c is ' ' or '\t').Contains('\t'));
        if (tabLine >= 0 && (message.Contains("tab", StringComparison.OrdinalIgnoreCase) || tabLine < at.Line))
        {
            _findings.Add(new PolicyFinding
            {
                Severity = FindingSeverity.Error,
                Code = PolicyFindingCodes.YamlSyntax,
                Message = $"YAML syntax error: {message} Tabs are not allowed for indentation in YAML; indent with spaces.",
                File = _file,
                Line = tabLine + 1,
                Column = lines[tabLine].IndexOf('\t') + 1,
            });
            return;
        }
        Add(FindingSeverity.Error, PolicyFindingCodes.YamlSyntax, at, null, $"YAML syntax error: {message}");
    }

    private void ReadRoot(YamlNode rootNode, TierPolicy policy)
    {
        var root = OpenMap(rootNode, "", RootKeys);
        if (root is null) return;

        ReadVersion(root, policy);
        ReadTiers(root, policy);
        ReadRetention(root.Get("retention"), "retention", policy.Retention);
        ReadLifecycle(root.Get("lifecycle"), "lifecycle", policy);
        ReadBackup(root.Get("backup"), "backup", policy.Backup);
        ReadRedaction(root.Get("redaction"), "redaction", policy.Redaction);
        ReadPricing(root.Get("pricing"), "pricing", policy.Pricing);
        ReadReview(root.Get("review"), "review", policy.Review);
        ReadEncryption(root.Get("encryption"), "encryption", policy);
        ReadCollections(root.Get("collections"), "collections", policy);
        ReadAlerts(root.Get("alerts"), "alerts", policy);
        ReadCatalog(root.Get("catalog"), "catalog", policy);
    }

    private void ReadVersion(Map root, TierPolicy policy)
    {
        if (Require(root, "version") is not { } node) return;
        if (Integer(node, "version", long.MinValue, long.MaxValue) is not { } version) return;
        if (version != 1)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.UnsupportedVersion, node, "version",
                $"Policy version {version} is not supported; this TierStorage reads version 1.");
            return;
        }
        policy.Version = 1;
    }

    private void ReadTiers(Map root, TierPolicy policy)
    {
        var node = root.Get("tiers");
        if (node is null)
        {
            if (!root.Contains("tiers")) policy.Tiers = _defaultTiers();
            else Add(FindingSeverity.Error, PolicyFindingCodes.MissingLocalTier, root.KeyNode("tiers"), "tiers", "'tiers' is empty; a level 1 (local) tier is required.");
            return;
        }
        if (Sequence(node, "tiers") is not { } items) return;

        var tiers = new List<(TierDefinition Tier, Map Map)>();
        for (var i = 0; i < items.Children.Count; i++)
        {
            if (ReadTier(items.Children[i], $"tiers[{i}]") is { } tier) tiers.Add(tier);
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var levels = new HashSet<TierLevel>();
        foreach (var (tier, map) in tiers)
        {
            if (tier.Name.Length > 0 && !names.Add(tier.Name))
                Add(FindingSeverity.Error, PolicyFindingCodes.DuplicateTier, map.Get("name"), Child(map.Path, "name"), $"Tier name '{tier.Name}' is used twice; names must be unique.");
            if (tier.Level != 0 && !levels.Add(tier.Level))
                Add(FindingSeverity.Error, PolicyFindingCodes.DuplicateTier, map.Get("level"), Child(map.Path, "level"), $"Two tiers have level {(int)tier.Level}; each level has exactly one tier.");
        }

        // A policy kept in a workspace (its tierstorage.yaml) is read with that workspace as the base directory.
        var workspace = TierPathRules.IsWorkspace(_baseDirectory) ? _baseDirectory : null;
        var folders = tiers.Where(t => t.Tier.Kind == TierKind.Folder && t.Tier.Level != TierLevel.Local && t.Tier.Path is not null).ToList();
        foreach (var (tier, map) in folders)
        {
            if (TierPathRules.Refusal(tier.Path!, workspace) is { } refusal)
                Add(FindingSeverity.Error, PolicyFindingCodes.UnsafeTierPath, map.Get("path"), Child(map.Path, "path"), refusal);
        }
        for (var i = 0; i < folders.Count; i++)
            for (var j = i + 1; j < folders.Count; j++)
                if (TierPathRules.Overlap(folders[i].Tier.Path!, folders[j].Tier.Path!))
                    Add(FindingSeverity.Error, PolicyFindingCodes.UnsafeTierPath, folders[j].Map.Get("path"), Child(folders[j].Map.Path, "path"),
                        $"Tiers '{folders[i].Tier.Name}' and '{folders[j].Tier.Name}' share the folder '{folders[j].Tier.Path}' (or one is inside the other); each tier needs a folder of its own.");

        // A tier whose level could not be read is not proof that level 1 is missing; its own finding says enough.
        var everyLevelKnown = tiers.Count == items.Children.Count && tiers.All(t => t.Tier.Level != 0);
        if (everyLevelKnown && !levels.Contains(TierLevel.Local))
            Add(FindingSeverity.Error, PolicyFindingCodes.MissingLocalTier, node, "tiers", "No level 1 tier: the local tier (the workspace itself) is required.");
        if (everyLevelKnown && levels.Contains(TierLevel.Local))
        {
            foreach (var (level, consequence) in new[] { (TierLevel.Backup, "sessions are never backed up off the local tier"), (TierLevel.Archive, "phases are never archived") })
            {
                if (!levels.Contains(level))
                    Add(FindingSeverity.Warning, PolicyFindingCodes.MissingTier, node, "tiers", $"No level {(int)level} tier: {consequence}.");
            }
        }
        policy.Tiers = tiers.Select(t => t.Tier).OrderBy(t => t.Level).ToList();
    }

    private (TierDefinition, Map)? ReadTier(YamlNode item, string path)
    {
        if (item is not YamlMappingNode mapping)
        {
            if (!IsRejected(item)) Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, item, path, $"A tier must be a mapping (name, level, kind, ...), not {Describe(item)}.");
            return null;
        }

        // The kind decides which keys are allowed, so it is read before the mapping is checked.
        TierKind? kind = null;
        var kindNode = mapping.Children.FirstOrDefault(p => p.Key is YamlScalarNode { Value: "kind" }).Value;
        if (Text(kindNode, Child(path, "kind")) is { } kindText)
        {
            if (Kinds.TryGetValue(kindText, out var known)) kind = known;
            else Add(FindingSeverity.Error, PolicyFindingCodes.UnknownKind, kindNode, Child(path, "kind"),
                $"Unknown tier kind '{kindText}'{Suggest(kindText, Kinds.Keys)}; kinds are folder, google-drive and s3.");
        }

        var allowed = kind is { } k ? CommonTierKeys.Concat(KindKeys[k]) : CommonTierKeys.Concat(KindKeys.Values.SelectMany(v => v));
        string? NotForKind(string key) => kind is { } current && KindKeys.FirstOrDefault(p => p.Key != current && p.Value.Contains(key)) is { Value: not null } other
            ? $"'{key}' applies to kind {KindName(other.Key)}, not {KindName(current)}."
            : null;
        var map = OpenMap(mapping, path, allowed.ToArray(), NotForKind)!;

        var tier = new TierDefinition();
        if (kind is { } tierKind) tier.Kind = tierKind;
        else if (kindNode is null || IsNull(kindNode)) Require(map, "kind");

        if (Require(map, "name") is { } nameNode && Text(nameNode, Child(path, "name")) is { } name)
        {
            if (TierName().IsMatch(name)) tier.Name = name;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, nameNode, Child(path, "name"),
                $"Tier name '{Shorten(name)}' must start with a letter or digit and use only letters, digits, '-', '_' and '.'.");
        }
        if (Require(map, "level") is { } levelNode && Integer(levelNode, Child(path, "level"), 1, 3) is { } level)
            tier.Level = (TierLevel)level;

        if (tier.Level == TierLevel.Local && kind is { } localKind && localKind != TierKind.Folder)
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, kindNode, Child(path, "kind"),
                $"Level 1 is the workspace on this machine, so its kind must be folder, not {KindName(localKind)}.");

        ReadCapacity(map, tier);
        ReadThresholds(map, tier);

        if (Number(map.Get("price_per_gb_month"), Child(path, "price_per_gb_month"), 0m, null) is { } price) tier.PricePerGbMonth = price;
        else if (!map.Contains("price_per_gb_month") && kind is TierKind.GoogleDrive or TierKind.S3)
            Add(FindingSeverity.Warning, PolicyFindingCodes.NoPrice, mapping, Child(path, "price_per_gb_month"),
                "No price_per_gb_month: cost reports count this tier as free.");

        switch (kind)
        {
            case TierKind.Folder:
                ReadFolder(map, tier);
                break;
            case TierKind.GoogleDrive:
                tier.RootFolder = Text(Require(map, "root_folder"), Child(path, "root_folder"));
                tier.ClientSecrets = Text(map.Get("client_secrets"), Child(path, "client_secrets"));
                tier.ApiEndpoint = HttpUrl(map, "api_endpoint");
                tier.AuthEndpoint = HttpUrl(map, "auth_endpoint");
                tier.TokenEndpoint = HttpUrl(map, "token_endpoint");
                break;
            case TierKind.S3:
                ReadS3(map, tier);
                break;
        }
        return (tier, map);
    }

    private void ReadCapacity(Map map, TierDefinition tier)
    {
        var path = Child(map.Path, "capacity");
        var node = map.Get("capacity");
        if (node is null)
        {
            if (!map.Contains("capacity"))
                Add(FindingSeverity.Warning, PolicyFindingCodes.NoCapacity, map.Node, path,
                    "No capacity: usage is shown without a percentage and no warning comes before the tier fills up. Set a size, or 'unlimited' to say so on purpose.");
            return;
        }
        if (Scalar(node, path, "a size such as 20MB") is not { } scalar) return;
        if (Unlimited.Contains(scalar.Value, StringComparer.OrdinalIgnoreCase)) return;
        if (!SizeParser.TryParse(scalar.Value!, out var bytes))
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path,
                $"Expected a size such as 20MB, 1.5GiB, 15 GB, a number of bytes or 'unlimited', found '{Shorten(scalar.Value)}'.");
            return;
        }
        if (bytes <= 0)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.OutOfRange, node, path, "Capacity must be greater than zero.");
            return;
        }
        tier.CapacityBytes = bytes;
    }

    private void ReadThresholds(Map map, TierDefinition tier)
    {
        var warnNode = map.Get("warn_percent");
        var criticalNode = map.Get("critical_percent");
        var warn = Number(warnNode, Child(map.Path, "warn_percent"), 0m, 100m);
        var critical = Number(criticalNode, Child(map.Path, "critical_percent"), 0m, 100m);
        if (warn is { } w) tier.WarnPercent = (double)w;
        if (critical is { } c) tier.CriticalPercent = (double)c;
        tier.MigrateOnCritical = Bool(map.Get("migrate_on_critical"), Child(map.Path, "migrate_on_critical")) ?? tier.MigrateOnCritical;
        if (tier.CriticalPercent < tier.WarnPercent && (warn is not null || critical is not null))
        {
            var (node, key) = criticalNode is not null ? (criticalNode, "critical_percent") : (warnNode, "warn_percent");
            Add(FindingSeverity.Error, PolicyFindingCodes.ThresholdOrder, node, Child(map.Path, key),
                $"critical_percent ({tier.CriticalPercent}) is below warn_percent ({tier.WarnPercent}); the critical threshold must be at or above the warning one.");
        }
    }

    private void ReadFolder(Map map, TierDefinition tier)
    {
        var path = Child(map.Path, "path");
        var node = map.Get("path");
        if (node is null)
        {
            // Level 1 is the workspace; the workspace fills in its own directory.
            if (tier.Level != TierLevel.Local && tier.Level != 0)
                Require(map, "path");
            return;
        }
        if (Text(node, path) is not { } written) return;
        var unset = new List<string>();
        try
        {
            var expanded = PathExpander.Expand(written, _baseDirectory, unset);
            if (unset.Count > 0)
                Add(FindingSeverity.Error, PolicyFindingCodes.UnsetVariable, node, path,
                    $"Environment variable {string.Join(", ", unset.Distinct())} in '{written}' is not set.");
            else tier.Path = expanded;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, node, path, $"'{Shorten(written)}' is not a valid path: {ex.Message}");
        }
    }

    /// <summary>An optional absolute http(s) URL; anything else is an error on the key, and null is returned.</summary>
    private string? HttpUrl(Map map, string key)
    {
        if (Text(map.Get(key), Child(map.Path, key)) is not { } url) return null;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return url;
        Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get(key), Child(map.Path, key),
            $"'{key}' value '{Shorten(url)}' must be an absolute http:// or https:// URL.");
        return null;
    }

    private void ReadS3(Map map, TierDefinition tier)
    {
        var path = map.Path;
        if (Text(Require(map, "bucket"), Child(path, "bucket")) is { } bucket)
        {
            if (BucketName().IsMatch(bucket)) tier.Bucket = bucket;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("bucket"), Child(path, "bucket"),
                $"'{Shorten(bucket)}' is not a valid S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-').");
        }
        tier.Region = Text(Require(map, "region"), Child(path, "region"));
        tier.Prefix = Text(map.Get("prefix"), Child(path, "prefix"));
        tier.Profile = Text(map.Get("profile"), Child(path, "profile"));
        tier.ForcePathStyle = Bool(map.Get("force_path_style"), Child(path, "force_path_style")) ?? false;

        tier.StorageClass = "DEEP_ARCHIVE";
        if (Text(map.Get("storage_class"), Child(path, "storage_class")) is { } storageClass)
        {
            var normalized = storageClass.ToUpperInvariant();
            if (StorageClasses.Contains(normalized)) tier.StorageClass = normalized;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("storage_class"), Child(path, "storage_class"),
                $"Unknown storage class '{Shorten(storageClass)}'{Suggest(normalized, StorageClasses)}; expected one of {string.Join(", ", StorageClasses)}.");
        }

        if (Text(map.Get("endpoint"), Child(path, "endpoint")) is { } endpoint)
        {
            if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") tier.Endpoint = endpoint;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("endpoint"), Child(path, "endpoint"),
                $"Endpoint '{Shorten(endpoint)}' must be an absolute http:// or https:// URL.");
        }

        if (Text(map.Get("server_side_encryption"), Child(path, "server_side_encryption")) is { } sse)
        {
            if (string.Equals(sse, "AES256", StringComparison.OrdinalIgnoreCase)) tier.ServerSideEncryption = "AES256";
            else if (string.Equals(sse, "aws:kms", StringComparison.OrdinalIgnoreCase)) tier.ServerSideEncryption = "aws:kms";
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("server_side_encryption"), Child(path, "server_side_encryption"),
                $"server_side_encryption must be AES256 or aws:kms, not '{Shorten(sse)}'.");
        }
    }

    private void ReadRetention(YamlNode? node, string path, RetentionPolicy retention)
    {
        if (OpenMap(node, path, RetentionKeys) is not { } map) return;
        if (Integer(map.Get("local_sessions"), Child(path, "local_sessions"), 1, 10_000) is { } local) retention.LocalSessions = (int)local;
        if (Integer(map.Get("backup_phases"), Child(path, "backup_phases"), 1, 10_000) is { } phases) retention.BackupPhases = (int)phases;
        retention.ArchiveDays = Days(map.Get("archive_days"), Child(path, "archive_days"), 1);
    }

    private void ReadLifecycle(YamlNode? node, string path, TierPolicy policy)
    {
        if (node is null || Sequence(node, path) is not { } items) return;
        var rules = new Dictionary<string, LifecycleRule>(StringComparer.Ordinal);
        for (var i = 0; i < items.Children.Count; i++)
        {
            var rulePath = $"{path}[{i}]";
            if (OpenMap(items.Children[i], rulePath, LifecycleKeys) is not { } map) continue;
            var classNode = Require(map, "data_class");
            var dataClass = Text(classNode, Child(rulePath, "data_class"));
            if (dataClass is not null && !PolicyDefaults.DataClasses.Contains(dataClass))
            {
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, classNode, Child(rulePath, "data_class"),
                    $"Unknown data class '{Shorten(dataClass)}'{Suggest(dataClass, PolicyDefaults.DataClasses)}; expected one of {string.Join(", ", PolicyDefaults.DataClasses)}.");
                dataClass = null;
            }

            var rule = new LifecycleRule
            {
                DataClass = dataClass ?? "",
                CoreDays = Days(map.Get("core_days"), Child(rulePath, "core_days"), 0),
                MainDays = Days(map.Get("main_days"), Child(rulePath, "main_days"), 0),
                ArchiveAfterDays = Days(map.Get("archive_after_days"), Child(rulePath, "archive_after_days"), 0),
                DeleteAfterDays = Days(map.Get("delete_after_days"), Child(rulePath, "delete_after_days"), 0),
            };
            CheckStageOrder(map, rule);

            if (dataClass is null) continue;
            if (!rules.TryAdd(dataClass, rule))
                Add(FindingSeverity.Error, PolicyFindingCodes.DuplicateRule, classNode, Child(rulePath, "data_class"),
                    $"A rule for '{dataClass}' already exists; each data class has one rule.");
        }
        policy.Lifecycle = policy.Lifecycle.Select(d => rules.GetValueOrDefault(d.DataClass, d)).ToList();
    }

    /// <summary>Data moves core → main → archive → delete, so a later stage may not come earlier than an earlier one.</summary>
    private void CheckStageOrder(Map map, LifecycleRule rule)
    {
        var stages = new (string Key, int? Days)[]
        {
            ("core_days", rule.CoreDays), ("main_days", rule.MainDays), ("archive_after_days", rule.ArchiveAfterDays), ("delete_after_days", rule.DeleteAfterDays),
        };
        for (var later = 1; later < stages.Length; later++)
        {
            if (stages[later].Days is not { } laterDays) continue;
            for (var earlier = 0; earlier < later; earlier++)
            {
                if (stages[earlier].Days is not { } earlierDays || laterDays >= earlierDays) continue;
                Add(FindingSeverity.Error, PolicyFindingCodes.LifecycleOrder, map.Get(stages[later].Key), Child(map.Path, stages[later].Key),
                    $"{stages[later].Key} ({laterDays}) is before {stages[earlier].Key} ({earlierDays}); the stages run core → main → archive → delete, so each must be at or after the one before.");
                break;
            }
        }
    }

    private void ReadBackup(YamlNode? node, string path, BackupPolicy backup)
    {
        if (OpenMap(node, path, BackupKeys) is not { } map) return;
        if (Bool(map.Get("on_session_complete"), Child(path, "on_session_complete")) is { } onComplete) backup.OnSessionComplete = onComplete;
        if (Integer(map.Get("compression_level"), Child(path, "compression_level"), 1, 9) is { } level) backup.CompressionLevel = (int)level;
    }

    private void ReadRedaction(YamlNode? node, string path, RedactionPolicy redaction)
    {
        if (OpenMap(node, path, RedactionKeys) is not { } map) return;
        if (Bool(map.Get("use_defaults"), Child(path, "use_defaults")) is { } useDefaults) redaction.UseDefaults = useDefaults;
        if (map.Get("patterns") is not { } patternsNode || Sequence(patternsNode, Child(path, "patterns")) is not { } items) return;

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Children.Count; i++)
        {
            var patternPath = $"{path}.patterns[{i}]";
            if (OpenMap(items.Children[i], patternPath, PatternKeys) is not { } patternMap) continue;
            var nameNode = Require(patternMap, "name");
            var name = Text(nameNode, Child(patternPath, "name"));
            if (name is not null && !PatternName().IsMatch(name))
            {
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, nameNode, Child(patternPath, "name"),
                    $"Pattern name '{Shorten(name)}' must use lower-case letters, digits and '_' (it appears in [REDACTED:<name>]).");
                name = null;
            }
            else if (name is not null && redaction.UseDefaults && Redactor.DefaultPatterns.Any(d => d.Name == name))
            {
                Add(FindingSeverity.Error, PolicyFindingCodes.DuplicatePattern, nameNode, Child(patternPath, "name"),
                    $"'{name}' is a built-in pattern; pick another name, or set use_defaults: false to replace the built-ins.");
                name = null;
            }
            else if (name is not null && !names.Add(name))
            {
                Add(FindingSeverity.Error, PolicyFindingCodes.DuplicatePattern, nameNode, Child(patternPath, "name"), $"Pattern name '{name}' is used twice.");
                name = null;
            }

            var patternNode = Require(patternMap, "pattern");
            var pattern = Text(patternNode, Child(patternPath, "pattern"));
            if (pattern is not null && !IsUsableRegex(pattern, patternNode!, Child(patternPath, "pattern"))) pattern = null;
            if (name is not null && pattern is not null) redaction.Patterns.Add(new RedactionPattern { Name = name, Pattern = pattern });
        }
    }

    private bool IsUsableRegex(string pattern, YamlNode node, string path)
    {
        try
        {
            var regex = Redactor.CreateUserRegex(pattern, TimeSpan.FromMilliseconds(100));
            // A pattern that matches nothing-at-all would stamp [REDACTED] between every character of every event.
            if (!regex.Match("").Success) return true;
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidRegex, node, path, "The pattern matches empty text; it would redact between every character.");
        }
        catch (ArgumentException ex)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidRegex, node, path, $"Not a valid .NET regular expression: {ex.Message}");
        }
        catch (NotSupportedException)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidRegex, node, path,
                "Redaction patterns run on .NET's linear-time engine (RegexOptions.NonBacktracking), so no text can stall a hook; "
                + "it has no lookarounds ((?=, (?!, (?<=, (?<!), backreferences, atomic groups or conditionals. Rewrite the pattern without them.");
        }
        catch (RegexMatchTimeoutException)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidRegex, node, path, "The pattern takes too long even on empty text.");
        }
        return false;
    }

    private void ReadPricing(YamlNode? node, string path, PricingPolicy pricing)
    {
        if (OpenMap(node, path, PricingKeys) is not { } map) return;
        if (Text(map.Get("currency"), Child(path, "currency")) is { } currency)
        {
            if (CurrencyCode().IsMatch(currency)) pricing.Currency = currency;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("currency"), Child(path, "currency"),
                $"Currency '{Shorten(currency)}' must be a three-letter ISO 4217 code such as USD or EUR.");
        }
        if (Number(map.Get("archive_standard_retrieval_per_gb"), Child(path, "archive_standard_retrieval_per_gb"), 0m, null) is { } standard)
            pricing.ArchiveStandardRetrievalPerGb = standard;
        if (Number(map.Get("archive_bulk_retrieval_per_gb"), Child(path, "archive_bulk_retrieval_per_gb"), 0m, null) is { } bulk)
            pricing.ArchiveBulkRetrievalPerGb = bulk;

        var modelsPath = Child(path, "models");
        foreach (var (modelId, _, valueNode) in Entries(map.Get("models"), modelsPath, "model id", "prices"))
        {
            if (ReadModelPrice(valueNode, Child(modelsPath, modelId)) is { } price) pricing.Models[modelId] = price;
        }
    }

    private ModelPrice? ReadModelPrice(YamlNode node, string path)
    {
        if (OpenMap(node, path, ModelKeys) is not { } map)
        {
            if (IsNull(node)) Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, node, Child(path, "input"), "A model needs at least input and output prices.");
            return null;
        }
        var input = Number(Require(map, "input"), Child(path, "input"), 0m, null);
        var output = Number(Require(map, "output"), Child(path, "output"), 0m, null);
        var cacheWrite5m = Number(map.Get("cache_write_5m"), Child(path, "cache_write_5m"), 0m, null);
        var cacheWrite1h = Number(map.Get("cache_write_1h"), Child(path, "cache_write_1h"), 0m, null);
        var cacheRead = Number(map.Get("cache_read"), Child(path, "cache_read"), 0m, null);
        var threshold = Integer(map.Get("long_context_threshold"), Child(path, "long_context_threshold"), 1, long.MaxValue);
        var longInput = Number(map.Get("long_context_input"), Child(path, "long_context_input"), 0m, null);
        var longOutput = Number(map.Get("long_context_output"), Child(path, "long_context_output"), 0m, null);

        // Long-context rates only make sense as a set: a threshold without rates (or rates without a threshold) would misprice.
        if (LongContextKeys.Any(map.Contains))
        {
            foreach (var key in LongContextKeys.Where(k => !map.Contains(k)))
                Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, map.Node, Child(path, key),
                    $"Missing '{key}': long_context_threshold, long_context_input and long_context_output go together.");
        }
        if (input is not { } inputPrice || output is not { } outputPrice) return null;

        var price = PolicyDefaults.Price(inputPrice, outputPrice);
        price.CacheWrite5m = cacheWrite5m ?? price.CacheWrite5m;
        price.CacheWrite1h = cacheWrite1h ?? price.CacheWrite1h;
        price.CacheRead = cacheRead ?? price.CacheRead;
        price.LongContextThreshold = threshold;
        price.LongContextInput = longInput;
        price.LongContextOutput = longOutput;
        return price;
    }

    private void ReadReview(YamlNode? node, string path, ReviewPolicy review)
    {
        if (OpenMap(node, path, ReviewKeys) is not { } map) return;

        // Any event type may have a target (a custom recorder's types too), so the keys are checked for shape only.
        var targetsPath = Child(path, "latency_targets_ms");
        foreach (var (type, keyNode, valueNode) in Entries(map.Get("latency_targets_ms"), targetsPath, "event type", "target in milliseconds"))
        {
            if (!EventTypeName().IsMatch(type))
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, keyNode, Child(targetsPath, type),
                    $"Event type '{Shorten(type)}' must start with a letter and use only letters, digits and '_' (as in tool_call).");
            else if (Integer(valueNode, Child(targetsPath, type), 1, long.MaxValue) is { } target)
            {
                review.LatencyTargetsMs[type] = target;
                // Custom event types may have targets, but a near miss of a built-in one is almost always a typo that
                // would leave the built-in type at its default target without a word.
                if (!Workspace.EventJson.TypeNames.Contains(type) && Suggest(type, Workspace.EventJson.TypeNames) is { Length: > 0 } suggestion)
                    Add(FindingSeverity.Warning, PolicyFindingCodes.UnknownKey, keyNode, Child(targetsPath, type),
                        $"'{Shorten(type)}' is not a built-in event type{suggestion}; the target applies only to events of that custom type.");
            }
        }

        if (OpenMap(map.Get("budget"), Child(path, "budget"), BudgetKeys) is not { } budget) return;
        review.Budget.PhaseUsd = Number(budget.Get("phase_usd"), Child(budget.Path, "phase_usd"), 0m, null);
        review.Budget.TaskUsd = Number(budget.Get("task_usd"), Child(budget.Path, "task_usd"), 0m, null);
        review.Budget.DailyUsd = Number(budget.Get("daily_usd"), Child(budget.Path, "daily_usd"), 0m, null);
    }

    private void ReadEncryption(YamlNode? node, string path, TierPolicy policy)
    {
        if (OpenMap(node, path, EncryptionKeys) is not { } map) return;
        var encryption = policy.Encryption;
        // A section is written to turn encryption on; 'enabled: false' keeps the settings while switching it off.
        encryption.Enabled = Bool(map.Get("enabled"), Child(path, "enabled")) ?? true;

        var sourcePath = Child(path, "key_source");
        if (Text(map.Get("key_source"), sourcePath) is { } source)
        {
            if (source == "key_file") encryption.KeySource = EncryptionKeySource.KeyFile;
            else if (source == "passphrase") encryption.KeySource = EncryptionKeySource.Passphrase;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("key_source"), sourcePath,
                $"Unknown key source '{Shorten(source)}'{Suggest(source, KeySources)}; expected key_file (credentials/tier_encryption.key, made by Initialize-TierWorkspace -Encrypt) or passphrase (with passphrase_env).");
        }

        var variablePath = Child(path, "passphrase_env");
        if (Text(map.Get("passphrase_env"), variablePath) is { } variable)
        {
            if (!EnvironmentVariableName().IsMatch(variable))
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.Get("passphrase_env"), variablePath,
                    "passphrase_env names the environment variable that holds the passphrase (letters, digits and '_', e.g. TIERSTORAGE_PASSPHRASE), never the passphrase itself.");
            else encryption.PassphraseVariable = variable;
        }
        if (encryption.KeySource == EncryptionKeySource.Passphrase && encryption.PassphraseVariable is null && !map.Contains("passphrase_env"))
            Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, map.Node, variablePath,
                "key_source: passphrase needs passphrase_env, the environment variable that holds the passphrase.");
        else if (encryption.KeySource == EncryptionKeySource.KeyFile && map.Contains("passphrase_env"))
            Add(FindingSeverity.Warning, PolicyFindingCodes.KeyNotForKind, map.KeyNode("passphrase_env"), variablePath,
                "passphrase_env is only read with key_source: passphrase; this policy uses the key file.");

        if (Integer(map.Get("kdf_iterations"), Child(path, "kdf_iterations"), EncryptionPolicy.MinimumKdfIterations, 100_000_000) is { } iterations)
            encryption.KdfIterations = (int)iterations;

        var chunkPath = Child(path, "chunk_size");
        if (map.Get("chunk_size") is { } chunkNode && Scalar(chunkNode, chunkPath, "a size such as 1MB") is { } chunk)
        {
            if (!SizeParser.TryParse(chunk.Value!, out var bytes))
                Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, chunkNode, chunkPath, $"Expected a size such as 1MB or 256KiB, found '{Shorten(chunk.Value)}'.");
            else if (bytes is < Packaging.EncryptionFormat.MinChunkSize or > Packaging.EncryptionFormat.MaxChunkSize)
                Add(FindingSeverity.Error, PolicyFindingCodes.OutOfRange, chunkNode, chunkPath, "The chunk size must be from 4KiB to 16MiB.");
            else encryption.ChunkSizeBytes = (int)bytes;
        }

        var tiersPath = Child(path, "tiers");
        if (map.Get("tiers") is { } tiersNode && Sequence(tiersNode, tiersPath) is { } tiers)
        {
            foreach (var item in tiers.Children)
            {
                if (Text(item, tiersPath) is not { } name) continue;
                var tier = policy.GetTier(name);
                if (tier is null)
                    Add(FindingSeverity.Error, PolicyFindingCodes.MissingTier, item, tiersPath,
                        $"No tier named '{Shorten(name)}'{Suggest(name, policy.Tiers.Select(t => t.Name))}; tiers: {string.Join(", ", policy.Tiers.Select(t => t.Name))}.");
                else if (tier.Level == TierLevel.Local)
                    Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, item, tiersPath,
                        $"'{name}' is the local tier, which is never encrypted (the workspace is the user's own folder); list the backup or archive tiers.");
                else encryption.Tiers.Add(tier.Name);
            }
        }
    }

    /// <summary>A path from the policy with environment variables and ~ expanded, relative to the policy's folder; null
    /// (and a finding at the key) when a variable is not set or the result is not a path.</summary>
    private string? ExpandedPath(YamlNode node, string keyPath, string value)
    {
        var unset = new List<string>();
        try
        {
            var expanded = PathExpander.Expand(value, _baseDirectory, unset);
            if (unset.Count == 0) return expanded;
            Add(FindingSeverity.Error, PolicyFindingCodes.UnsetVariable, node, keyPath, $"Environment variable {string.Join(", ", unset.Distinct())} in '{value}' is not set.");
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, node, keyPath, $"'{Shorten(value)}' is not a valid path: {ex.Message}");
        }
        return null;
    }

    // ---- mappings and scalars ----

    /// <summary>The entries of a mapping whose keys are names the user chooses (model ids, event types), so no key list
    /// applies; a key that is not plain text is a finding and skipped.</summary>
    private IEnumerable<(string Key, YamlNode KeyNode, YamlNode Value)> Entries(YamlNode? node, string path, string keyName, string valueName)
    {
        if (node is null) yield break;
        if (node is not YamlMappingNode mapping)
        {
            if (!IsRejected(node)) Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected a mapping of {keyName} to {valueName}, found {Describe(node)}.");
            yield break;
        }
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is YamlScalarNode { Value: { Length: > 0 } key } && !IsRejected(keyNode)) yield return (key, keyNode, valueNode);
            else if (!IsRejected(keyNode)) Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, keyNode, path, $"A {keyName} must be plain text.");
        }
    }

    /// <summary>Opens a mapping and reports every key that is not allowed: credentials, keys of another tier kind, typos.</summary>
    private Map? OpenMap(YamlNode? node, string path, IReadOnlyCollection<string> allowed, Func<string, string?>? notForKind = null)
    {
        if (node is null || IsRejected(node) || IsNull(node)) return null;
        if (node is not YamlMappingNode mapping)
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, NullIfEmpty(path), $"Expected a mapping of keys ({string.Join(", ", allowed)}), found {Describe(node)}.");
            return null;
        }

        var entries = new Dictionary<string, (YamlScalarNode Key, YamlNode Value)>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey || IsRejected(keyNode))
            {
                if (!IsRejected(keyNode)) Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, keyNode, NullIfEmpty(path), "Keys must be plain text.");
                continue;
            }
            var keyPath = Child(path, key);
            if (allowed.Contains(key)) entries[key] = (scalarKey, valueNode);
            else if (Redactor.IsSensitiveKeyName(key) || CredentialKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
                Add(FindingSeverity.Error, PolicyFindingCodes.SecretInPolicy, keyNode, keyPath,
                    $"'{key}' looks like a credential. Secrets never go in the policy: the S3 tier uses the AWS credential chain (environment, profile, SSO), Google Drive the files in the workspace's credentials/ folder, encryption a key file there or passphrase_env.");
            else if (notForKind?.Invoke(key) is { } hint)
                Add(FindingSeverity.Error, PolicyFindingCodes.KeyNotForKind, keyNode, keyPath, hint);
            else
                Add(FindingSeverity.Error, PolicyFindingCodes.UnknownKey, keyNode, keyPath,
                    $"Unknown key '{key}'{Suggest(key, allowed)}; allowed here: {string.Join(", ", allowed)}.");
        }
        return new Map(mapping, path, entries);
    }

    private YamlNode? Require(Map map, string key)
    {
        if (map.Get(key) is { } node) return node;
        if (map.Contains(key) && IsRejected(map.Raw(key)!)) return null;
        var at = map.Contains(key) ? (YamlNode)map.KeyNode(key)! : map.Node;
        Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, at, Child(map.Path, key),
            map.Contains(key) ? $"'{key}' needs a value." : $"Missing required key '{key}'.");
        return null;
    }

    private YamlSequenceNode? Sequence(YamlNode node, string path)
    {
        if (node is YamlSequenceNode sequence) return sequence;
        if (!IsRejected(node)) Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected a list (items starting with '-'), found {Describe(node)}.");
        return null;
    }

    private YamlScalarNode? Scalar(YamlNode? node, string path, string expected)
    {
        if (node is null || IsRejected(node) || IsNull(node)) return null;
        if (node is YamlScalarNode scalar) return scalar;
        Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected {expected}, found {Describe(node)}.");
        return null;
    }

    private string? Text(YamlNode? node, string path) => Scalar(node, path, "text")?.Value;

    private long? Integer(YamlNode? node, string path, long min, long max)
    {
        if (Scalar(node, path, "a whole number") is not { } scalar) return null;
        if (!IsPlain(scalar) || !long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected a whole number, found {Quote(scalar)}.");
            return null;
        }
        if (value >= min && value <= max) return value;
        Add(FindingSeverity.Error, PolicyFindingCodes.OutOfRange, node, path, $"{value} is out of range; {RangeText(min, max)}.");
        return null;
    }

    private decimal? Number(YamlNode? node, string path, decimal min, decimal? max)
    {
        if (Scalar(node, path, "a number") is not { } scalar) return null;
        if (!IsPlain(scalar) || !decimal.TryParse(scalar.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value))
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected a number, found {Quote(scalar)}.");
            return null;
        }
        if (value >= min && (max is null || value <= max)) return value;
        Add(FindingSeverity.Error, PolicyFindingCodes.OutOfRange, node, path,
            $"{value.ToString(CultureInfo.InvariantCulture)} is out of range; {(max is { } m ? $"expected {min} to {m}" : min == 0 ? "it must not be negative" : $"expected at least {min}")}.");
        return null;
    }

    private bool? Bool(YamlNode? node, string path)
    {
        if (Scalar(node, path, "true or false") is not { } scalar) return null;
        if (IsPlain(scalar) && bool.TryParse(scalar.Value, out var value)) return value;
        Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected true or false, found {Quote(scalar)}.");
        return null;
    }

    /// <summary>A day count; absent, 'never' and 'forever' all mean null.</summary>
    private int? Days(YamlNode? node, string path, int min)
    {
        if (Scalar(node, path, "a number of days, 'never' or 'forever'") is not { } scalar) return null;
        if (Never.Contains(scalar.Value, StringComparer.OrdinalIgnoreCase)) return null;
        if (!IsPlain(scalar) || !long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var days))
        {
            Add(FindingSeverity.Error, PolicyFindingCodes.WrongType, node, path, $"Expected a number of days, 'never' or 'forever', found {Quote(scalar)}.");
            return null;
        }
        const int maxDays = 365_000;
        if (days >= min && days <= maxDays) return (int)days;
        Add(FindingSeverity.Error, PolicyFindingCodes.OutOfRange, node, path,
            $"{days} days is out of range; {RangeText(min, maxDays)} (or 'never').");
        return null;
    }

    private void Add(FindingSeverity severity, string code, YamlNode? node, string? keyPath, string message) =>
        Add(severity, code, node?.Start, keyPath, message);

    private void Add(FindingSeverity severity, string code, Mark? mark, string? keyPath, string message) =>
        _findings.Add(new PolicyFinding
        {
            Severity = severity,
            Code = code,
            Message = message,
            File = _file,
            Line = mark is { } m ? (int)m.Line : null,
            Column = mark is { } c ? (int)c.Column : null,
            KeyPath = keyPath,
        });

    private static bool IsRejected(YamlNode node) => !node.Tag.IsEmpty && !node.Tag.IsNonSpecific && node.Tag.Value == GuardedParser.RejectedTag;

    /// <summary>YAML's null: an empty value, ~ or null, unquoted.</summary>
    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode scalar && scalar.Tag.IsEmpty && IsPlain(scalar) && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private static bool IsPlain(YamlScalarNode scalar) => scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Tag.IsEmpty;

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode scalar => $"the value {Quote(scalar)}",
        _ => "something else",
    };

    private static string Quote(YamlScalarNode scalar) =>
        IsPlain(scalar) ? $"'{Shorten(scalar.Value)}'" : $"the quoted text '{Shorten(scalar.Value)}' (remove the quotes for a number or true/false)";

    private static string Shorten(string? value) => value is null ? "" : value.Length <= 60 ? value : value[..57] + "...";

    private static string RangeText(long min, long max) =>
        max == long.MaxValue ? (min == 0 ? "it must not be negative" : $"expected at least {min}") : $"expected {min} to {max}";

    private static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string? NullIfEmpty(string path) => path.Length == 0 ? null : path;

    private static string KindName(TierKind kind) => Kinds.First(p => p.Value == kind).Key;

    /// <summary>" (did you mean 'x'?)" for the nearest candidate within a small edit distance, otherwise "".</summary>
    private static string Suggest(string given, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Candidate: c, Distance: EditDistance(given.ToLowerInvariant(), c.ToLowerInvariant())))
            .OrderBy(x => x.Distance)
            .FirstOrDefault();
        return best.Candidate is not null && best.Distance <= Math.Max(2, given.Length / 3) ? $" (did you mean '{best.Candidate}'?)" : "";
    }

    private static int EditDistance(string a, string b)
    {
        if (a.Length > 100 || b.Length > 100) return int.MaxValue;
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex PositionPrefix();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
    private static partial Regex TierName();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex(@"^[a-z0-9_]{1,64}$")]
    private static partial Regex PatternName();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex EventTypeName();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvironmentVariableName();

    [GeneratedRegex(@"^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();

    /// <summary>A checked mapping: the allowed keys with their nodes; explicit nulls read as absent.</summary>
    private sealed class Map(YamlMappingNode node, string path, Dictionary<string, (YamlScalarNode Key, YamlNode Value)> entries)
    {
        public YamlMappingNode Node { get; } = node;
        public string Path { get; } = path;
        public bool Contains(string key) => entries.ContainsKey(key);
        public YamlScalarNode? KeyNode(string key) => entries.TryGetValue(key, out var entry) ? entry.Key : null;
        public YamlNode? Raw(string key) => entries.TryGetValue(key, out var entry) ? entry.Value : null;
        public YamlNode? Get(string key) => Raw(key) is { } value && !IsNull(value) && !IsRejected(value) ? value : null;
    }
}
