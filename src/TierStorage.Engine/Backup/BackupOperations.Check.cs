using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Backup;

public sealed record BackupCheckRequest
{
    /// <summary>Default the policy's level-2 tier.</summary>
    public string? Tier { get; init; }
    /// <summary>Only this session (orphans are then not listed).</summary>
    public string? SessionId { get; init; }
    /// <summary>Download and re-hash the data instead of trusting the tier's reported MD5.</summary>
    public bool ReadData { get; init; }
    /// <summary>With ReadData: the share of objects to read, 0 &lt; p ≤ 100.</summary>
    public double SamplePercent { get; init; } = 100;
    /// <summary>Encrypted tiers: check the ciphertext against its envelopes without the key (objects named by tier key,
    /// no session ids); with ReadData, its SHA-256 too.</summary>
    public bool CiphertextOnly { get; init; }
}

public sealed partial class BackupOperations
{
    /// <summary>Compares the catalog with what the tier holds (Test-Backup): one BackupCheck per problem object, one Ok per
    /// healthy session, one Missing per completed session without a verified backup, one Orphan per unknown object.
    /// Objects found Missing or Corrupt lose their verified mark, and so does their session's manifest.</summary>
    /// <remarks>Without a tier, every session is checked where it lives: on the backup tier, and an archived one on the
    /// archive tier (the backup tier gave its copy up once the archive was verified).</remarks>
    public async IAsyncEnumerable<BackupCheck> CheckAsync(BackupCheckRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.SamplePercent is <= 0 or > 100)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                $"The sample must be more than 0% and at most 100%, not {request.SamplePercent}%.", request.SamplePercent);
        var tier = ResolveTier(request.Tier);
        if (request.CiphertextOnly)
        {
            await foreach (var check in _workspace.Encryption.VerifyCiphertextAsync(request.Tier, request.ReadData, cancellationToken).ConfigureAwait(false))
                yield return check;
            yield break;
        }
        SessionRecord? only = null;
        if (request.SessionId is { } sessionId && (only = await Catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false)) is null)
            throw TierWorkspace.SessionNotFound(sessionId);
        await foreach (var check in CheckTierAsync(tier, request, cancellationToken).ConfigureAwait(false))
            yield return check;

        if (request.Tier is not null || _workspace.Policy.GetTier(TierLevel.Archive) is not { } archiveTier) yield break;
        var archived = only is not null
            ? only.State == SessionState.Archived
            : (await _workspace.ListRecordsAsync(cancellationToken).ConfigureAwait(false)).Any(s => s.State == SessionState.Archived);
        if (!archived) yield break;
        await foreach (var check in CheckTierAsync(archiveTier, request, cancellationToken).ConfigureAwait(false))
            yield return check;
    }

    private async IAsyncEnumerable<BackupCheck> CheckTierAsync(TierDefinition tier, BackupCheckRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var onTier = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false)) onTier[info.Key] = info;

        var catalogued = new List<StoredObject>();
        await foreach (var o in Catalog.ListObjectsAsync(tier.Name, request.SessionId, cancellationToken).ConfigureAwait(false)) catalogued.Add(o);
        // Rows named archive#path are files inside a phase archive: the store holds the archive, not them, so they are
        // as sound as their archive, which is checked once as an object of its own.
        var members = catalogued.Where(IsArchiveMember).ToList();
        var direct = catalogued.Where(o => !IsArchiveMember(o)).ToList();
        if (request.SessionId is not null)
        {
            var archiveKeys = members.Select(ArchiveOf).ToHashSet(StringComparer.Ordinal);
            await foreach (var o in Catalog.ListObjectsAsync(tier.Name, null, cancellationToken).ConfigureAwait(false))
                if (o.SessionId is null && archiveKeys.Contains(o.Key)) direct.Add(o);
        }

        var damagedArchives = new HashSet<string>(StringComparer.Ordinal);
        foreach (var archive in direct.Where(o => o.SessionId is null))
        {
            var finding = await CheckObjectAsync(store, tier, archive, onTier.GetValueOrDefault(archive.Key), request, cancellationToken).ConfigureAwait(false);
            if (finding.Status == BackupCheckStatus.Ok) continue;
            if (finding.Status is BackupCheckStatus.Missing or BackupCheckStatus.Corrupt)
            {
                damagedArchives.Add(archive.Key);
                await Catalog.SetObjectVerifiedIfUnchangedAsync(archive, null, cancellationToken).ConfigureAwait(false);
                foreach (var member in members.Where(m => ArchiveOf(m) == archive.Key))
                    await Catalog.SetObjectVerifiedIfUnchangedAsync(member, null, cancellationToken).ConfigureAwait(false);
            }
            yield return finding;
        }

        var bySession = direct.Where(o => o.SessionId is not null).GroupBy(o => o.SessionId!).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var membersBySession = members.Where(o => o.SessionId is not null).GroupBy(o => o.SessionId!).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var session in await _workspace.ListRecordsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (request.SessionId is { } only && session.SessionId != only) continue;
            if (session.State == SessionState.Active) continue;
            var objects = bySession.GetValueOrDefault(session.SessionId) ?? [];
            var archived = membersBySession.GetValueOrDefault(session.SessionId) ?? [];
            var inSoundArchive = archived.Any(m => m.VerifiedAt is not null && m.Key.EndsWith("/" + SessionManifest.FileName, StringComparison.Ordinal) && !damagedArchives.Contains(ArchiveOf(m)));
            var hasManifest = objects.Any(o => BackupLayout.IsSessionManifest(o.Key) && o.VerifiedAt is not null);
            // An archive tier only holds the phases already archived: a session not archived yet is not missing there; and
            // an archived session's backup copy was given up once its archive was verified: it is not missing on the backup tier.
            var expected = tier.Level == TierLevel.Archive
                ? session.State == SessionState.Archived || archived.Count > 0
                : session.State != SessionState.Archived;
            if (!hasManifest && !inSoundArchive)
            {
                if (expected)
                    yield return Check(session.SessionId, tier, BackupCheckStatus.Missing, null, false,
                        $"Session '{session.SessionId}' ({session.State}) has no verified {(tier.Level == TierLevel.Archive ? "archive" : "backup")} on tier '{tier.Name}'.");
                if (objects.Count == 0) continue;
            }

            // Every object of the session is checked, and the catalog updated, before its first finding goes down the
            // pipeline: Test-Backup | Backup-Session backs the session up again as soon as it sees that finding.
            var findings = new List<BackupCheck>();
            var damaged = false;
            foreach (var o in objects)
            {
                var finding = await CheckObjectAsync(store, tier, o, onTier.GetValueOrDefault(o.Key), request, cancellationToken).ConfigureAwait(false);
                if (finding.Status == BackupCheckStatus.Ok) continue;
                if (finding.Status is BackupCheckStatus.Missing or BackupCheckStatus.Corrupt)
                {
                    damaged = true;
                    await Catalog.SetObjectVerifiedIfUnchangedAsync(o, null, cancellationToken).ConfigureAwait(false);
                }
                findings.Add(finding);
            }
            // A copy found damaged is no longer a verified copy: without its verified manifest the local tier keeps the
            // session (no prune) and the next Backup-Session sends it again.
            if (damaged)
                foreach (var manifest in objects.Where(o => BackupLayout.IsSessionManifest(o.Key)))
                    await Catalog.SetObjectVerifiedIfUnchangedAsync(manifest, null, cancellationToken).ConfigureAwait(false);
            foreach (var finding in findings) yield return finding;
            var problems = findings.Count;
            if (problems == 0 && (hasManifest || inSoundArchive))
                yield return Check(session.SessionId, tier, BackupCheckStatus.Ok, null, request.ReadData,
                    inSoundArchive && !hasManifest
                        ? $"In the verified archive '{ArchiveOf(archived[0])}' on tier '{tier.Name}'."
                        : $"{objects.Count} object(s) on tier '{tier.Name}' match the catalog{(request.ReadData ? " (data read)" : "")}.");
        }

        if (request.SessionId is not null) yield break;
        var known = direct.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in onTier.Keys.Where(k => !known.Contains(k) && !BackupLayout.IsWorkspaceFile(k)).OrderBy(k => k, StringComparer.Ordinal))
            yield return Check(BackupLayout.SessionOf(key) ?? "", tier, BackupCheckStatus.Orphan, key, false,
                $"'{key}' is on tier '{tier.Name}' but not in the catalog (Update-TierCatalog -FromTier adopts the tier's sessions).");
    }

    private static bool IsArchiveMember(StoredObject o) => o.Key.IndexOf(ArchiveMemberSeparator) >= 0;

    private static string ArchiveOf(StoredObject member) => member.Key[..member.Key.IndexOf(ArchiveMemberSeparator)];

    private async Task<BackupCheck> CheckObjectAsync(IObjectStore store, TierDefinition tier, StoredObject o, ObjectInfo? info, BackupCheckRequest request, CancellationToken cancellationToken)
    {
        var session = o.SessionId ?? "";
        if (info is null)
            return Check(session, tier, BackupCheckStatus.Missing, o.Key, false, $"The catalog lists '{o.Key}' on tier '{tier.Name}', but the tier does not hold it.");
        if (info.Size != o.SizeBytes || (o.Md5 is not null && !string.Equals(info.Md5, o.Md5, StringComparison.OrdinalIgnoreCase)))
            return Check(session, tier, BackupCheckStatus.Corrupt, o.Key, false,
                $"'{o.Key}': the tier reports {info.Size:N0} bytes, MD5 {info.Md5 ?? "(none)"}; the catalog recorded {o.SizeBytes:N0} bytes, MD5 {o.Md5}.");
        if (request.ReadData && Random.Shared.NextDouble() * 100 < request.SamplePercent)
        {
            if (store is IArchiveStore cold && !(await cold.GetRestoreStatusAsync(o.Key, cancellationToken).ConfigureAwait(false)).IsReadable)
                return Check(session, tier, BackupCheckStatus.Ok, o.Key, false,
                    $"'{o.Key}' matches by the tier's checksum; it is in cold storage, so its bytes were not read (that needs a thaw).");
            var (md5, sha256, size) = await HashObjectAsync(store, o.Key, cancellationToken).ConfigureAwait(false);
            if (size != o.SizeBytes || (o.Md5 is not null && md5 != o.Md5.ToLowerInvariant()) || (o.Sha256 is not null && sha256 != o.Sha256.ToLowerInvariant()))
                return Check(session, tier, BackupCheckStatus.Corrupt, o.Key, true,
                    $"'{o.Key}': the bytes read back ({size:N0} bytes, SHA-256 {sha256}) differ from the catalog's ({o.SizeBytes:N0} bytes, SHA-256 {o.Sha256}).");
            if (o.VerifiedAt is null)
                await Catalog.SetObjectVerifiedIfUnchangedAsync(o, _workspace.Now, cancellationToken).ConfigureAwait(false);
            return Check(session, tier, BackupCheckStatus.Ok, o.Key, true, "");
        }
        if (o.VerifiedAt is null)
            return Check(session, tier, BackupCheckStatus.Unverified, o.Key, false, $"'{o.Key}' is on tier '{tier.Name}' but was never verified; Test-Backup -ReadData verifies it.");
        return Check(session, tier, BackupCheckStatus.Ok, o.Key, false, "");
    }

    private static async Task<(string Md5, string Sha256, long Size)> HashObjectAsync(IObjectStore store, string key, CancellationToken cancellationToken)
    {
        await using var hashing = new ChecksumStream(Stream.Null, leaveOpen: false);
        await store.GetAsync(key, hashing, 0, null, cancellationToken).ConfigureAwait(false);
        var sum = hashing.GetChecksum();
        return (sum.Md5, sum.Sha256, sum.Size);
    }

    private static BackupCheck Check(string sessionId, TierDefinition tier, BackupCheckStatus status, string? key, bool dataRead, string message) =>
        new() { SessionId = sessionId, Tier = tier.Name, Status = status, Key = key, DataRead = dataRead, Message = message };

    private async Task<(SessionManifest? Manifest, MemoryStream Bytes)> TryReadSessionManifestAsync(IObjectStore store, TierDefinition tier, string key,
        CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        var manifest = await TryAsync(async () =>
        {
            await store.GetAsync(key, bytes, 0, null, cancellationToken).ConfigureAwait(false);
            var parsed = SessionManifest.Parse(bytes.ToArray(), $"{tier.Name}:{key}");
            // What the rebuild records is vouched for from then on, so its claims are held to the unvouched bounds here.
            ExpansionBounds.RequireWithin(parsed, $"{tier.Name}:{key}");
            return parsed;
        }, tier, key).ConfigureAwait(false);
        return (manifest, bytes);
    }

    /// <summary>A manifest read that failed on its own content (damaged, unreadable, gone since the listing) gives null and a
    /// warning naming it; an unreachable tier still ends the rebuild.</summary>
    private async Task<T?> TryAsync<T>(Func<Task<T>> read, TierDefinition tier, string key) where T : class
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (TierStorageException ex) when (ex.ErrorId is not (ErrorIds.TierUnreachable or ErrorIds.TierAuthRequired or ErrorIds.TierAccessDenied))
        {
            _workspace.Warn($"'{key}' on tier '{tier.Name}' was skipped ({ex.ErrorId}): {ex.Message}");
            return null;
        }
    }

    /// <summary>Rebuilds the catalog from a tier's manifests and the local logs (Update-TierCatalog -FromTier), for when the
    /// local disk or the catalog was lost: sessions the catalog lacks are added (state BackedUp, or Archived from a phase
    /// archive's manifest), every object is recorded, verified when the tier's size and MD5 match the manifest, and the
    /// sessions get their events back (issue 11 #7): from their logs in logs/ (<see cref="LocalLogIndexer"/>, which also
    /// adds sessions only the local disk has), else a backed-up session's from its backup (analytics snapshot, or its
    /// activity log when that copy is damaged). An archived session's events stay in its archive until a review asks for them
    /// (Invoke-PhaseReview -Full). Results come once every step is done, so each says how many events its session has.</summary>
    public async IAsyncEnumerable<CatalogRebuildResult> RebuildCatalogAsync(string? tierName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fromTier = new List<CatalogRebuildResult>();
        await foreach (var result in ReadTierManifestsAsync(tierName, cancellationToken).ConfigureAwait(false)) fromTier.Add(result);
        var local = (await new LocalLogIndexer(_workspace).IndexAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(r => r.SessionId, StringComparer.Ordinal);

        var withoutEvents = new List<SessionRecord>();
        foreach (var id in fromTier.Where(r => r.Action != "Skipped" && r.SessionId.Length > 0 && !local.ContainsKey(r.SessionId)).Select(r => r.SessionId).Distinct())
            if (await Catalog.GetSessionAsync(id, cancellationToken).ConfigureAwait(false) is { EventCount: 0, State: SessionState.BackedUp } session)
                withoutEvents.Add(session);
        var unread = withoutEvents.Count == 0 ? [] : await ImportEventsFromBackupAsync(withoutEvents, null, cancellationToken).ConfigureAwait(false);
        foreach (var (session, problem) in unread.Where(u => u.Problem is not null))
            _workspace.Warn($"The events of session '{session.SessionId}' could not be read back from its backup ({problem}); Get-SessionEvent shows none until a rebuild or Restore-Session succeeds.");
        var gotEvents = withoutEvents.Select(s => s.SessionId).Except(unread.Select(u => u.Session.SessionId)).Concat(local.Keys).ToHashSet(StringComparer.Ordinal);

        foreach (var result in fromTier)
        {
            if (result.Action == "Skipped" || result.SessionId.Length == 0)
            {
                yield return result;
                continue;
            }
            var events = (await Catalog.GetSessionAsync(result.SessionId, cancellationToken).ConfigureAwait(false))?.EventCount ?? 0;
            local.Remove(result.SessionId);
            yield return result with { EventCount = events, Action = result.Action == "Unchanged" && gotEvents.Contains(result.SessionId) ? "Updated" : result.Action };
        }
        foreach (var result in local.Values) yield return result;
    }

    /// <summary>The tier's share of <see cref="RebuildCatalogAsync"/>: sessions and objects from its manifests.</summary>
    private async IAsyncEnumerable<CatalogRebuildResult> ReadTierManifestsAsync(string? tierName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tier = ResolveTier(tierName);
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var onTier = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false)) onTier[info.Key] = info;
        if (onTier.Count == 0)
        {
            // A workspace recreated after its disk was lost has a new namespace: say which ones the tier holds.
            var spaces = await _workspace.ListTierNamespacesAsync(tier, cancellationToken).ConfigureAwait(false);
            if (spaces.Count > 0)
                _workspace.Warn($"Tier '{tier.Name}' holds nothing in this workspace's namespace '{_workspace.Identity.Namespace}'. It holds: " +
                    $"{TierWorkspace.DescribeNamespaces(spaces)}. If one is this project's (a workspace recreated after its disk was lost), " +
                    $"rebuild with Update-TierCatalog -FromTier {tier.Name} -Namespace <namespace> (tierstorage catalog rebuild --from-tier {tier.Name} --namespace <namespace>).");
        }

        foreach (var manifestKey in onTier.Keys.Where(BackupLayout.IsSessionManifest).OrderBy(k => k, StringComparer.Ordinal))
        {
            var (manifest, bytes) = await TryReadSessionManifestAsync(store, tier, manifestKey, cancellationToken).ConfigureAwait(false);
            if (manifest is null)
            {
                // One damaged manifest must not cost the intact sessions their way back: it is named and skipped.
                yield return new CatalogRebuildResult { SessionId = BackupLayout.SessionOf(manifestKey) ?? "", Tier = tier.Name, Action = "Skipped", Key = manifestKey };
                continue;
            }
            if (manifest.SessionId != BackupLayout.SessionOf(manifestKey))
            {
                _workspace.Warn($"'{manifestKey}' on tier '{tier.Name}' describes session '{manifest.SessionId}'; it was left out.");
                continue;
            }
            var prefix = manifestKey[..^SessionManifest.FileName.Length];
            var existing = await Catalog.GetSessionAsync(manifest.SessionId, cancellationToken).ConfigureAwait(false);
            var action = "Unchanged";
            await Catalog.EnsurePhaseAsync(manifest.PhaseNumber, manifest.PhaseName, manifest.CreatedAt, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                await Catalog.InsertSessionAsync(new SessionRecord
                {
                    SessionId = manifest.SessionId, Phase = manifest.PhaseNumber, StartedAt = manifest.CreatedAt, EndedAt = manifest.CreatedAt,
                    State = SessionState.BackedUp,
                }, cancellationToken).ConfigureAwait(false);
                action = "Added";
            }

            var known = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
            await foreach (var o in Catalog.ListObjectsAsync(tier.Name, manifest.SessionId, cancellationToken).ConfigureAwait(false)) known[o.Key] = o;
            var count = 0;
            var manifestSum = Checksums(bytes.ToArray());
            var entries = manifest.Files.Select(f => (Key: prefix + f.Name, f.Size, f.Md5, f.Sha256))
                .Append((Key: manifestKey, Size: bytes.Length, Md5: manifestSum.Md5, Sha256: manifestSum.Sha256));
            foreach (var (key, size, md5, sha256) in entries)
            {
                if (!onTier.TryGetValue(key, out var info)) continue;
                var matches = info.Size == size && string.Equals(info.Md5, md5, StringComparison.OrdinalIgnoreCase);
                var stored = new StoredObject
                {
                    Tier = tier.Name, Key = key, SessionId = manifest.SessionId, Phase = manifest.PhaseNumber, SizeBytes = size, Md5 = md5, Sha256 = sha256,
                    StoredAt = info.LastModified ?? manifest.CreatedAt, VerifiedAt = matches ? _workspace.Now : null,
                };
                count++;
                if (known.TryGetValue(key, out var before) && before with { StoredAt = default, VerifiedAt = null } == stored with { StoredAt = default, VerifiedAt = null }
                    && (before.VerifiedAt is null) == (stored.VerifiedAt is null))
                    continue;
                await Catalog.UpsertObjectAsync(stored, cancellationToken).ConfigureAwait(false);
                if (action == "Unchanged") action = "Updated";
            }
            // A session a local-only rebuild brought back as Completed is backed up, as its verified copy here shows.
            if (existing is { State: SessionState.Completed, IsUnfinishedImport: false }
                && await Catalog.HasVerifiedCopyAsync(manifest.SessionId, _workspace.LocalTierName, cancellationToken).ConfigureAwait(false))
            {
                await Catalog.UpdateSessionAsync(existing with { State = SessionState.BackedUp }, cancellationToken).ConfigureAwait(false);
                action = "Updated";
            }
            yield return new CatalogRebuildResult { SessionId = manifest.SessionId, Phase = manifest.PhaseNumber, Tier = tier.Name, Action = action, ObjectCount = count };
        }

        // Phase archives: their warm manifests name every session and file inside, so archived sessions come back too.
        foreach (var manifestKey in onTier.Keys.Where(k => k.StartsWith("metadata/", StringComparison.Ordinal) && k.EndsWith("_manifest.json", StringComparison.Ordinal))
                     .OrderBy(k => k, StringComparer.Ordinal))
        {
            var phase = await TryAsync(() => ReadPhaseManifestAsync(store, tier, manifestKey, cancellationToken), tier, manifestKey).ConfigureAwait(false);
            if (phase is null)
            {
                yield return new CatalogRebuildResult { Tier = tier.Name, Action = "Skipped", Key = manifestKey };
                continue;
            }
            if (!onTier.TryGetValue(phase.ArchiveKey, out var archive)) continue;
            var now = _workspace.Now;
            var verified = archive.Size == phase.ArchiveSize && string.Equals(archive.Md5, phase.ArchiveMd5, StringComparison.OrdinalIgnoreCase) ? now : (DateTimeOffset?)null;
            await Catalog.EnsurePhaseAsync(phase.Phase, phase.PhaseName, phase.PhaseStartedAt ?? phase.CreatedAt, cancellationToken).ConfigureAwait(false);
            await Catalog.UpsertObjectAsync(new StoredObject
            {
                Tier = tier.Name, Key = phase.ArchiveKey, Phase = phase.Phase, SizeBytes = phase.ArchiveSize, Md5 = phase.ArchiveMd5, Sha256 = phase.ArchiveSha256,
                StoredAt = archive.LastModified ?? phase.CreatedAt, VerifiedAt = verified,
            }, cancellationToken).ConfigureAwait(false);
            foreach (var session in phase.Sessions)
            {
                var action = "Unchanged";
                if (await Catalog.GetSessionAsync(session.SessionId, cancellationToken).ConfigureAwait(false) is null)
                {
                    await Catalog.InsertSessionAsync(new SessionRecord
                    {
                        SessionId = session.SessionId, Phase = phase.Phase, StartedAt = session.StartedAt, EndedAt = session.EndedAt, State = SessionState.Archived,
                    }, cancellationToken).ConfigureAwait(false);
                    action = "Added";
                }
                var files = phase.Files.Where(f => f.SessionId == session.SessionId).ToList();
                foreach (var file in files)
                    await Catalog.UpsertObjectAsync(new StoredObject
                    {
                        Tier = tier.Name, Key = phase.ArchiveKey + ArchiveMemberSeparator + file.Path, SessionId = session.SessionId, Phase = phase.Phase,
                        SizeBytes = file.Size, Md5 = file.Md5, Sha256 = file.Sha256, StoredAt = archive.LastModified ?? phase.CreatedAt, VerifiedAt = verified,
                    }, cancellationToken).ConfigureAwait(false);
                yield return new CatalogRebuildResult { SessionId = session.SessionId, Phase = phase.Phase, Tier = tier.Name, Action = action, ObjectCount = files.Count };
            }
        }
    }

    private static (string Md5, string Sha256) Checksums(byte[] bytes) =>
        (Convert.ToHexString(MD5.HashData(bytes)).ToLowerInvariant(), Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());

    /// <summary>The seed's setup check (Test-TierConnection): reach the tier, upload a probe into a test folder, verify its
    /// MD5, read it back, clean up. One step per result; a failed step ends the run after reporting it (cleanup still runs).</summary>
    public async IAsyncEnumerable<TierConnectionStep> TestConnectionAsync(string? tierName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tier = ResolveTier(tierName);
        await using var store = await _workspace.OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
        var key = $"_tierstorage_connection_test/{Guid.NewGuid():N}/probe.bin";
        var probe = RandomNumberGenerator.GetBytes(256 * 1024);
        var md5 = Convert.ToHexString(MD5.HashData(probe)).ToLowerInvariant();
        var uploaded = false;
        var steps = new (string Name, Func<Task<string>> Run)[]
        {
            ("Reach", async () =>
            {
                await store.StatAsync(key, cancellationToken).ConfigureAwait(false);
                return $"Reached {store.Location}.";
            }),
            ("Upload", async () =>
            {
                var info = await store.PutAsync(key, new MemoryStream(probe), new PutOptions { ExpectedMd5 = md5 }, cancellationToken).ConfigureAwait(false);
                uploaded = true;
                return $"Created the test folder and uploaded {info.Size:N0} bytes to '{key}'.";
            }),
            ("Verify", async () =>
            {
                var info = await store.StatAsync(key, cancellationToken).ConfigureAwait(false);
                if (info is null || info.Size != probe.Length || !string.Equals(info.Md5, md5, StringComparison.OrdinalIgnoreCase))
                    throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData,
                        $"The tier reports {info?.Size:N0} bytes with MD5 {info?.Md5 ?? "(none)"}; {probe.Length:N0} bytes with MD5 {md5} were sent.", key);
                return $"The tier reports MD5 {md5}, as sent.";
            }),
            ("Download", async () =>
            {
                var back = new MemoryStream();
                await store.GetAsync(key, back, 0, null, cancellationToken).ConfigureAwait(false);
                if (!back.ToArray().AsSpan().SequenceEqual(probe))
                    throw new TierStorageException(ErrorIds.ChecksumMismatch, TierErrorKind.InvalidData, "The bytes read back differ from those uploaded.", key);
                return "Read the probe back byte for byte.";
            }),
        };
        var failed = false;
        foreach (var (name, run) in steps)
        {
            var step = await RunStepAsync(tier, name, run).ConfigureAwait(false);
            yield return step;
            if (!step.Succeeded)
            {
                failed = true;
                break;
            }
        }
        if (uploaded || !failed)
            yield return await RunStepAsync(tier, "CleanUp", async () =>
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                return "Deleted the probe.";
            }).ConfigureAwait(false);
    }

    private static async Task<TierConnectionStep> RunStepAsync(TierDefinition tier, string name, Func<Task<string>> run)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var message = await run().ConfigureAwait(false);
            return new TierConnectionStep { Tier = tier.Name, Step = name, Succeeded = true, Duration = Stopwatch.GetElapsedTime(started), Message = message };
        }
        catch (TierStorageException ex)
        {
            return new TierConnectionStep { Tier = tier.Name, Step = name, Succeeded = false, Duration = Stopwatch.GetElapsedTime(started), Message = $"{ex.ErrorId}: {ex.Message}" };
        }
    }
}
