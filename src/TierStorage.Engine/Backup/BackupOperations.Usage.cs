using System.Runtime.CompilerServices;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>Deep Archive keeps about 40 KB of index and metadata per object, billed at archive and Standard rates.</summary>
    internal const long ArchiveOverheadBytesPerObject = 40 * 1024;

    /// <summary>How far back growth is measured.</summary>
    private static readonly TimeSpan GrowthWindow = TimeSpan.FromDays(28);

    /// <summary>
    /// Get-TierUsage: one TierUsage per tier of the policy (or the named one). The local tier and folder tiers are measured
    /// on disk; Drive and S3 from the catalog (fast, no network), or with <paramref name="refresh"/> by listing the store
    /// (Drive's account quota bounds its capacity). Cost from the policy's price per GB-month; growth per week from what
    /// was stored in the last 28 days; the projected full date from both.
    /// </summary>
    public IAsyncEnumerable<TierUsage> GetUsageAsync(string? tierName, bool refresh, CancellationToken cancellationToken) =>
        GetUsageAsync(tierName, refresh, null, null, cancellationToken);

    /// <summary>Get-TierUsage -Machine/-User on a shared catalog: each backup and archive tier's objects that the sessions of one
    /// machine or user put there, from the catalog (their share of the team's tiers). The local tier is each machine's own
    /// disk: measured only for this machine.</summary>
    public async IAsyncEnumerable<TierUsage> GetUsageAsync(string? tierName, bool refresh, string? machine, string? user, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (machine is not null || user is not null)
        {
            var sliceTiers = tierName is null ? _workspace.Policy.Tiers.OrderBy(t => t.Level).ToList() : [_workspace.Policy.GetTier(tierName) ?? throw UnknownTier(tierName)];
            foreach (var tier in sliceTiers.Where(t => !string.Equals(t.Name, _workspace.LocalTierName, StringComparison.OrdinalIgnoreCase)))
            {
                var (count, used, recent) = await Catalog.SumObjectsAsync(tier.Name, _workspace.Now - GrowthWindow, machine, user, cancellationToken).ConfigureAwait(false);
                yield return new TierUsage
                {
                    Tier = tier.Name, Level = tier.Level, Kind = tier.Kind, UsedBytes = used, CapacityBytes = tier.CapacityBytes, Status = TierHealth.Healthy,
                    ObjectCount = count, MonthlyCostUsd = Math.Round((used + (IsColdStorage(tier) ? count * ArchiveOverheadBytesPerObject : 0)) / 1_000_000_000m * tier.PricePerGbMonth, 4),
                    GrowthBytesPerWeek = (long)(recent / (GrowthWindow.TotalDays / 7)), Source = "catalog",
                    Message = $"The share of the sessions recorded{(machine is null ? "" : $" on {machine}")}{(user is null ? "" : $" by {user}")} (their members of a phase archive count at their size in it).",
                };
            }
            yield break;
        }
        var tiers = tierName is null ? _workspace.Policy.Tiers.OrderBy(t => t.Level).ToList() : [_workspace.Policy.GetTier(tierName) ?? throw UnknownTier(tierName)];
        foreach (var tier in tiers)
            yield return await UsageOfAsync(tier, refresh, cancellationToken).ConfigureAwait(false);
    }

    private TierStorageException UnknownTier(string name) =>
        new(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
            $"The policy '{_workspace.Policy.Source}' has no tier named '{name}'. Tiers: {string.Join(", ", _workspace.Policy.Tiers.Select(t => t.Name))}.", name);

    private async Task<TierUsage> UsageOfAsync(TierDefinition tier, bool refresh, CancellationToken cancellationToken)
    {
        var now = _workspace.Now;
        var since = now - GrowthWindow;
        long used, count, recent;
        long? capacity = tier.CapacityBytes;
        string source;
        string? message = null;
        var unavailable = false;
        var isLocal = string.Equals(tier.Name, _workspace.LocalTierName, StringComparison.OrdinalIgnoreCase);
        if (isLocal || tier.Kind == TierKind.Folder)
        {
            var root = isLocal ? _workspace.Root : TierStoreFactory.FolderPath(tier, _workspace.StoreContextFor(tier));
            (count, used, recent) = MeasureDirectory(root, since, skipMetadata: !isLocal);
            source = "disk";
            if (!Directory.Exists(root))
            {
                var parentMissing = isLocal || TierStoreFactory.FolderParent(tier, _workspace.StoreContextFor(tier)) is not { } parent || !Directory.Exists(parent);
                var heldData = !isLocal && await _workspace.TierHoldsDataAsync(tier, cancellationToken).ConfigureAwait(false);
                unavailable = isLocal || parentMissing || heldData;
                message = !unavailable ? $"'{root}' is not there yet; the first backup to the tier creates it."
                    : heldData ? $"'{root}' is gone although the catalog records backups on it: a disk or share not connected? Connect it; nothing will be stored there until then."
                    : $"'{root}' and its parent folder are not there: a disk or share not connected? Connect it; nothing will be stored there until then.";
            }
        }
        else if (refresh)
        {
            (count, used, recent) = (0, 0, 0);
            try
            {
                await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
                await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false))
                {
                    count++;
                    used += info.Size;
                    if (info.LastModified >= since) recent += info.Size;
                }
                if (store is IQuotaStore quota && (await quota.GetQuotaAsync(cancellationToken).ConfigureAwait(false)).LimitBytes is { } limit)
                    capacity = capacity is { } c ? Math.Min(c, limit) : limit;
                source = "listing";
            }
            catch (TierStorageException ex) when (ex.Kind is TierErrorKind.ConnectionError or TierErrorKind.PermissionDenied || ex.ErrorId is ErrorIds.TierAuthRequired or ErrorIds.ClientSecretsNotFound)
            {
                (count, used, recent) = await Catalog.SumObjectsAsync(tier.Name, since, cancellationToken).ConfigureAwait(false);
                source = "catalog";
                message = $"The tier could not be listed ({ex.ErrorId}); figures from the catalog.";
            }
        }
        else
        {
            (count, used, recent) = await Catalog.SumObjectsAsync(tier.Name, since, cancellationToken).ConfigureAwait(false);
            source = "catalog";
        }

        double? percent = capacity is > 0 ? Math.Round(used * 100.0 / capacity.Value, 2) : null;
        var status = unavailable ? TierHealth.Unavailable : percent is not { } p ? TierHealth.Healthy : p >= tier.CriticalPercent ? TierHealth.Critical : p >= tier.WarnPercent ? TierHealth.Warning : TierHealth.Healthy;
        var billed = used + (IsColdStorage(tier) ? count * ArchiveOverheadBytesPerObject : 0);
        var growthPerWeek = (long)(recent / (GrowthWindow.TotalDays / 7));
        DateTimeOffset? full = capacity is { } cap && growthPerWeek > 0 && used < cap
            ? now.AddDays((cap - used) / (double)growthPerWeek * 7)
            : capacity is { } reached && used >= reached ? now : null;
        return new TierUsage
        {
            Tier = tier.Name, Level = tier.Level, Kind = tier.Kind, UsedBytes = used, CapacityBytes = capacity, Percent = percent, Status = status,
            ObjectCount = count, MonthlyCostUsd = Math.Round(billed / 1_000_000_000m * tier.PricePerGbMonth, 4),
            GrowthBytesPerWeek = growthPerWeek, ProjectedFullAt = full, Source = source,
            Message = message ?? (status == TierHealth.Healthy ? null
                : $"{percent:0.#}% of {capacity:N0} bytes used (warn at {tier.WarnPercent}%, critical at {tier.CriticalPercent}%)."),
        };
    }

    private static bool IsColdStorage(TierDefinition tier) =>
        tier.Kind == TierKind.S3 && (tier.StorageClass ?? "DEEP_ARCHIVE") is var c
        && (c.Equals("DEEP_ARCHIVE", StringComparison.OrdinalIgnoreCase) || c.Equals("GLACIER", StringComparison.OrdinalIgnoreCase));

    private static (long Count, long Bytes, long BytesSince) MeasureDirectory(string root, DateTimeOffset since, bool skipMetadata)
    {
        if (!Directory.Exists(root)) return (0, 0, 0);
        long count = 0, bytes = 0, recent = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        var metadata = Path.Combine(root, FolderObjectStore.MetadataDirectoryName) + Path.DirectorySeparatorChar;
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", options))
        {
            if (skipMetadata && file.FullName.StartsWith(metadata, StringComparison.Ordinal)) continue;
            count++;
            bytes += file.Length;
            if (file.LastWriteTimeUtc >= since.UtcDateTime) recent += file.Length;
        }
        return (count, bytes, recent);
    }
}
