using System.Runtime.CompilerServices;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Ingest;

/// <summary>Import-ClaudeSession: one transcript, or every transcript Claude Code keeps for a project (subagent files into
/// their parent's session), each incrementally.</summary>
public static class ClaudeProjectImporter
{
    public static async IAsyncEnumerable<ClaudeImportResult> ImportAsync(TierWorkspace workspace, string? transcriptPath, string? projectPath,
        string? configDirectory, int? phase, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        IReadOnlyList<ClaudeTranscript> transcripts = transcriptPath is not null
            ? [new ClaudeTranscript(Path.GetFullPath(transcriptPath), Path.GetFileNameWithoutExtension(transcriptPath), false)]
            : ClaudeTranscriptLocator.Find(projectPath ?? Environment.CurrentDirectory, configDirectory);
        if (transcripts.Count == 0)
            throw new TierStorageException(ErrorIds.ObjectNotFound, TierErrorKind.ObjectNotFound,
                $"Claude Code keeps no transcripts for '{projectPath ?? Environment.CurrentDirectory}' under '{ClaudeTranscriptLocator.ProjectDirectory(projectPath ?? Environment.CurrentDirectory, configDirectory)}'.",
                projectPath);
        foreach (var transcript in transcripts)
        {
            var options = new ImportOptions
            {
                Phase = phase,
                // A subagent's file belongs to the session of the conversation that started it.
                SessionId = transcript.IsSubagent ? ClaudeImporter.SessionFor(transcript.ClaudeSessionId) : null,
            };
            var result = await ClaudeImporter.ImportAsync(workspace, transcript.Path, options, cancellationToken).ConfigureAwait(false);
            yield return new ClaudeImportResult
            {
                TranscriptPath = result.TranscriptPath, SessionId = result.SessionId, ClaudeSessionId = result.ClaudeSessionId, IsSubagent = transcript.IsSubagent,
                EventsImported = result.EventsImported, DuplicatesSkipped = result.DuplicatesSkipped, BytesRead = result.BytesRead, Restarted = result.Restarted,
                MalformedLines = result.MalformedLines.Select(m => $"line {m.LineNumber} (byte {m.ByteOffset}): {m.Reason}").ToList(),
            };
        }
    }
}
