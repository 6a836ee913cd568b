using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Review;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Workspace;

public sealed partial class TierWorkspace
{
    /// <summary>
    /// Invoke-PhaseReview: the phase's figures from every event in the catalog, written as phase_insights.md,
    /// phase_insights.html (with SVG charts) and phase_metadata.json under reviews/Phase_&lt;n&gt;_&lt;name&gt;/, copied to the
    /// phase folder on the backup tier (a tier that cannot be reached gets a warning; the files stay here), and the phase
    /// marked reviewed.
    /// </summary>
    public async Task<PhaseReview> ReviewPhaseAsync(int phase, CancellationToken cancellationToken)
    {
        var review = await PhaseReviewer.ReviewAsync(_catalog, Policy, phase, cancellationToken).ConfigureAwait(false);
        var folder = BackupLayout.PhaseFolder(phase, await _catalog.GetPhaseNameAsync(phase, cancellationToken).ConfigureAwait(false));
        var directory = Path.Combine(Root, "reviews", folder);
        review = await IoErrors.GuardAsync("writing the review into", directory,
            () => PhaseReportWriter.WriteAsync(review, directory, cancellationToken)).ConfigureAwait(false);
        if (Policy.GetTier(TierLevel.Backup) is { } backup)
        {
            try
            {
                await using var store = await OpenStoreAsync(backup, cancellationToken).ConfigureAwait(false);
                foreach (var path in review.ReportPaths)
                {
                    await using var content = File.OpenRead(path);
                    await store.PutAsync($"{folder}/{Path.GetFileName(path)}", content, new PutOptions(), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (TierStorageException ex) when (ex.Kind is TierErrorKind.ConnectionError or TierErrorKind.PermissionDenied || ex.ErrorId is ErrorIds.TierAuthRequired or ErrorIds.ClientSecretsNotFound or ErrorIds.TierQuotaExceeded)
            {
                Warn($"The review of phase {phase} was written to '{directory}' but not copied to tier '{backup.Name}' ({ex.ErrorId}): {ex.Message}");
            }
        }
        if (review.EventCount > 0) await _catalog.MarkReviewedAsync(phase, Now, cancellationToken).ConfigureAwait(false);
        return review;
    }
}
