using System.Globalization;
using System.Runtime.CompilerServices;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Review;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Ingest;

/// <summary>Import-ClaudeSession: one transcript, every transcript Claude Code keeps for a project, or those of every project (files
/// under &lt;sessionId&gt;/ into that session), each incrementally; then each session that is finished is completed.</summary>
public static class ClaudeProjectImporter
{
    /// <summary>Line numbers a malformed-lines warning names before it says "...".</summary>
    public const int MalformedLinesNamed = 5;

    public static IAsyncEnumerable<ClaudeImportResult> ImportAsync(TierWorkspace workspace, string? transcriptPath, string? projectPath,
        string? configDirectory, int? phase, CompletionOptions completion, CancellationToken cancellationToken) =>
        ImportAsync(workspace, transcriptPath, projectPath, configDirectory, phase, completion, allProjects: false, warn: null, cancellationToken);

    /// <param name="configDirectory">Claude Code's config directories, comma-separated (default $CLAUDE_CONFIG_DIR, else ~/.config/claude and ~/.claude).</param>
    /// <param name="allProjects">Every project folder of the config directories instead of <paramref name="projectPath"/>'s.</param>
    /// <param name="warn">Told once per file with bad lines (their count and first line numbers), once per file that is not a transcript
    /// (found by walking a folder, it is skipped), and once per import for the models the policy has no price for.</param>
    public static async IAsyncEnumerable<ClaudeImportResult> ImportAsync(TierWorkspace workspace, string? transcriptPath, string? projectPath,
        string? configDirectory, int? phase, CompletionOptions completion, bool allProjects, Action<string>? warn,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(completion);
        var project = projectPath ?? Environment.CurrentDirectory;
        IReadOnlyList<ClaudeTranscript> transcripts = transcriptPath is not null
            ? [new ClaudeTranscript(Path.GetFullPath(transcriptPath), Path.GetFileNameWithoutExtension(transcriptPath), false)]
            : allProjects ? ClaudeTranscriptLocator.FindAll(configDirectory) : ClaudeTranscriptLocator.Find(project, configDirectory);
        if (transcripts.Count == 0)
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound, allProjects
                ? $"Claude Code keeps no transcripts under '{string.Join("', '", ClaudeTranscriptLocator.ConfigDirectories(configDirectory).Select(c => Path.Combine(c, "projects")))}'."
                : $"Claude Code keeps no transcripts for '{project}' under '{string.Join("', '", ClaudeTranscriptLocator.ProjectDirectories(project, configDirectory))}'.",
                projectPath);
        var models = new HashSet<string>(StringComparer.Ordinal);
        // A session is completed only after all of its files are read (the locator lists them together, main file first).
        var group = new List<(ClaudeTranscript Transcript, ImportResult Result)>();
        ClaudeTranscript? previous = null;
        // The next transcript of another session is parsed on another thread while this one is stored (one writer: the catalog
        // is only used here, in the order the transcripts come), and the rollups of completed sessions are folded on others.
        using var background = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Ahead? ahead = null;
        var rollups = new Rollups(workspace);
        try
        {
            for (var i = 0; i < transcripts.Count; i++)
            {
                var transcript = transcripts[i];
                if (group.Count > 0 && (!transcript.IsSubagent || transcript.ClaudeSessionId != previous?.ClaudeSessionId))
                {
                    foreach (var result in await CompleteAsync(workspace, group, completion, rollups, background.Token, cancellationToken).ConfigureAwait(false)) yield return result;
                    group.Clear();
                }
                previous = transcript;
                var options = Options(transcript, phase);
                ImportResult? imported = null;
                string? refused = null;
                try
                {
                    ClaudeImporter.PreparedImport prepared;
                    if (ahead is { } mine && mine.Index == i)
                    {
                        ahead = null;
                        prepared = await mine.TakeAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        prepared = await ClaudeImporter.PrepareAsync(workspace, transcript.Path, options, cancellationToken).ConfigureAwait(false);
                        prepared.Parse(cancellationToken);
                    }
                    if (i + 1 < transcripts.Count && transcripts[i + 1] is var next && (!next.IsSubagent || next.ClaudeSessionId != transcript.ClaudeSessionId))
                        ahead = await Ahead.StartAsync(workspace, i + 1, next, Options(next, phase),
                            [prepared.SessionId, .. group.Select(g => g.Result.SessionId)], background.Token).ConfigureAwait(false);
                    imported = await prepared.StoreAsync(workspace, cancellationToken).ConfigureAwait(false);
                }
                catch (TierStorageException ex) when (transcriptPath is null && ex.ErrorId == ErrorIds.InvalidTranscript)
                {
                    // Found by walking the folder, not named by the caller: another tool's *.jsonl is skipped, not fatal to the rest.
                    refused = ex.Message;
                }
                if (imported is null)
                {
                    warn?.Invoke($"Skipped: {refused}");
                    yield return new ClaudeImportResult
                    {
                        TranscriptPath = transcript.Path, SessionId = options.SessionId ?? ClaudeImporter.SessionFor(transcript.ClaudeSessionId),
                        IsSubagent = transcript.IsSubagent, SkippedReason = refused,
                    };
                    continue;
                }
                if (imported.MalformedLines.Count > 0) warn?.Invoke(MalformedSummary(imported.TranscriptPath, imported.MalformedLines));
                models.UnionWith(imported.Models);
                group.Add((transcript, imported));
            }
            var last = await CompleteAsync(workspace, group, completion, rollups, background.Token, cancellationToken).ConfigureAwait(false);
            await rollups.SaveAsync(cancellationToken).ConfigureAwait(false);
            foreach (var result in last) yield return result;
        }
        finally
        {
            // Stopped early (an error, the caller stopped enumerating): the parse still running is not needed, nor the rollups
            // still folding (only a cache: the review folds what it does not find).
            if (ahead is not null || rollups.Folding)
            {
                await background.CancelAsync().ConfigureAwait(false);
                if (ahead is not null) await ahead.AbandonAsync().ConfigureAwait(false);
                await rollups.AbandonAsync().ConfigureAwait(false);
            }
        }
        var unpriced = UnpricedModels(workspace.Policy.Pricing, models);
        if (unpriced.Count > 0)
            warn?.Invoke($"No price for {string.Join(", ", unpriced)} (neither the shipped price list nor the policy's pricing.models has one): " +
                "their tokens are imported, but reviews count no cost for them until pricing.models prices them.");
    }

    private static ImportOptions Options(ClaudeTranscript transcript, int? phase) => new()
    {
        Phase = phase,
        // A subagent's file belongs to the session of the conversation that started it.
        SessionId = transcript.IsSubagent ? ClaudeImporter.SessionFor(transcript.ClaudeSessionId) : null,
    };

    /// <summary>The next transcript, prepared (from the catalog, before the current one is stored) and being parsed on another thread.
    /// Only started when what storing and completing the current group writes cannot change what was prepared: the next transcript
    /// goes to another session than any of the group's. Whatever preparing it threw is thrown when its turn comes.</summary>
    private sealed class Ahead
    {
        private readonly Task<ClaudeImporter.PreparedImport>? _parsed;
        private readonly System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failed;

        private Ahead(int index, Task<ClaudeImporter.PreparedImport>? parsed, System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed) =>
            (Index, _parsed, _failed) = (index, parsed, failed);

        public int Index { get; }

        /// <returns>Null when the next transcript turns out to go to one of <paramref name="busySessions"/>: it is read in its turn.</returns>
        public static async Task<Ahead?> StartAsync(TierWorkspace workspace, int index, ClaudeTranscript transcript, ImportOptions options,
            IReadOnlyCollection<string> busySessions, CancellationToken cancellationToken)
        {
            ClaudeImporter.PreparedImport prepared;
            try
            {
                prepared = await ClaudeImporter.PrepareAsync(workspace, transcript.Path, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return new Ahead(index, null, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex));
            }
            if (busySessions.Contains(prepared.SessionId, StringComparer.Ordinal)) return null;
            return new Ahead(index, Task.Run(() =>
            {
                prepared.Parse(cancellationToken);
                return prepared;
            }, cancellationToken), null);
        }

        public async Task<ClaudeImporter.PreparedImport> TakeAsync()
        {
            _failed?.Throw();
            return await _parsed!.ConfigureAwait(false);
        }

        public async Task AbandonAsync()
        {
            if (_parsed is null) return;
            try
            {
                await _parsed.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Not needed any more: the import stopped before its turn (its own error, if any, is not the one to report).
            }
        }
    }

    /// <summary>
    /// The review rollups of the sessions an import completed (Complete-Session stores one with each completion, so that a phase review
    /// reads it instead of the session's events): each folded on a read-only connection of its own on another thread while the import
    /// stores the next session, and stored on the catalog's connection (the import's one writer) at the next completion and at the end.
    /// A rollup stands for the events it was folded from (their count and ids); one left unstored is folded by the next review.
    /// </summary>
    private sealed class Rollups(TierWorkspace workspace)
    {
        private readonly List<(string SessionId, Task<PhaseReviewer.FoldedRollup> Fold)> _folding = [];

        public bool Folding => _folding.Count > 0;

        public void Start(string sessionId, CancellationToken cancellationToken) =>
            _folding.Add((sessionId, Task.Run(() => PhaseReviewer.FoldRollupAsync(workspace.Catalog, workspace.Policy, sessionId, cancellationToken), cancellationToken)));

        public async Task SaveAsync(CancellationToken cancellationToken)
        {
            try
            {
                foreach (var (sessionId, fold) in _folding)
                {
                    try
                    {
                        await PhaseReviewer.SaveRollupAsync(workspace.Catalog, await fold.ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                    }
                    catch (System.Data.Common.DbException ex)
                    {
                        workspace.Warn($"Session '{sessionId}' is completed, but its review rollup was not stored ({ex.Message}): the phase review will read its events instead.");
                    }
                }
            }
            finally
            {
                _folding.Clear();
            }
        }

        public async Task AbandonAsync()
        {
            foreach (var (_, fold) in _folding)
            {
                try
                {
                    await fold.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Not stored either way: the import stopped before (its own error, if any, is the one to report).
                }
            }
            _folding.Clear();
        }
    }

    /// <summary>One warning for a file's bad lines: their count and the first line numbers.</summary>
    public static string MalformedSummary(string path, IReadOnlyList<MalformedLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var numbers = string.Join(", ", lines.Take(MalformedLinesNamed).Select(l => l.LineNumber.ToString(CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture,
            $"{path}: {lines.Count} line(s) could not be read and were left out (line{(lines.Count == 1 ? "" : "s")} {numbers}{(lines.Count > MalformedLinesNamed ? ", ..." : "")}); first: {lines[0].Reason.TrimEnd('.')}.");
    }

    /// <summary>The models (sorted) that neither the policy nor the shipped price list prices.</summary>
    public static IReadOnlyList<string> UnpricedModels(PricingPolicy pricing, IEnumerable<string> models)
    {
        ArgumentNullException.ThrowIfNull(pricing);
        var prices = pricing.Models.Count > 0 ? pricing.Models : PolicyDefaults.ModelPrices();
        return [.. models.Where(m => PhaseReviewer.FindPrice(prices, m) is null).Order(StringComparer.Ordinal)];
    }

    /// <summary>Completes the group's sessions that are finished; the review rollups of those completed now are folded on other threads
    /// (<paramref name="rollups"/>), and those of the group before are stored first.</summary>
    private static async Task<IReadOnlyList<ClaudeImportResult>> CompleteAsync(TierWorkspace workspace, IReadOnlyList<(ClaudeTranscript Transcript, ImportResult Result)> group,
        CompletionOptions completion, Rollups rollups, CancellationToken background, CancellationToken cancellationToken)
    {
        await rollups.SaveAsync(cancellationToken).ConfigureAwait(false);
        var completed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var session in group.GroupBy(g => g.Result.SessionId, StringComparer.Ordinal))
        {
            var changed = session.Any(g => g.Result.EventsImported > 0);
            var (done, now) = await ClaudeImporter.CompleteIfFinishedAsync(workspace, session.Key, completion, changed, rollUp: false, cancellationToken).ConfigureAwait(false);
            if (done) completed.Add(session.Key);
            if (now) rollups.Start(session.Key, background);
        }
        return group.Select(g => new ClaudeImportResult
        {
            TranscriptPath = g.Result.TranscriptPath, SessionId = g.Result.SessionId, ClaudeSessionId = g.Result.ClaudeSessionId, IsSubagent = g.Transcript.IsSubagent,
            Agent = g.Result.Agent, EventsImported = g.Result.EventsImported, DuplicatesSkipped = g.Result.DuplicatesSkipped, BytesRead = g.Result.BytesRead,
            LinesRead = g.Result.LinesRead, Restarted = g.Result.Restarted, SessionCompleted = completed.Contains(g.Result.SessionId),
            MalformedLines = g.Result.MalformedLines.Select(m => $"line {m.LineNumber} (byte {m.ByteOffset}): {m.Reason}").ToList(),
        }).ToList();
    }
}
