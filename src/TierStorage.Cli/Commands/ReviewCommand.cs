using System.CommandLine;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage review N</c>: Invoke-PhaseReview.</summary>
internal static class ReviewCommand
{
    public static Command Create(CliContext context)
    {
        var phase = new Argument<int>("phase") { Description = "The phase to review" };
        var command = new Command("review", "Review a phase: phase_insights.md and .html (with charts) from every event of its sessions") { phase };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var review = await workspace.ReviewPhaseAsync(parseResult.GetValue(phase), cancellationToken).ConfigureAwait(false);
            if (context.IsJson(parseResult)) context.WriteJson(review);
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
