using System.Runtime.CompilerServices;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Ingest;

/// <summary>Import-ClaudeSession: one transcript, or every transcript Claude Code keeps for a project (subagent files into
/// their parent's session), each incrementally; then each session that is finished is completed.</summary>
public static class ClaudeProjectImporter
{
    public static async IAsyncEnumerable<ClaudeImportResult> ImportAsync(TierWorkspace workspace, string? transcriptPath, string? projectPath,
        string? configDirectory, int? phase, CompletionOptions completion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(completion);
        IReadOnlyList<ClaudeTranscript> transcripts = transcriptPath is not null
            ? [new ClaudeTranscript(Path.GetFullPath(transcriptPath), Path.GetFileNameWithoutExtension(transcriptPath), false)]
            : ClaudeTranscriptLocator.Find(projectPath ?? Environment.CurrentDirectory, configDirectory);
        if (transcripts.Count == 0)
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
                $"Claude Code keeps no transcripts for '{projectPath ?? Environment.CurrentDirectory}' under '{ClaudeTranscriptLocator.ProjectDirectory(projectPath ?? Environment.CurrentDirectory, configDirectory)}'.",
                projectPath);
        // A session is completed only after all of its files are read (the locator lists a main file, then its subagents).
        var group = new List<(ClaudeTranscript Transcript, ImportResult Result)>();
        foreach (var transcript in transcripts)
        {
            if (group.Count > 0 && !transcript.IsSubagent)
            {
                foreach (var result in await CompleteAsync(workspace, group, completion, cancellationToken).ConfigureAwait(false)) yield return result;
                group.Clear();
            }
            var options = new ImportOptions
            {
                Phase = phase,
                // A subagent's file belongs to the session of the conversation that started it.
                SessionId = transcript.IsSubagent ? ClaudeImporter.SessionFor(transcript.ClaudeSessionId) : null,
            };
            group.Add((transcript, await ClaudeImporter.ImportAsync(workspace, transcript.Path, options, cancellationToken).ConfigureAwait(false)));
        }
        foreach (var result in await CompleteAsync(workspace, group, completion, cancellationToken).ConfigureAwait(false)) yield return result;
    }

    private static async Task<IReadOnlyList<ClaudeImportResult>> CompleteAsync(TierWorkspace workspace, IReadOnlyList<(ClaudeTranscript Transcript, ImportResult Result)> group,
        CompletionOptions completion, CancellationToken cancellationToken)
    {
        var completed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var session in group.GroupBy(g => g.Result.SessionId, StringComparer.Ordinal))
        {
            var changed = session.Any(g => g.Result.EventsImported > 0);
            if (await ClaudeImporter.CompleteIfFinishedAsync(workspace, session.Key, completion, changed, cancellationToken).ConfigureAwait(false))
                completed.Add(session.Key);
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
