using System.Runtime.CompilerServices;
using TierStorage.Contracts;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>The policy's backup trigger after Complete-Session: nothing when backup.on_session_complete is off (or
    /// <paramref name="skip"/>); with <paramref name="wait"/> the backup runs here and its results are yielded; otherwise
    /// it is handed to a detached `tierstorage backup run` process and one Started result says which.</summary>
    /// <param name="backgroundCommand">Builds the command line of the background backup from the session id, the workspace
    /// directory and the policy file (null for the embedded default).</param>
    public async IAsyncEnumerable<BackupResult> AfterSessionCompletedAsync(string sessionId, bool wait, bool skip,
        Func<string, string, string?, BackgroundCommand> backgroundCommand, IProgress<BackupProgress>? progress,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (skip || !_workspace.Policy.Backup.OnSessionComplete) yield break;
        if (wait)
        {
            await foreach (var result in BackupAsync(new BackupRequest { SessionIds = [sessionId] }, progress, cancellationToken).ConfigureAwait(false))
                yield return result;
            yield break;
        }

        var tier = ResolveTier(null);
        var record = await RequireBackupableAsync(sessionId, cancellationToken).ConfigureAwait(false);
        var policyFile = File.Exists(_workspace.Policy.Source) ? _workspace.Policy.Source : null;
        var pid = BackgroundBackup.Start(backgroundCommand(sessionId, _workspace.Root, policyFile));
        yield return new BackupResult
        {
            SessionId = sessionId, Phase = record.Phase, Tier = tier.Name, Status = BackupStatus.Started,
            Message = $"Backup handed to background process {pid}; Get-Session shows BackedUp when it is verified (or Queued in the backup queue while the tier is unreachable).",
        };
    }
}
