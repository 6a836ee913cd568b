using System.Globalization;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;
using YamlDotNet.RepresentationModel;

namespace TierStorage.Engine.Policy;

/// <summary><c>collections:</c> (issue 13): the user's folders kept as versioned data.</summary>
internal sealed partial class PolicyReader
{
    private static readonly string[] CollectionKeys =
        ["name", "path", "include", "exclude", "default_excludes", "priority", "schedule", "tier", "keep", "archive_after_days", "delete_after_days", "cleanup"];
    private static readonly string[] CleanupKeys = ["include", "exclude", "older_than_days", "require_backup"];
    private static readonly string[] KeepKeys = ["last", "daily", "weekly", "monthly", "yearly"];
    private static readonly Dictionary<string, CollectionPriority> Priorities = new(StringComparer.Ordinal)
    {
        ["high"] = CollectionPriority.High,
        ["medium"] = CollectionPriority.Medium,
        ["low"] = CollectionPriority.Low,
    };

    private void ReadCollections(YamlNode? node, string path, TierPolicy policy)
    {
        if (node is null || IsNull(node) || Sequence(node, path) is not { } items) return;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var collections = new List<CollectionDefinition>();
        for (var i = 0; i < items.Children.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            if (OpenMap(items.Children[i], itemPath, CollectionKeys) is not { } map) continue;
            var collection = new CollectionDefinition();
            if (Require(map, "name") is { } nameNode && Text(nameNode, Child(itemPath, "name")) is { } name)
            {
                if (!TierName().IsMatch(name))
                    Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, nameNode, Child(itemPath, "name"),
                        $"Collection name '{Shorten(name)}' must start with a letter or digit and use only letters, digits, '-', '_' and '.'.");
                else if (!names.Add(name))
                    Add(FindingSeverity.Error, PolicyFindingCodes.DuplicateRule, nameNode, Child(itemPath, "name"),
                        $"A collection named '{name}' already exists; each collection needs its own name.");
                else collection.Name = name;
            }
            if (Require(map, "path") is { } pathNode && Text(pathNode, Child(itemPath, "path")) is { } folder
                && ExpandedPath(pathNode, Child(itemPath, "path"), folder) is { } expanded)
                collection.Path = expanded;
            collection.Include = Globs(map.Get("include"), Child(itemPath, "include"));
            collection.Exclude = Globs(map.Get("exclude"), Child(itemPath, "exclude"));
            if (Bool(map.Get("default_excludes"), Child(itemPath, "default_excludes")) is { } defaults) collection.DefaultExcludes = defaults;
            if (map.Get("priority") is { } priorityNode && Text(priorityNode, Child(itemPath, "priority")) is { } priority)
            {
                if (Priorities.TryGetValue(priority, out var value)) collection.Priority = value;
                else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, priorityNode, Child(itemPath, "priority"),
                    $"Unknown priority '{Shorten(priority)}'{Suggest(priority, Priorities.Keys)}; expected high, medium or low.");
            }
            if (map.Get("schedule") is { } scheduleNode && Text(scheduleNode, Child(itemPath, "schedule")) is { } schedule)
            {
                if (CollectionSchedule.TryParse(schedule, out _, out var error)) collection.Schedule = schedule.Trim();
                else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, scheduleNode, Child(itemPath, "schedule"), error!);
            }
            if (map.Get("tier") is { } tierNode && Text(tierNode, Child(itemPath, "tier")) is { } tierName)
            {
                var tier = policy.GetTier(tierName);
                if (tier is null)
                    Add(FindingSeverity.Error, PolicyFindingCodes.MissingTier, tierNode, Child(itemPath, "tier"),
                        $"No tier named '{Shorten(tierName)}'{Suggest(tierName, policy.Tiers.Select(t => t.Name))}; a collection's versions go to one of the policy's tiers.");
                else if (tier.Level == TierLevel.Local)
                    Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, tierNode, Child(itemPath, "tier"),
                        $"Tier '{tier.Name}' is the workspace on this machine; a collection's versions go to a backup or archive tier (level 2 or 3).");
                else collection.Tier = tier.Name;
            }
            ReadKeep(map.Get("keep"), Child(itemPath, "keep"), collection.Keep);
            // 0 archives every version but the newest at the next run: Tier 2 keeps only what the next backup compares with.
            collection.ArchiveAfterDays = Days(map.Get("archive_after_days"), Child(itemPath, "archive_after_days"), 0);
            collection.DeleteAfterDays = Days(map.Get("delete_after_days"), Child(itemPath, "delete_after_days"), 1);
            if (collection is { ArchiveAfterDays: { } archive, DeleteAfterDays: { } delete } && delete < archive)
                Add(FindingSeverity.Error, PolicyFindingCodes.LifecycleOrder, map.Get("delete_after_days"), Child(itemPath, "delete_after_days"),
                    $"delete_after_days ({delete.ToString(CultureInfo.InvariantCulture)}) is before archive_after_days ({archive.ToString(CultureInfo.InvariantCulture)}); versions are archived, then deleted.");
            collection.Cleanup = ReadCleanup(map.Get("cleanup"), Child(itemPath, "cleanup"));
            if (collection.ArchiveAfterDays is not null && policy.GetTier(TierLevel.Archive) is null)
                Add(FindingSeverity.Warning, PolicyFindingCodes.MissingTier, map.Get("archive_after_days"), Child(itemPath, "archive_after_days"),
                    "The policy has no archive tier (level 3), so no version is archived; add one, or remove archive_after_days.");
            collections.Add(collection);
        }
        if (collections.Count > 0 && policy.GetTier(TierLevel.Backup) is null && collections.Any(c => c.Tier is null))
            Add(FindingSeverity.Error, PolicyFindingCodes.MissingTier, node, path,
                "The policy has no backup tier (level 2), so a collection without 'tier' has nowhere to go; add one or name a tier.");
        policy.Collections = collections;
    }

    private void ReadKeep(YamlNode? node, string path, CollectionRetention keep)
    {
        if (OpenMap(node, path, KeepKeys) is not { } map) return;
        keep.Last = Count(map.Get("last"), Child(path, "last"));
        keep.Daily = Count(map.Get("daily"), Child(path, "daily"));
        keep.Weekly = Count(map.Get("weekly"), Child(path, "weekly"));
        keep.Monthly = Count(map.Get("monthly"), Child(path, "monthly"));
        keep.Yearly = Count(map.Get("yearly"), Child(path, "yearly"));
        if (keep.KeepsEverything || keep.Last is > 0 || keep.Daily is > 0 || keep.Weekly is > 0 || keep.Monthly is > 0 || keep.Yearly is > 0) return;
        Add(FindingSeverity.Error, PolicyFindingCodes.OutOfRange, map.Node, path,
            "Every keep rule is 0, which would delete every version; keep at least one (for example last: 1), or leave keep out to keep every version.");
    }

    /// <summary>A collection's <c>cleanup:</c> rules. Each needs include globs and older_than_days: a rule that could delete
    /// every file of the folder the moment it is written is refused rather than guessed at.</summary>
    private List<CollectionCleanupRule> ReadCleanup(YamlNode? node, string path)
    {
        var rules = new List<CollectionCleanupRule>();
        if (node is null || IsNull(node) || Sequence(node, path) is not { } items) return rules;
        for (var i = 0; i < items.Children.Count; i++)
        {
            var rulePath = $"{path}[{i}]";
            if (OpenMap(items.Children[i], rulePath, CleanupKeys) is not { } map) continue;
            var rule = new CollectionCleanupRule { Exclude = Globs(map.Get("exclude"), Child(rulePath, "exclude")) };
            if (Require(map, "include") is { } includeNode)
            {
                rule.Include = Globs(includeNode, Child(rulePath, "include"));
                if (includeNode is YamlSequenceNode { Children.Count: 0 })
                    Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, includeNode, Child(rulePath, "include"),
                        "A clean-up rule needs at least one include glob naming the files it deletes (for example '**/*.log').");
            }
            if (Require(map, "older_than_days") is { } ageNode && Integer(ageNode, Child(rulePath, "older_than_days"), 1, 365_000) is { } days) rule.OlderThanDays = (int)days;
            if (Bool(map.Get("require_backup"), Child(rulePath, "require_backup")) is { } requireBackup) rule.RequireBackup = requireBackup;
            if (rule.Include.Count > 0 && rule.OlderThanDays > 0) rules.Add(rule);
        }
        return rules;
    }

    private int? Count(YamlNode? node, string path) => Integer(node, path, 0, 100_000) is { } value ? (int)value : null;

    private List<string> Globs(YamlNode? node, string path)
    {
        var globs = new List<string>();
        if (node is null || IsNull(node) || Sequence(node, path) is not { } items) return globs;
        for (var i = 0; i < items.Children.Count; i++)
        {
            var globPath = $"{path}[{i}]";
            if (Text(items.Children[i], globPath) is not { } glob) continue;
            if (CollectionGlob.TryParse(glob, ignoreCase: false, out var error) is null)
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, items.Children[i], globPath, $"Glob '{Shorten(glob)}': {error}");
            else globs.Add(glob);
        }
        return globs;
    }
}
