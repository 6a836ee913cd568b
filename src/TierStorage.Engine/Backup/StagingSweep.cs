using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Backup;

/// <summary>
/// Clears what killed backups left in staging/ (issue 11 #9): the half-written temp files of a package that was being
/// built, the outputs of a package whose manifest was never written (the next backup builds it afresh anyway), and the
/// per-session lock files of earlier versions. A complete staged package is kept: the next backup of its session resends
/// those very bytes. Only the workspace's own names are touched (staging/&lt;session&gt;.lock and the package files in
/// staging/&lt;session&gt;/), and a session whose backup is running now is left alone.
/// </summary>
internal static class StagingSweep
{
    private static readonly string[] PackageFiles =
    [
        SessionPackager.ActivityFileName, SessionPackager.SnapshotsFileName, SessionPackager.HandoffFileName,
        SessionPackager.AnalyticsFileName, SessionPackager.CompressedAnalyticsFileName, SessionManifest.FileName,
    ];

    /// <summary>A temp output, and the journal files SQLite keeps beside the analytics copy while it writes it.</summary>
    private static readonly string[] TempSuffixes = ["", "-journal", "-wal", "-shm"];

    public static string LockPath(string stagingDirectory, string sessionId) => Path.Combine(stagingDirectory, sessionId + ".lock");

    /// <summary>Sweeps the staging of every session that has a lock file or is in <paramref name="catalogSessions"/>. Returns
    /// the sessions whose staging it cleared something from.</summary>
    public static async Task<IReadOnlyList<string>> SweepAsync(string stagingDirectory, IReadOnlySet<string> catalogSessions, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(stagingDirectory)) return [];
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var lockFile in Directory.EnumerateFiles(stagingDirectory, "*.lock"))
            if (Path.GetFileNameWithoutExtension(lockFile) is var id && SessionIds.IsValid(id)) candidates.Add(id);
        foreach (var directory in Directory.EnumerateDirectories(stagingDirectory))
            if (Path.GetFileName(directory) is var id && catalogSessions.Contains(id)) candidates.Add(id);

        var swept = new List<string>();
        foreach (var sessionId in candidates)
        {
            FileLock sessionLock;
            try
            {
                sessionLock = await FileLock.AcquireAsync(LockPath(stagingDirectory, sessionId), TimeSpan.Zero, removeWhenReleased: true, cancellationToken).ConfigureAwait(false);
            }
            catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.LockTimeout)
            {
                continue; // its backup is running and owns the staging
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            using (sessionLock)
                if (ClearPartial(Path.Combine(stagingDirectory, sessionId))) swept.Add(sessionId);
        }
        return swept;
    }

    private static bool ClearPartial(string staging)
    {
        if (!Directory.Exists(staging)) return false;
        var cleared = false;
        try
        {
            foreach (var name in PackageFiles)
                foreach (var suffix in TempSuffixes)
                    cleared |= TryDelete(AtomicFile.TempPathFor(Path.Combine(staging, name)) + suffix);
            if (!File.Exists(Path.Combine(staging, SessionManifest.FileName)))
                foreach (var name in PackageFiles)
                    cleared |= TryDelete(Path.Combine(staging, name));
            if (!Directory.EnumerateFileSystemEntries(staging).Any()) Directory.Delete(staging);
        }
        catch (IOException)
        {
            // Only a cache: what cannot be removed now is replaced by the session's next package.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return cleared;
    }

    private static bool TryDelete(string path)
    {
        // Packaging writes regular files only: a link of one of these names was put there by someone else.
        if (new FileInfo(path) is not { Exists: true, LinkTarget: null }) return false;
        File.Delete(path);
        return true;
    }
}
