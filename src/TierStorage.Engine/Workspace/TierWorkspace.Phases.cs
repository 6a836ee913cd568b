using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    private const string CurrentPhaseFile = "current_phase.json";
    public const int MaxPhaseNameLength = 64;

    internal sealed record CurrentPhase(int Phase, string? Name, DateTimeOffset StartedAt);

    /// <summary>
    /// Start-Phase: names the phase, ends the open one, and makes it the phase new sessions start in, recorded in
    /// current_phase.json here and at the backup tier's root (best effort there: an unreachable tier gets a warning and
    /// the next Start-Phase or backup of the file). An active session keeps the phase it started in.
    /// </summary>
    public async Task<PhaseInfo> StartPhaseAsync(int number, string? name, CancellationToken cancellationToken)
    {
        if (number < 0)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"A phase number is 0 or more, not {number}.", number);
        if (name is not null && string.IsNullOrWhiteSpace(name))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, "A phase name must not be blank.", name);
        // The name becomes a folder on every tier (Phase_<n>_<name>): a longer one can exceed a file name's 255 bytes there.
        if (name is not null && (name.Trim().Length > MaxPhaseNameLength || name.Any(char.IsControl)))
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"A phase name is at most {MaxPhaseNameLength} characters without control characters; '{(name.Length > 40 ? name[..40] + "..." : name)}' has {name.Trim().Length}.", name);
        var now = Now;
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            await _catalog.StartPhaseAsync(number, name?.Trim(), now, cancellationToken).ConfigureAwait(false);
            var json = JsonSerializer.SerializeToUtf8Bytes(new CurrentPhase(number, name?.Trim(), now), PhaseJson.Default.CurrentPhase);
            await IoErrors.GuardAsync("writing", CurrentPhasePath, () =>
                AtomicFile.WriteAsync(CurrentPhasePath, overwrite: true, (stream, ct) => stream.WriteAsync(json, ct).AsTask(), cancellationToken)).ConfigureAwait(false);
            if (Policy.GetTier(TierLevel.Backup) is { } backup)
            {
                try
                {
                    await using var store = await OpenStoreAsync(backup, cancellationToken).ConfigureAwait(false);
                    await store.PutAsync(CurrentPhaseFile, new MemoryStream(json), new PutOptions { ContentType = "application/json" }, cancellationToken).ConfigureAwait(false);
                }
                catch (TierStorageException ex) when (CannotCopyToTierNow(ex) || ex.ErrorId == ErrorIds.EncryptionKeyNotFound)
                {
                    Warn($"{CurrentPhaseFile} was not written to tier '{backup.Name}' ({ex.ErrorId}): {ex.Message}");
                }
            }
        }
        await foreach (var phase in GetPhasesAsync(number, cancellationToken).ConfigureAwait(false)) return phase;
        throw new InvalidOperationException($"Phase {number} vanished while it was being started.");
    }

    private string CurrentPhasePath => Path.Combine(Root, CurrentPhaseFile);

    /// <summary>current_phase.json's text (camelCase, indented), source-generated: the CLI is NativeAOT.</summary>
    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
    [JsonSerializable(typeof(CurrentPhase))]
    internal sealed partial class PhaseJson : JsonSerializerContext;

    /// <summary>The phase new sessions start in: current_phase.json, else the phase of the newest session, else 0.</summary>
    internal int? CurrentPhaseNumber()
    {
        try
        {
            return File.Exists(CurrentPhasePath) ? JsonSerializer.Deserialize(File.ReadAllBytes(CurrentPhasePath), PhaseJson.Default.CurrentPhase)?.Phase : null;
        }
        catch (JsonException ex)
        {
            Warn($"'{CurrentPhasePath}' is not readable ({ex.Message}); the phase of the newest session is used.");
            return null;
        }
    }

    /// <summary>ErrorIds.PhaseNotFound unless the catalog knows the phase (started with Start-Phase, or holding a session).</summary>
    internal async Task RequirePhaseAsync(int number, CancellationToken cancellationToken)
    {
        var phases = await _catalog.ListPhasesAsync(cancellationToken).ConfigureAwait(false);
        if (phases.Any(p => p.Number == number) || (await ListRecordsAsync(cancellationToken).ConfigureAwait(false)).Any(s => s.Phase == number)) return;
        throw PhaseNotFound(number, phases);
    }

    private static TierStorageException PhaseNotFound(int number, IReadOnlyList<PhaseRecord> known) =>
        new(ErrorIds.PhaseNotFound, TierErrorKind.ObjectNotFound,
            $"No phase {number} in the catalog{(known.Count == 0 ? "" : $" (phases: {string.Join(", ", known.Select(p => p.Number))})")}. Get-Phase (tierstorage phase list) lists the phases; Start-Phase starts one.", number);

    /// <summary>Get-Phase: every phase (or one: ErrorIds.PhaseNotFound when the catalog does not know it), with its sessions and where they live.</summary>
    public async IAsyncEnumerable<PhaseInfo> GetPhasesAsync(int? number, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var phases = await _catalog.ListPhasesAsync(cancellationToken).ConfigureAwait(false);
        var sessions = await ListRecordsAsync(cancellationToken).ConfigureAwait(false);
        var current = CurrentPhaseNumber() ?? sessions.OrderBy(s => s.StartedAt).LastOrDefault()?.Phase ?? phases.LastOrDefault()?.Number;
        var backupTier = Policy.GetTier(TierLevel.Backup)?.Name;
        var archiveTier = Policy.GetTier(TierLevel.Archive)?.Name;
        var verifiedArchives = new HashSet<string>(StringComparer.Ordinal);
        if (archiveTier is not null)
            await foreach (var o in _catalog.ListObjectsAsync(archiveTier, null, cancellationToken).ConfigureAwait(false))
                if (o.VerifiedAt is not null) verifiedArchives.Add(o.Key);
        if (number is { } wanted && phases.All(p => p.Number != wanted)) throw PhaseNotFound(wanted, phases);
        foreach (var phase in phases)
        {
            if (number is { } only && phase.Number != only) continue;
            var mine = sessions.Where(s => s.Phase == phase.Number).ToList();
            var backedUp = 0;
            foreach (var s in mine)
                if (backupTier is not null && await _catalog.HasVerifiedCopyOnAsync(s.SessionId, backupTier, cancellationToken).ConfigureAwait(false)) backedUp++;
            var folder = BackupLayout.PhaseFolder(phase.Number, phase.Name);
            yield return new PhaseInfo
            {
                Phase = phase.Number, Name = phase.Name, Folder = folder, StartedAt = phase.StartedAt,
                EndedAt = phase.EndedAt ?? (phase.Number == current ? null : mine.Select(s => s.EndedAt).Max()),
                IsCurrent = phase.Number == current, SessionCount = mine.Count, EventCount = mine.Sum(s => s.EventCount),
                LocalSessions = mine.Count(s => LocateLog(s) is not null), BackedUpSessions = backedUp,
                Archived = verifiedArchives.Contains(PhaseArchiveManifest.ArchiveKeyFor(folder)), ReviewedAt = phase.ReviewedAt,
            };
        }
    }
}
