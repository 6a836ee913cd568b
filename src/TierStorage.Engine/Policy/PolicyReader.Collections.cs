using System.Globalization;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;
using YamlDotNet.RepresentationModel;

namespace TierStorage.Engine.Policy;

/// <summary><c>collections:</c> (issue 13): the user's folders kept as versioned data.</summary>
internal sealed partial class PolicyReader
{
    private static readonly string[] CollectionKeys =
        ["name", "path", "include", "exclude", "default_excludes", "priority", "schedule", "tier", "keep", "archive_after_days", "delete_after_days"];
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
            collection.ArchiveAfterDays = Days(map.Get("archive_after_days"), Child(itemPath, "archive_after_days"), 1);
            collection.DeleteAfterDays = Days(map.Get("delete_after_days"), Child(itemPath, "delete_after_days"), 1);
            if (collection is { ArchiveAfterDays: { } archive, DeleteAfterDays: { } delete } && delete < archive)
                Add(FindingSeverity.Error, PolicyFindingCodes.LifecycleOrder, map.Get("delete_after_days"), Child(itemPath, "delete_after_days"),
                    $"delete_after_days ({delete.ToString(CultureInfo.InvariantCulture)}) is before archive_after_days ({archive.ToString(CultureInfo.InvariantCulture)}); versions are archived, then deleted.");
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
