using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Archive;

public sealed class TierUsageTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Usage_is_measured_on_disk_for_folder_tiers_and_the_status_follows_the_thresholds()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-usage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using (var bed = await CreateAsync(tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
                capacity: 40KB
                warn_percent: 50
                critical_percent: 60
                price_per_gb_month: 1000
            """))
        {
            var ws = await bed.OpenAsync();
            var id = await bed.CompletedSessionAsync(ws, events: 200);
            await BackupAsync(ws, id);

            var usage = await ToListAsync(ws.Backups.GetUsageAsync(null, refresh: false, None));

            Assert.Equal(["local", "backup"], usage.Select(u => u.Tier));
            var backup = usage[1];
            var onDisk = Directory.EnumerateFiles(Path.Combine(root, "backup"), "*", SearchOption.AllDirectories)
                .Where(p => !p.Contains("/.tsmeta/", StringComparison.Ordinal)).Select(p => new FileInfo(p).Length).ToList();
            Assert.Equal((onDisk.Count, onDisk.Sum()), (backup.ObjectCount, backup.UsedBytes));
            Assert.Equal("disk", backup.Source);
            var expected = backup.Percent >= 60 ? TierHealth.Critical : backup.Percent >= 50 ? TierHealth.Warning : TierHealth.Healthy;
            Assert.Equal(expected, backup.Status);
            Assert.Equal(Math.Round(backup.UsedBytes / 1_000_000_000m * 1000m, 4), backup.MonthlyCostUsd);
            Assert.True(backup.GrowthBytesPerWeek > 0);
            Assert.NotNull(backup.ProjectedFullAt);
            Assert.True(usage[0].UsedBytes > 0);
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_s3_tier_is_counted_from_the_catalog_with_deep_archive_overhead_in_its_cost()
    {
        await using var bed = await CreateAsync(tierYaml: """
              - name: glacier
                level: 3
                kind: s3
                bucket: archive-bucket
                region: us-east-1
                storage_class: DEEP_ARCHIVE
                capacity: 1GB
                price_per_gb_month: 1
            """);
        var ws = await bed.OpenAsync();
        for (var i = 0; i < 10; i++)
            await ws.Catalog.UpsertObjectAsync(new StoredObject { Tier = "glacier", Key = $"Phase_{i}.tar.gz", Phase = i, SizeBytes = 100_000_000, StoredAt = bed.Time.Now.AddDays(-60) }, None);
        await ws.Catalog.UpsertObjectAsync(new StoredObject { Tier = "glacier", Key = "Phase_0.tar.gz#sessions/s/manifest.json", SessionId = "s", SizeBytes = 5, StoredAt = bed.Time.Now }, None);

        var usage = Assert.Single(await ToListAsync(ws.Backups.GetUsageAsync("glacier", refresh: false, None)));

        Assert.Equal((10L, 1_000_000_000L, "catalog"), (usage.ObjectCount, usage.UsedBytes, usage.Source));
        Assert.Equal(TierHealth.Critical, usage.Status);
        Assert.Equal(Math.Round((1_000_000_000m + 10 * 40 * 1024) / 1_000_000_000m, 4), usage.MonthlyCostUsd);
        Assert.Equal(0, usage.GrowthBytesPerWeek);
    }
}
