using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Review;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    /// <summary>phase_analytics.db: the phase's share of the catalog, written beside the reports.</summary>
    public const string PhaseAnalyticsFile = "phase_analytics.db";

    /// <summary>The review from what can be read without a thaw (<see cref="ReviewPhaseAsync(int, bool, ArchiveRetrievalTier, IProgress{BackupProgress}?, CancellationToken)"/>).</summary>
    public Task<PhaseReview> ReviewPhaseAsync(int phase, CancellationToken cancellationToken) =>
        ReviewPhaseAsync(phase, full: false, ArchiveRetrievalTier.Standard, null, cancellationToken);

    /// <summary>
    /// Invoke-PhaseReview: the phase's figures (ErrorIds.PhaseNotFound, with nothing written, for a phase the catalog does not know) from every event of its sessions, wherever they live. The catalog holds the
    /// events of every session it indexed, local or not; a session it knows without events (a catalog rebuilt from the
    /// tiers) gets them back from its backup's analytics snapshot; for a session only in the phase archive, the review
    /// stored in the archive's manifest (computed from every event when the phase was archived) is used, unless
    /// <paramref name="full"/> asks for the archive itself (thawed first when cold: the review then says when to come back).
    /// Writes phase_insights.md, phase_insights.html (with SVG charts), phase_metadata.json and phase_analytics.db under
    /// reviews/Phase_&lt;n&gt;_&lt;name&gt;/, copies them to the phase folder on the backup tier (a tier that cannot be reached
    /// gets a warning; the files stay here), and marks the phase reviewed when every session's events were read.
    /// </summary>
    /// <summary>Invoke-PhaseReview -Machine/-User: the figures of one machine's or one user's sessions of the phase, from the
    /// catalog alone. The phase's reports are the team's: a slice writes none and does not mark the phase reviewed.</summary>
    public async Task<PhaseReview> ReviewPhaseSliceAsync(int phase, string? machine, string? user, CancellationToken cancellationToken)
    {
        await RequirePhaseAsync(phase, cancellationToken).ConfigureAwait(false);
        if (_catalog.SchemaVersion < 15) return await ReviewPhaseAsync(phase, cancellationToken).ConfigureAwait(false);
        return await PhaseReviewer.ReviewSliceAsync(_catalog, Policy, phase, machine, user, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PhaseReview> ReviewPhaseAsync(int phase, bool full, ArchiveRetrievalTier retrieval, IProgress<BackupProgress>? progress,
        CancellationToken cancellationToken)
    {
        await RequirePhaseAsync(phase, cancellationToken).ConfigureAwait(false);
        var missing = (await ListRecordsAsync(cancellationToken).ConfigureAwait(false))
            .Where(s => s.Phase == phase && s.EventCount == 0 && s.State is SessionState.BackedUp or SessionState.Archived && LocateLog(s) is null)
            .ToList();
        var notes = new List<string>();
        var unreadable = 0;
        if (missing.Count > 0)
        {
            var unread = await Backups.ImportEventsFromBackupAsync(missing, progress, cancellationToken).ConfigureAwait(false);
            foreach (var (session, problem) in unread.Where(u => u.Problem is not null))
                notes.Add($"Session '{session.SessionId}' is left out: its backup could not be read ({problem}).");
            unreadable = unread.Count(u => u.Problem is not null);
            missing = unread.Where(u => u.Problem is null).Select(u => u.Session).ToList();
        }
        PhaseReview? stored = null;
        if (missing.Count > 0)
        {
            RestoreResult? thawing = null;
            if (full) (missing, thawing) = await Backups.ImportEventsFromArchiveAsync(phase, missing, retrieval, progress, cancellationToken).ConfigureAwait(false);
            if (thawing is not null)
                notes.Add($"The archive of phase {phase} is cold: a thaw was requested (about ${thawing.ThawCostUsd:0.00}); run Invoke-PhaseReview -Full (tierstorage review --full) again after {thawing.ReadyAfter:u}.");
            if (missing.Count > 0)
            {
                PhaseArchiveManifest? manifest = null;
                try
                {
                    manifest = await Backups.ReadPhaseArchiveManifestAsync(phase, cancellationToken).ConfigureAwait(false);
                }
                catch (TierStorageException ex) when (CannotReachNow(ex))
                {
                    notes.Add($"The archive tier cannot be read now ({ex.ErrorId}: {ex.Message}).");
                }
                stored = manifest?.Review;
                var names = string.Join(", ", missing.Take(5).Select(s => s.SessionId)) + (missing.Count > 5 ? $" and {missing.Count - 5} more" : "");
                notes.Add(stored is not null
                    ? $"The events of {missing.Count} session(s) ({names}) are only in the phase archive: every figure below is the review computed from all {stored.EventCount:N0} events when the phase was archived ({manifest!.CreatedAt:u}); phase_analytics.db holds only what the catalog has. -Full reads the archive itself."
                    : $"The events of {missing.Count} session(s) ({names}) are in no tier this workspace can read{(manifest is null ? "" : $" (the archive manifest of {manifest.CreatedAt:u} predates stored reviews and totals {manifest.Totals.Events:N0} events)")}: the figures below leave them out.{(full ? "" : " -Full reads the phase archive.")}");
            }
        }

        var review = stored ?? await PhaseReviewer.ReviewAsync(_catalog, Policy, phase, cancellationToken).ConfigureAwait(false);
        if (notes.Count > 0) review = review with { Warnings = [.. notes, .. review.Warnings] };
        var folder = BackupLayout.PhaseFolder(phase, await _catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false));
        var directory = Path.Combine(Root, "reviews", folder);
        AnalyticsState? analyticsState = null;
        review = await IoErrors.GuardAsync("writing the review into", directory, async () =>
        {
            var written = await PhaseReportWriter.WriteAsync(review, directory, cancellationToken).ConfigureAwait(false);
            var analytics = Path.Combine(directory, PhaseAnalyticsFile);
            // phase_analytics.db is the phase's whole share of the catalog (every event: hundreds of MB for a large phase): written
            // again only when that share changed since it was written, as its digest says.
            var digest = await _catalog.PhaseShareDigestAsync(phase, cancellationToken).ConfigureAwait(false);
            analyticsState = AnalyticsState.Read(directory);
            if (digest is null || analyticsState is null || !analyticsState.Describes(analytics, digest))
            {
                await _catalog.ExportPhaseAsync(phase, analytics, cancellationToken).ConfigureAwait(false);
                analyticsState = digest is null ? null : AnalyticsState.Of(analytics, digest);
                await AnalyticsState.WriteAsync(directory, analyticsState, cancellationToken).ConfigureAwait(false);
            }
            return written with { ReportPaths = [.. written.ReportPaths, analytics] };
        }).ConfigureAwait(false);
        if (Policy.GetTier(TierLevel.Backup) is { } backup)
        {
            try
            {
                await using var store = await OpenStoreAsync(backup, cancellationToken).ConfigureAwait(false);
                foreach (var path in review.ReportPaths)
                {
                    var key = $"{folder}/{Path.GetFileName(path)}";
                    var isAnalytics = Path.GetFileName(path) == PhaseAnalyticsFile;
                    // The same phase_analytics.db already copied to this tier, and still there at its size: not sent again.
                    if (isAnalytics && analyticsState is { } sent && sent.UploadedTo == backup.Name
                        && (await store.StatAsync(key, cancellationToken).ConfigureAwait(false))?.Size == sent.Size)
                        continue;
                    await using (var content = File.OpenRead(path))
                        await store.PutAsync(key, content, new PutOptions(), cancellationToken).ConfigureAwait(false);
                    if (isAnalytics && analyticsState is not null)
                    {
                        analyticsState = analyticsState with { UploadedTo = backup.Name };
                        await AnalyticsState.WriteAsync(directory, analyticsState, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (TierStorageException ex) when (CannotCopyToTierNow(ex))
            {
                Warn($"The review of phase {phase} was written to '{directory}' but not copied to tier '{backup.Name}' ({ex.ErrorId}): {ex.Message}");
            }
        }
        if (review.EventCount > 0 && unreadable == 0 && (missing.Count == 0 || stored is not null)) await _catalog.MarkReviewedAsync(phase, Now, cancellationToken).ConfigureAwait(false);
        return review;
    }

    /// <summary>
    /// What the review last wrote as phase_analytics.db (reviews/Phase_n/.phase_analytics.state, beside it): the digest of the
    /// catalog's share it holds (<see cref="CatalogDatabase.PhaseShareDigestAsync"/>), the file's size and write time then (a
    /// file changed or replaced since is written again), and the backup tier it was copied to whole.
    /// </summary>
    private sealed record AnalyticsState(string Digest, long Size, long WriteTicks, string? UploadedTo)
    {
        private const string FileName = ".phase_analytics.state";

        public bool Describes(string path, string digest) =>
            Digest == digest && new FileInfo(path) is { Exists: true } file && file.Length == Size && file.LastWriteTimeUtc.Ticks == WriteTicks;

        public static AnalyticsState Of(string path, string digest)
        {
            var file = new FileInfo(path);
            return new AnalyticsState(digest, file.Length, file.LastWriteTimeUtc.Ticks, null);
        }

        /// <summary>Null when there is none or it does not parse (the file is then written again).</summary>
        public static AnalyticsState? Read(string directory)
        {
            try
            {
                var lines = File.ReadAllLines(Path.Combine(directory, FileName));
                if (lines.Length < 3 || lines[0].Length != 64) return null;
                return new AnalyticsState(lines[0], long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture),
                    long.Parse(lines[2], System.Globalization.CultureInfo.InvariantCulture), lines.Length > 3 && lines[3].Length > 0 ? lines[3] : null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
            {
                return null;
            }
        }

        /// <summary>Writes the state, or removes it (null: the file is written again by the next review).</summary>
        public static Task WriteAsync(string directory, AnalyticsState? state, CancellationToken cancellationToken)
        {
            var path = Path.Combine(directory, FileName);
            if (state is null)
            {
                AtomicFile.TryDelete(path);
                return Task.CompletedTask;
            }
            return AtomicFile.WriteAllTextAsync(path, System.FormattableString.Invariant($"{state.Digest}\n{state.Size}\n{state.WriteTicks}\n{state.UploadedTo}\n"), overwrite: true, cancellationToken);
        }
    }

    /// <summary>A tier that cannot be reached or used now: the review still comes out, with a warning.</summary>
    private static bool CannotReachNow(TierStorageException ex) =>
        ex.Kind is TierErrorKind.ConnectionError or TierErrorKind.PermissionDenied || BackupOperations.IsQueueable(ex);

    /// <summary>Local work done, its copy to the backup tier not possible now (unreachable, or this workspace is a copy that
    /// does not write to the original's namespace): the work stands, with a warning.</summary>
    private static bool CannotCopyToTierNow(TierStorageException ex) => CannotReachNow(ex) || ex.ErrorId == ErrorIds.WorkspaceCopied;
}
