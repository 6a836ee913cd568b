using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Contracts;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage review N</c>: Invoke-PhaseReview.</summary>
internal static class ReviewCommand
{
    public static Command Create(CliContext context)
    {
        var phase = new Argument<int>("phase") { Description = "The phase to review" };
        var full = new Option<bool>("--full") { Description = "For an archived phase: read every event out of the archive (thawing it first when cold) instead of the review stored in its manifest" };
        var retrieval = ValueParsers.Enum<ArchiveRetrievalTier>("--retrieval", "With --full, from a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper)");
        var machine = new Option<string?>("--machine") { Description = "A shared catalog: review only the sessions recorded on this machine, or a pattern (writes no files)", HelpName = "NAME" };
        var user = new Option<string?>("--user") { Description = "A shared catalog: review only the sessions recorded by this user, or a pattern (writes no files)", HelpName = "NAME" };
        var command = new Command("review", "Review a phase: phase_insights.md and .html (with charts), phase_analytics.db and phase_metadata.json from every event of its sessions") { phase, full, retrieval, machine, user };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var review = parseResult.GetValue(machine) is not null || parseResult.GetValue(user) is not null
                ? await workspace.ReviewPhaseSliceAsync(parseResult.GetValue(phase), parseResult.GetValue(machine), parseResult.GetValue(user), cancellationToken).ConfigureAwait(false)
                : await workspace.ReviewPhaseAsync(parseResult.GetValue(phase), parseResult.GetValue(full),
                    parseResult.GetValue(retrieval) ?? ArchiveRetrievalTier.Standard, null, cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(review, CliJson.Context.PhaseReview);
            else
            {
                context.Stdout.WriteLine(review.ExecutiveSummary);
                foreach (var recommendation in review.Recommendations) context.Stdout.WriteLine($"  - {recommendation}");
                foreach (var path in review.ReportPaths) context.Stdout.WriteLine($"  wrote {path}");
            }
            foreach (var warning in review.Warnings) context.Warn(warning);
            return ExitCodes.Success;
        });
        return command;
    }
}
