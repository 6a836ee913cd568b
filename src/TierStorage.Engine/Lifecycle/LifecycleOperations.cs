using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Lifecycle;

/// <summary>
/// Move-DataTier over a real workspace: reads the catalog and the disk into a <see cref="LifecycleModel"/>, plans with
/// <see cref="LifecyclePlanner"/>, and executes one step at a time. Before every Delete the model is read again and
/// <see cref="LifecycleSafety"/> asked, so a step whose copy failed, or data changed since the plan, is skipped rather
/// than run. A failed step leaves both copies; rerunning plans what is left.
/// </summary>
public sealed partial class LifecycleOperations
{
    private static readonly string[] SessionClasses = ["activity_logs", "snapshots", "handoffs"];

    private readonly TierWorkspace _workspace;

    internal LifecycleOperations(TierWorkspace workspace) => _workspace = workspace;

    private CatalogDatabase Catalog => _workspace.Catalog;

    /// <summary>The ordered plan (Move-DataTier -WhatIf prints it).</summary>
    public async Task<IReadOnlyList<TierMove>> PlanAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var plan = LifecyclePlanner.Plan(await BuildModelAsync(cancellationToken).ConfigureAwait(false));
        _workspace.Inform(plan.Count == 0 ? "The policy asks for no move now." : $"The policy asks for {plan.Count} step(s).");
        _workspace.Detail($"Planned in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms.");
        return plan;
    }

    /// <summary>Runs one planned step and returns it Done, Skipped (its safety check no longer holds) or Failed (with the
    /// reason; nothing was removed). <paramref name="force"/> accepts Deep Archive's early-deletion charge.</summary>
    public async Task<TierMove> ExecuteAsync(TierMove move, bool force, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(move);
        var what = $"{move.Action} {(move.SessionId is { } id ? $"session '{id}'" : $"phase {move.Phase}")} from '{move.From}'{(move.To is null ? "" : $" to '{move.To}'")}";
        _workspace.Inform($"{what}: asked for by rule '{move.Rule}'.");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var done = await ExecuteStepAsync(move, force, progress, cancellationToken).ConfigureAwait(false);
        if (done.State != TierMoveState.Done) _workspace.Inform($"{what}: {done.State}{(done.Message is null ? "" : $": {done.Message}")}");
        _workspace.Detail($"{what}: {done.State} in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms, {done.Bytes:N0} bytes.");
        return done;
    }

    private async Task<TierMove> ExecuteStepAsync(TierMove move, bool force, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            switch (move.Action)
            {
                case TierMoveAction.Copy:
                    BackupResult? last = null;
                    await foreach (var r in _workspace.Backups.BackupAsync(new BackupRequest { SessionIds = [move.SessionId!], Tier = move.To, DrainQueue = false }, progress, cancellationToken).ConfigureAwait(false))
                        last = r;
                    return last switch
                    {
                        { Verified: true } => move with { State = TierMoveState.Done, Bytes = last.BytesSent },
                        // The tier is unreachable: the backup waits in the queue, and the deletes that needed it are skipped.
                        { Status: BackupStatus.Queued } => move with { State = TierMoveState.Skipped, Message = last.Message },
                        _ => move with { State = TierMoveState.Failed, Message = last?.Message ?? "The backup did not run." },
                    };
                case TierMoveAction.Archive:
                    var archived = await _workspace.Backups.ArchivePhaseAsync(move.Phase!.Value, force, progress, cancellationToken).ConfigureAwait(false);
                    return move with { State = TierMoveState.Done, Bytes = archived.SizeBytes, Message = $"{archived.Key}: {archived.Sessions.Count} sessions, verified." };
                default:
                    // A shared catalog: while another machine archives the phase (it reads these copies), its copies stay.
                    await using (var phaseLock = move.Phase is int phase
                        ? await Catalog.TryLockAsync($"archive/{_workspace.Identity.Namespace}/{phase}", TimeSpan.Zero, cancellationToken).ConfigureAwait(false)
                        : null)
                    {
                        if (move.Phase is not null && phaseLock is null)
                            return move with { State = TierMoveState.Skipped, Message = $"Another machine of the shared catalog is archiving phase {move.Phase} now; its copies stay until it is done." };
                        return await DeleteCheckedAsync(move, force, cancellationToken).ConfigureAwait(false);
                    }
            }
        }
        catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.InProgressElsewhere)
        {
            return move with { State = TierMoveState.Skipped, Message = ex.Message };
        }
        catch (TierStorageException ex) when (ex.ErrorId != ErrorIds.PolicyInvalid)
        {
            return move with { State = TierMoveState.Failed, Message = $"{ex.ErrorId}: {ex.Message}" };
        }
    }

    /// <summary>A Delete step checked against the catalog and the disk as they are now (not as planned).</summary>
    private async Task<TierMove> DeleteCheckedAsync(TierMove move, bool force, CancellationToken cancellationToken)
    {
        var current = await BuildModelAsync(cancellationToken).ConfigureAwait(false);
        // An earlier step may have done this one's work (a backup prunes beyond local retention): the goal holds.
        if (move.SessionId is not null && LifecycleRules.LevelOf(current.Policy, move.From) is { } from
            && current.Items.FirstOrDefault(i => i.Matches(move.SessionId, move.Phase, move.DataClass)) is { } item && !LifecycleRules.HasCopy(item, from))
            return move with { State = TierMoveState.Done, Bytes = 0, Message = $"Already gone from {move.From}." };
        if (LifecycleSafety.CheckDelete(move, current) is { } refused)
            return move with { State = TierMoveState.Skipped, Message = refused };
        var freed = await DeleteAsync(move, force, cancellationToken).ConfigureAwait(false);
        return move with { State = TierMoveState.Done, Bytes = freed };
    }

    private async Task<long> DeleteAsync(TierMove move, bool force, CancellationToken cancellationToken)
    {
        var level = LifecycleRules.LevelOf(_workspace.Policy, move.From);
        if (move.SessionId is null && level == TierLevel.Archive)
            return await _workspace.Backups.DeleteArchiveAsync(move.Phase!.Value, force, cancellationToken).ConfigureAwait(false);
        if (move.SessionId is null)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidOperation, $"'{move.Subject}' names no session to delete from '{move.From}'.", move.Subject);
        return level == TierLevel.Local
            ? await _workspace.DeleteLocalClassAsync(move.SessionId, move.DataClass, cancellationToken).ConfigureAwait(false)
            : await _workspace.Backups.DeleteClassCopyAsync(move.SessionId, move.DataClass, move.From, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The catalog and the disk as the planner sees them: which tier holds a verified copy of each session's
    /// log, snapshots and handoff, and which phases have a verified archive.</summary>
    public Task<LifecycleModel> BuildModelAsync(CancellationToken cancellationToken) => BuildModelAsync(_workspace.Policy, cancellationToken);

    /// <summary>The model under another policy (the run's auto-migration plans with tightened retention).</summary>
    internal async Task<LifecycleModel> BuildModelAsync(TierPolicy policy, CancellationToken cancellationToken)
    {
        var backupTier = policy.GetTier(TierLevel.Backup)?.Name;
        var archiveTier = policy.GetTier(TierLevel.Archive)?.Name;
        // A shared catalog: every machine's sessions, so that a phase ends, and is archived, with all of them; another machine's
        // files are never this machine's to find or delete (LocateLog knows only its own).
        var records = await _workspace.ListAllRecordsAsync(cancellationToken).ConfigureAwait(false);
        var objects = new List<StoredObject>();
        await foreach (var o in Catalog.ListObjectsAsync(null, null, cancellationToken).ConfigureAwait(false)) objects.Add(o);
        var phaseRows = await Catalog.ListPhasesAsync(cancellationToken).ConfigureAwait(false);
        var newestPhase = phaseRows.Count == 0 ? (int?)null : phaseRows.Max(p => p.Number);

        var phases = new List<LifecyclePhase>();
        foreach (var row in phaseRows)
        {
            var sessions = records.Where(s => s.Phase == row.Number).ToList();
            var folder = BackupLayout.PhaseFolder(row.Number, row.Name);
            var archive = objects.FirstOrDefault(o => Same(o.Tier, archiveTier) && o.Key == PhaseArchiveManifest.ArchiveKeyFor(folder) && o.VerifiedAt is not null);
            phases.Add(new LifecyclePhase
            {
                Number = row.Number, Name = row.Name, StartedAt = row.StartedAt,
                // The newest phase is the current one; an older phase ended with its last session.
                EndedAt = row.Number == newestPhase || sessions.Any(s => s.State == SessionState.Active) ? null : sessions.Select(s => s.EndedAt).Max() ?? row.StartedAt,
                ArchivedAt = archive?.VerifiedAt, ArchiveExpired = row.ArchiveExpiredAt is not null,
            });
        }

        var items = new List<LifecycleItem>();
        foreach (var s in records)
        {
            var mine = objects.Where(o => o.SessionId == s.SessionId).ToList();
            var logPath = _workspace.LocateLog(s);
            foreach (var dataClass in SessionClasses)
            {
                var packaged = PackageFileOf(dataClass);
                // Per file: each was checked against the tier's MD5 when it was stored (the manifest vouches for the whole
                // set, which a lifecycle step may have thinned out on purpose).
                var onBackup = mine.Any(o => Same(o.Tier, backupTier) && o.Key.EndsWith("/" + packaged, StringComparison.Ordinal) && o.VerifiedAt is not null);
                var inArchive = mine.Any(o => Same(o.Tier, archiveTier) && o.Key.EndsWith($"{BackupOperations.ArchiveMemberSeparator}sessions/{s.SessionId}/{packaged}", StringComparison.Ordinal) && o.VerifiedAt is not null);
                var localFiles = LocalFiles(s, dataClass, logPath);
                items.Add(new LifecycleItem
                {
                    Phase = s.Phase, SessionId = s.SessionId, DataClass = dataClass,
                    Bytes = localFiles.Sum(f => new FileInfo(f).Length) is var local and > 0 ? local : mine.Where(o => o.Key.EndsWith("/" + packaged, StringComparison.Ordinal)).Select(o => o.SizeBytes).FirstOrDefault(),
                    WrittenAt = s.EndedAt ?? s.StartedAt, OnLocal = localFiles.Count > 0, OnBackup = onBackup, InArchive = inArchive,
                });
            }
        }

        return new LifecycleModel
        {
            Now = _workspace.Now, Policy = policy,
            Phases = phases,
            Sessions = records.Select(s => new LifecycleSession
            {
                SessionId = s.SessionId, Phase = s.Phase, StartedAt = s.StartedAt,
                // A transcript still being imported stays where it is, like an active session, until it is finished.
                State = s.IsUnfinishedImport ? SessionState.Active : s.State, EndedAt = s.IsUnfinishedImport ? null : s.EndedAt,
            }).ToList(),
            Items = items,
        };
    }

    /// <summary>The package file that carries a data class on the backup tier and inside the archive.</summary>
    internal static string PackageFileOf(string? dataClass) => dataClass switch
    {
        "activity_logs" => SessionPackager.ActivityFileName,
        "snapshots" => SessionPackager.SnapshotsFileName,
        "handoffs" => SessionPackager.HandoffFileName,
        _ => throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"'{dataClass}' is not a data class a session's files belong to.", dataClass),
    };

    private List<string> LocalFiles(SessionRecord session, string dataClass, string? logPath) => dataClass switch
    {
        "activity_logs" => logPath is null ? [] : [logPath],
        "snapshots" => _workspace.Layout.EnumerateSnapshots(session.SessionId).Select(s => s.Path).ToList(),
        _ => session.HandoffPath is { } h && File.Exists(h) ? [h] : [],
    };

    private static bool Same(string a, string? b) => b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
