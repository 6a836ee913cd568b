using System.Globalization;
using TierStorage.Contracts;
using TierStorage.Engine.Collections;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;

namespace TierStorage.Tests.Collections;

public sealed class CollectionRetentionTests
{
    /// <summary>A version every night of 2026 at noon UTC (the same local day on any machine within 11 hours of UTC).</summary>
    private static List<(string Id, DateTimeOffset CreatedAt)> NightlyYear() =>
        Enumerable.Range(0, 365).Select(d => new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).AddDays(d))
            .Select(t => (CollectionManifest.NewVersionId(t), t)).ToList();

    [Fact]
    public void A_year_of_nightly_versions_keeps_exactly_what_the_rules_say()
    {
        var versions = NightlyYear();
        var now = versions[^1].CreatedAt.AddHours(1);
        var keep = new CollectionRetention { Last = 3, Daily = 7, Weekly = 4, Monthly = 12, Yearly = 2 };

        var kept = CollectionRetentionRules.Keep(versions, keep, deleteAfterDays: null, now);

        var dates = kept.Keys.Select(id => versions.Single(v => v.Id == id).CreatedAt.UtcDateTime.Date).ToHashSet();
        var expected = new HashSet<DateTime>();
        for (var d = 0; d < 7; d++) expected.Add(new DateTime(2026, 12, 31).AddDays(-d)); // daily 7 (and last 3 within them)
        // weekly 4: the newest of the last four ISO weeks: Thu 31 Dec (week 53), then the Sundays 27, 20 and 13 December.
        expected.UnionWith([new DateTime(2026, 12, 27), new DateTime(2026, 12, 20), new DateTime(2026, 12, 13)]);
        // monthly 12: the newest of each month, December's being 31 December.
        for (var m = 1; m <= 11; m++) expected.Add(new DateTime(2026, m, DateTime.DaysInMonth(2026, m)));
        // yearly 2: only 2026 has versions; its newest is 31 December.
        Assert.Equal(expected.OrderBy(d => d), dates.OrderBy(d => d));
        Assert.Equal("keep.last", kept[versions[^1].Id]);
        Assert.Equal("keep.monthly", kept[versions.Single(v => v.CreatedAt.UtcDateTime.Date == new DateTime(2026, 1, 31)).Id]);
    }

    [Fact]
    public void Delete_after_days_removes_older_versions_but_never_the_newest_and_no_rules_keep_everything()
    {
        var versions = NightlyYear();
        var now = versions[^1].CreatedAt.AddHours(1);

        Assert.Equal(365, CollectionRetentionRules.Keep(versions, new CollectionRetention(), null, now).Count);
        var recent = CollectionRetentionRules.Keep(versions, new CollectionRetention(), deleteAfterDays: 30, now);
        Assert.Equal(30, recent.Count); // 2 to 31 December: 1 December at noon is more than 30 days before the 31st at 13:00
        var stale = CollectionRetentionRules.Keep(versions, new CollectionRetention(), deleteAfterDays: 30, now.AddYears(1));
        Assert.Equal(versions[^1].Id, Assert.Single(stale).Key);
    }

    [Fact]
    public async Task Retention_deletes_the_versions_it_planned_and_the_contents_only_they_pointed_at()
    {
        await using var bed = await BackupTestBed.CreateAsync(extraYaml: """
            collections:
              - name: notes
                path: ../notes
                keep: { last: 2 }
            """);
        var source = Path.Combine(bed.Root, "notes");
        Directory.CreateDirectory(source);
        var workspace = await bed.OpenAsync();
        var notes = workspace.Collections.GetCollection("notes");
        await File.WriteAllTextAsync(Path.Combine(source, "kept.txt"), "in every version");
        for (var i = 0; i < 4; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(source, "daily.txt"), $"day {i.ToString(CultureInfo.InvariantCulture)}");
            File.SetLastWriteTimeUtc(Path.Combine(source, "daily.txt"), new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(i));
            bed.Time.Advance(TimeSpan.FromDays(1));
            await workspace.Collections.BackupAsync(notes, null, CancellationToken.None);
        }
        var contents = Path.Combine(bed.TierRoot, "collections", "contents");
        Assert.Equal(5, Directory.EnumerateFiles(contents, "*.gz", SearchOption.AllDirectories).Count());

        var plan = await workspace.Collections.PlanRetentionAsync(notes, CancellationToken.None);
        Assert.Equal(2, plan.Count);
        Assert.All(plan, m => Assert.Equal((TierMoveAction.Delete, TierMoveState.Planned), (m.Action, m.State)));
        var done = new List<TierMove>();
        await foreach (var move in workspace.Collections.ApplyRetentionAsync(notes, plan, CancellationToken.None)) done.Add(move);

        Assert.Equal(3, done.Count(m => m.State == TierMoveState.Done));
        var versions = new List<CollectionVersionInfo>();
        await foreach (var v in workspace.Collections.GetVersionsAsync(notes, CancellationToken.None)) versions.Add(v);
        Assert.Equal(2, versions.Count);
        Assert.Equal(3, Directory.EnumerateFiles(contents, "*.gz", SearchOption.AllDirectories).Count());
        foreach (var version in versions)
        {
            var items = new List<CollectionRestoreItem>();
            await foreach (var item in workspace.Collections.RestoreAsync(new CollectionRestoreRequest { Collection = "notes", VersionId = version.VersionId, Destination = Path.Combine(bed.Root, "r-" + version.VersionId) }, null, CancellationToken.None))
                items.Add(item);
            Assert.All(items, item => Assert.Equal(CollectionRestoreAction.Restored, item.Action));
        }
        Assert.Empty(await workspace.Collections.PlanRetentionAsync(notes, CancellationToken.None));
    }

    [Fact]
    public async Task Two_projects_on_one_tier_keep_their_collections_apart_and_a_prune_touches_only_its_own()
    {
        await using var first = await BackupTestBed.CreateAsync(extraYaml: """
            collections:
              - name: notes
                path: ../notes
                keep: { last: 1 }
            """);
        var sharedTier = first.TierBase;
        await using var second = await BackupTestBed.CreateAsync(tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {sharedTier}
                capacity: unlimited
                price_per_gb_month: 0
            """, extraYaml: """
            collections:
              - name: notes
                path: ../notes
            """);
        foreach (var bed in new[] { first, second })
        {
            Directory.CreateDirectory(Path.Combine(bed.Root, "notes"));
            await File.WriteAllTextAsync(Path.Combine(bed.Root, "notes", "same.txt"), "the same bytes in both projects");
        }
        var a = await first.OpenAsync();
        var b = await second.OpenAsync();
        await b.Collections.BackupAsync(b.Collections.GetCollection("notes"), null, CancellationToken.None);
        var notes = a.Collections.GetCollection("notes");
        await a.Collections.BackupAsync(notes, null, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(first.Root, "notes", "same.txt"), "changed in the first project only");
        first.Time.Advance(TimeSpan.FromDays(1));
        await a.Collections.BackupAsync(notes, null, CancellationToken.None);

        await foreach (var _ in a.Collections.ApplyRetentionAsync(notes, await a.Collections.PlanRetentionAsync(notes, CancellationToken.None), CancellationToken.None)) { }

        var versionsOfB = new List<CollectionVersionInfo>();
        await foreach (var v in b.Collections.GetVersionsAsync(b.Collections.GetCollection("notes"), CancellationToken.None)) versionsOfB.Add(v);
        Assert.Single(versionsOfB);
        var items = new List<CollectionRestoreItem>();
        await foreach (var item in b.Collections.RestoreAsync(new CollectionRestoreRequest { Collection = "notes", Destination = Path.Combine(second.Root, "r") }, null, CancellationToken.None))
            items.Add(item);
        Assert.Equal(CollectionRestoreAction.Restored, Assert.Single(items).Action);
        Assert.Equal("the same bytes in both projects", File.ReadAllText(Path.Combine(second.Root, "r", "same.txt")));
        Assert.NotEqual(first.Namespace, second.Namespace);
    }
}
