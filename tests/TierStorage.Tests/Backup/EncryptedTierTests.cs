using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Encrypted;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Client-side encryption (issue 11 #20) end to end on a folder tier: what the tier holds, and backup, check,
/// restore, catalog rebuild and key rotation through it.</summary>
public sealed class EncryptedTierTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private const string Marker = "ghp_ZEBRAMARKER0123456789abcdefABCDEF0123";
    private const string PhaseName = "okapiproject";

    private static async Task<BackupTestBed> EncryptedBedAsync(int localSessions = 2, string encryption = "  enabled: true\n  chunk_size: 64KB")
    {
        var bed = await CreateAsync(localSessions, extraYaml: "encryption:\n" + encryption);
        if (!encryption.Contains("passphrase", StringComparison.Ordinal)) await EncryptionOperations.CreateKeyAsync(bed.WorkspaceRoot, None);
        return bed;
    }

    private static async Task<string> SecretSessionAsync(BackupTestBed bed, TierWorkspace ws, int seed)
    {
        await ws.StartPhaseAsync(1, PhaseName, None);
        bed.Time.Advance(TimeSpan.FromMinutes(1));
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None);
        await ws.AppendEventsAsync([new SessionEvent
        {
            Timestamp = bed.Time.Now, Type = SessionEventType.ToolCall, Tool = "bash", DurationMs = 5, Success = true,
            Data = new Dictionary<string, object?> { ["note"] = $"deploying {PhaseName} seed {seed}", ["blob"] = new string('x', 200_000 + seed) },
        }], null, None);
        await ws.SaveSnapshotAsync(null, $$"""{"project":"{{PhaseName}}","seed":{{seed}}}""", None);
        await ws.CompleteSessionAsync(null, None);
        return session.SessionId;
    }

    private byte[] AllTierBytes(BackupTestBed bed) =>
        Directory.EnumerateFiles(bed.TierRoot, "*", SearchOption.AllDirectories).SelectMany(File.ReadAllBytes).ToArray();

    [Fact]
    public async Task Backup_restore_and_check_work_through_an_encrypted_folder_tier_that_shows_no_names_or_content()
    {
        await using var bed = await EncryptedBedAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        var log = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);
        var events = await EventCountAsync(ws, id);

        var result = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(BackupStatus.Succeeded, result.Status);
        Assert.True(result.Verified);
        // The engine still sees its own keys and plaintext checksums.
        Assert.Equal($"Phase_1_{PhaseName}/sessions/{id}/", result.Location);
        Assert.Contains(result.Files, f => f.Name == "manifest.json" && f.Verified);
        // The tier: a keyring and Phase_1/<hash>.bin|.key; no session id, phase name, file name or content in any name or byte.
        var keys = bed.TierKeys();
        Assert.Contains(EncryptedObjectStore.KeyringKey, keys);
        Assert.All(keys.Where(k => k != EncryptedObjectStore.KeyringKey), k => Assert.Matches(@"^(Phase_1|workspace)/[0-9a-f]{40}\.(bin|key)$", k));
        var bytes = Encoding.Latin1.GetString(AllTierBytes(bed));
        foreach (var secret in new[] { id, PhaseName, "activity.jsonl", "manifest.json", "snapshot", "deploying", "xxxxxxxxxxxxxxxx" })
            Assert.DoesNotContain(secret, bytes, StringComparison.Ordinal);
        foreach (var name in Directory.EnumerateFileSystemEntries(bed.TierRoot, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(PhaseName, name, StringComparison.Ordinal);

        // Check without and with reading the data, then a second backup finds the verified copy.
        Assert.Equal([BackupCheckStatus.Ok], (await CheckAsync(ws)).Select(c => c.Status));
        Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal((BackupCheckStatus.Ok, true), (c.Status, c.DataRead)));
        Assert.Equal(BackupStatus.Skipped, Assert.Single(await BackupAsync(ws, id)).Status);

        // Restore, elsewhere and into the workspace after the session was pruned.
        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);
        Assert.Equal(log, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
        await SecretSessionAsync(bed, ws, seed: 2);
        await SecretSessionAsync(bed, ws, seed: 3);
        Assert.Null((await SessionAsync(ws, id)).LogPath);
        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id }, null, None);
        Assert.True(restored.Verified);
        Assert.Equal(log, File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!));
        Assert.Equal(events, await EventCountAsync(ws, id));
    }

    [Fact]
    public async Task A_tampered_ciphertext_is_Corrupt_in_the_check_and_fails_the_restore()
    {
        await using var bed = await EncryptedBedAsync();
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        await BackupAsync(ws, id);
        var largest = bed.TierKeys().Where(k => k.EndsWith(".bin", StringComparison.Ordinal)).OrderByDescending(k => new FileInfo(bed.TierPath(k)).Length).First();
        var bytes = File.ReadAllBytes(bed.TierPath(largest));
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(bed.TierPath(largest), bytes);

        var checks = await CheckAsync(ws, readData: true);

        Assert.Contains(checks, c => c.Status == BackupCheckStatus.Corrupt);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = Path.Combine(bed.Root, "r") }, null, None));
        Assert.Contains(ex.ErrorId, new[] { ErrorIds.ChecksumMismatch, ErrorIds.DecryptionFailed });
    }

    [Fact]
    public async Task A_lost_key_file_or_a_wrong_key_is_a_clear_error_and_never_ignored()
    {
        await using var bed = await EncryptedBedAsync();
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        await BackupAsync(ws, id);
        var keyFile = Path.Combine(bed.Layout.CredentialsDirectory, EncryptionKeys.KeyFileName);
        var original = File.ReadAllBytes(keyFile);
        await bed.CloseAsync(ws);

        File.Delete(keyFile);
        ws = await bed.OpenAsync();
        var lost = await Assert.ThrowsAsync<TierStorageException>(() => CheckAsync(ws));
        Assert.Equal(ErrorIds.EncryptionKeyNotFound, lost.ErrorId);
        Assert.Contains(keyFile, lost.Message, StringComparison.Ordinal);
        var second = await SecretSessionAsync(bed, ws, seed: 2);
        var backupWithoutKey = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(ws, second));
        Assert.Equal(ErrorIds.EncryptionKeyNotFound, backupWithoutKey.ErrorId);
        await bed.CloseAsync(ws);

        EncryptionKeys.CreateKeyFile(keyFile);
        ws = await bed.OpenAsync();
        var wrong = await Assert.ThrowsAsync<TierStorageException>(() => ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = Path.Combine(bed.Root, "r") }, null, None));
        Assert.Equal((ErrorIds.EncryptionKeyMismatch, TierErrorKind.PermissionDenied), (wrong.ErrorId, wrong.Kind));
        Assert.Contains("not the key", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(original), wrong.Message, StringComparison.Ordinal);
        await bed.CloseAsync(ws);

        File.WriteAllBytes(keyFile, original);
        ws = await bed.OpenAsync();
        Assert.Equal([BackupCheckStatus.Ok], (await CheckAsync(ws)).Where(c => c.SessionId == id).Select(c => c.Status));
    }

    [Fact]
    public async Task Without_the_key_the_ciphertext_is_still_verified_against_its_envelopes()
    {
        await using var bed = await EncryptedBedAsync();
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        await BackupAsync(ws, id);
        await bed.CloseAsync(ws);
        File.Delete(Path.Combine(bed.Layout.CredentialsDirectory, EncryptionKeys.KeyFileName));
        ws = await bed.OpenAsync();

        var checks = await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { CiphertextOnly = true, ReadData = true }, None));

        Assert.Equal(bed.TierKeys().Count(k => k.EndsWith(".bin", StringComparison.Ordinal)), checks.Count);
        Assert.All(checks, c => Assert.Equal((BackupCheckStatus.Ok, true, BackupTier), (c.Status, c.DataRead, c.Tier)));
        Assert.All(checks, c => Assert.DoesNotContain(id, c.Key!, StringComparison.Ordinal));

        // Damage the tier cannot see in its MD5 (same size, the store's MD5 sidecar kept) shows when the data is read.
        var damaged = checks[0].Key!;
        var bytes = File.ReadAllBytes(bed.TierPath(damaged));
        bytes[^1] ^= 1;
        File.WriteAllBytes(bed.TierPath(damaged), bytes);
        var again = await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { CiphertextOnly = true, ReadData = true }, None));
        Assert.Equal(BackupCheckStatus.Corrupt, Assert.Single(again, c => c.Key == damaged).Status);
        // A plain check still needs the key, and says so.
        Assert.Equal(ErrorIds.EncryptionKeyNotFound, (await Assert.ThrowsAsync<TierStorageException>(() => CheckAsync(ws))).ErrorId);
    }

    [Fact]
    public async Task Two_stores_putting_at_once_on_an_empty_tier_share_one_keyring()
    {
        await using var bed = await EncryptedBedAsync();
        var keys = new EncryptionKeys(new EncryptionPolicy { Enabled = true }, bed.Layout.CredentialsDirectory);
        var temp = Path.Combine(bed.Layout.StagingDirectory, "encrypting");
        EncryptedObjectStore Open() => EncryptedObjectStore.Wrap(new FolderObjectStore(BackupTier, bed.TierRoot, createMissingRoot: true, creatableLevels: 2), keys, 64 << 10, temp);
        await using var first = Open();
        await using var second = Open();

        await Task.WhenAll(
            Task.Run(() => first.PutAsync("Phase_1_a/sessions/session_20260101_090000/handoff.md", new MemoryStream("one"u8.ToArray()), null, None)),
            Task.Run(() => second.PutAsync("Phase_1_a/sessions/session_20260101_090001/handoff.md", new MemoryStream("two"u8.ToArray()), null, None)));

        await using var third = Open();
        Assert.Equal(2, await third.ListAsync("", None).CountAsync());
    }

    [Fact]
    public async Task Rotation_rewraps_the_data_keys_without_touching_the_ciphertext_and_the_old_key_stops_working()
    {
        await using var bed = await EncryptedBedAsync();
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        await BackupAsync(ws, id);
        var keyFile = Path.Combine(bed.Layout.CredentialsDirectory, EncryptionKeys.KeyFileName);
        var oldKey = File.ReadAllBytes(keyFile);
        Dictionary<string, string> Hashes(string suffix) => bed.TierKeys().Where(k => k.EndsWith(suffix, StringComparison.Ordinal))
            .ToDictionary(k => k, k => Md5(File.ReadAllBytes(bed.TierPath(k))));
        var dataBefore = Hashes(".bin");
        var envelopesBefore = Hashes(".key");

        var results = await ToListAsync(ws.Encryption.RotateAsync(new KeyRotationRequest(), None));

        var rotation = Assert.Single(results);
        Assert.Equal((BackupTier, envelopesBefore.Count, 0), (rotation.Tier, rotation.ObjectsRewrapped, rotation.ObjectsAlreadyRewrapped));
        Assert.NotEqual(rotation.OldKeyId, rotation.NewKeyId);
        Assert.Equal(dataBefore, Hashes(".bin"));
        Assert.All(Hashes(".key"), e => Assert.NotEqual(envelopesBefore[e.Key], e.Value));
        Assert.False(File.Exists(keyFile + EncryptionKeys.PendingSuffix));
        Assert.NotEqual(oldKey, File.ReadAllBytes(keyFile));

        // The new key reads everything; the old one no longer opens the tier.
        await bed.CloseAsync(ws);
        ws = await bed.OpenAsync();
        Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        await bed.CloseAsync(ws);
        var newKey = File.ReadAllBytes(keyFile);
        File.WriteAllBytes(keyFile, oldKey);
        ws = await bed.OpenAsync();
        Assert.Equal(ErrorIds.EncryptionKeyMismatch, (await Assert.ThrowsAsync<TierStorageException>(() => CheckAsync(ws))).ErrorId);
        await bed.CloseAsync(ws);

        // A rotation run again after it finished re-wraps again (a new key), still without touching the data.
        File.WriteAllBytes(keyFile, newKey);
        ws = await bed.OpenAsync();
        Assert.Equal(envelopesBefore.Count, Assert.Single(await ToListAsync(ws.Encryption.RotateAsync(new KeyRotationRequest(), None))).ObjectsRewrapped);
        Assert.Equal(dataBefore, Hashes(".bin"));
    }

    [Fact]
    public async Task An_interrupted_rotation_leaves_the_data_readable_and_finishes_when_run_again()
    {
        await using var bed = await EncryptedBedAsync();
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        await BackupAsync(ws, id);
        var envelopes = bed.TierKeys().Count(k => k.EndsWith(".key", StringComparison.Ordinal));

        // The connection is lost after the keyring and two envelopes were rewritten.
        var keyFile = Path.Combine(bed.Layout.CredentialsDirectory, EncryptionKeys.KeyFileName);
        bed.Faults.Puts = 0;
        bed.Faults.PutsBeforeOffline = 3;
        var cut = await Assert.ThrowsAsync<TierStorageException>(() => ToListAsync(ws.Encryption.RotateAsync(new KeyRotationRequest(), None)));
        Assert.Equal(ErrorIds.TierUnreachable, cut.ErrorId);
        Assert.True(File.Exists(keyFile + EncryptionKeys.PendingSuffix), "a cut-off rotation keeps the next key beside the current one");
        bed.Faults.PutsBeforeOffline = null;

        await bed.CloseAsync(ws);
        ws = await bed.OpenAsync();
        Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        var finished = Assert.Single(await ToListAsync(ws.Encryption.RotateAsync(new KeyRotationRequest(), None)));
        Assert.Equal((envelopes - 2, 2), (finished.ObjectsRewrapped, finished.ObjectsAlreadyRewrapped));
        Assert.False(File.Exists(keyFile + EncryptionKeys.PendingSuffix));
        Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
    }

    [Fact]
    public async Task A_phase_is_archived_to_an_encrypted_archive_tier_and_restored_from_it_with_no_names_in_clear()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-enc-archive-" + Guid.NewGuid().ToString("N"));
        var archiveRoot = Path.Combine(root, "archive");
        Directory.CreateDirectory(root);
        await using var bed = await CreateAsync(localSessions: 1, tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
              - name: archive
                level: 3
                kind: folder
                path: {archiveRoot}
            """, extraYaml: "encryption:\n  chunk_size: 64KB");
        await EncryptionOperations.CreateKeyAsync(bed.WorkspaceRoot, None);
        try
        {
            var ws = await bed.OpenAsync();
            var first = await SecretSessionAsync(bed, ws, seed: 1);
            var second = await SecretSessionAsync(bed, ws, seed: 2);
            var log = File.ReadAllBytes((await SessionAsync(ws, second)).LogPath!);
            await BackupAsync(ws, first, second);

            var archived = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
            Assert.True(archived.Verified);
            foreach (var id in new[] { first, second }) await ws.Backups.DeleteSessionCopyAsync(id, "backup", None);

            // The namespace folder is sealed too: it does not name the project.
            var sealedFolder = Assert.Single(Directory.GetDirectories(archiveRoot));
            Assert.Equal(WorkspaceIdentity.SealedNamespace(bed.Namespace), Path.GetFileName(sealedFolder));
            Assert.DoesNotContain(bed.Namespace, sealedFolder, StringComparison.Ordinal);
            archiveRoot = sealedFolder;
            var names = Directory.EnumerateFiles(archiveRoot, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(archiveRoot, p).Replace('\\', '/')).ToList();
            Assert.All(names.Where(n => n != EncryptedObjectStore.KeyringKey && !n.StartsWith(FolderObjectStore.MetadataDirectoryName + "/", StringComparison.Ordinal)), n => Assert.Matches(@"^Phase_1/[0-9a-f]{40}\.(bin|key)$", n));
            var bytes = Encoding.Latin1.GetString(Directory.EnumerateFiles(archiveRoot, "*", SearchOption.AllDirectories).SelectMany(File.ReadAllBytes).ToArray());
            foreach (var secret in new[] { first, second, PhaseName, "manifest" }) Assert.DoesNotContain(secret, bytes, StringComparison.Ordinal);
            Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));

            foreach (var file in (await bed.LocalFilesAsync(ws, second)).Keys) File.Delete(file);
            var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = second }, null, None);
            Assert.Equal((RestoreStatus.Restored, "archive", true), (restored.Status, restored.Tier, restored.Verified));
            Assert.Equal(log, File.ReadAllBytes((await SessionAsync(ws, second)).LogPath!));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_remote_tier_gets_the_ciphertext_staged_then_sent_and_nothing_is_left_in_staging()
    {
        await using var bed = await EncryptedBedAsync();
        bed.StoreFactory = (tier, context, ct) => Task.FromResult<IObjectStore>(
            new RemoteKindStore(TierStoreFactory.FolderStore(tier, context)));
        var ws = await bed.OpenAsync();
        var id = await SecretSessionAsync(bed, ws, seed: 1);
        var log = File.ReadAllBytes((await SessionAsync(ws, id)).LogPath!);

        Assert.Equal(BackupStatus.Succeeded, Assert.Single(await BackupAsync(ws, id)).Status);

        Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        var elsewhere = Path.Combine(bed.Root, "elsewhere");
        await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = elsewhere }, null, None);
        Assert.Equal(log, File.ReadAllBytes(Path.Combine(elsewhere, SessionPackager.ActivityEntryName)));
        var staging = Path.Combine(bed.Layout.StagingDirectory, "encrypting");
        Assert.True(Directory.Exists(staging), "the ciphertext was staged");
        Assert.Empty(Directory.EnumerateFiles(staging, "*.tmp"));
    }

    /// <summary>A folder store that says it is a Drive tier, so the decorator treats it as remote.</summary>
    private sealed class RemoteKindStore(IObjectStore inner) : IObjectStore
    {
        public string TierName => inner.TierName;
        public TierKind Kind => TierKind.GoogleDrive;
        public string Location => inner.Location;
        public Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken) => inner.PutAsync(key, content, options, cancellationToken);
        public Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken) => inner.GetAsync(key, destination, offset, progress, cancellationToken);
        public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken) => inner.StatAsync(key, cancellationToken);
        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);
        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task The_catalog_is_rebuilt_from_an_encrypted_tier_alone()
    {
        await using var bed = await EncryptedBedAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var older = await SecretSessionAsync(bed, ws, seed: 1);
        var newer = await SecretSessionAsync(bed, ws, seed: 2);
        var olderLog = File.ReadAllBytes((await SessionAsync(ws, older)).LogPath!);
        await BackupAsync(ws, older, newer);
        await bed.CloseAsync(ws);
        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        ws = await bed.OpenAsync();

        var rebuilt = await ToListAsync(ws.Backups.RebuildCatalogAsync(null, None));

        Assert.Equal([(older, "Added"), (newer, "Added")], rebuilt.Select(r => (r.SessionId, r.Action)).OrderBy(r => r.SessionId));
        Assert.All(await CheckAsync(ws), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = older }, null, None);
        Assert.True(restored.Verified);
        Assert.Equal(olderLog, File.ReadAllBytes((await SessionAsync(ws, older)).LogPath!));
    }

    [Fact]
    public async Task A_passphrase_from_the_environment_encrypts_with_its_salt_on_the_tier_and_a_wrong_one_is_refused()
    {
        var variable = "TS_TEST_PASSPHRASE_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "correct horse battery staple");
        try
        {
            await using var bed = await EncryptedBedAsync(encryption: $"  key_source: passphrase\n  passphrase_env: {variable}");
            var ws = await bed.OpenAsync();
            var id = await SecretSessionAsync(bed, ws, seed: 1);
            Assert.Equal(BackupStatus.Succeeded, Assert.Single(await BackupAsync(ws, id)).Status);
            var keyring = File.ReadAllText(bed.TierPath(EncryptedObjectStore.KeyringKey));
            Assert.Contains("\"iterations\": 600000", keyring, StringComparison.Ordinal);
            Assert.Contains("\"salt\"", keyring, StringComparison.Ordinal);
            Assert.DoesNotContain("horse", keyring, StringComparison.Ordinal);
            await bed.CloseAsync(ws);

            Environment.SetEnvironmentVariable(variable, "wrong horse");
            ws = await bed.OpenAsync();
            Assert.Equal(ErrorIds.EncryptionKeyMismatch, (await Assert.ThrowsAsync<TierStorageException>(() => CheckAsync(ws))).ErrorId);
            await bed.CloseAsync(ws);

            // Rotation to a new passphrase: the data stays, the old passphrase stops working.
            Environment.SetEnvironmentVariable(variable, "correct horse battery staple");
            Environment.SetEnvironmentVariable(variable + "_NEW", "a brand new passphrase");
            ws = await bed.OpenAsync();
            var rotated = Assert.Single(await ToListAsync(ws.Encryption.RotateAsync(new KeyRotationRequest { NewPassphraseVariable = variable + "_NEW" }, None)));
            Assert.True(rotated.ObjectsRewrapped > 0);
            await bed.CloseAsync(ws);
            ws = await bed.OpenAsync();
            Assert.Equal(ErrorIds.EncryptionKeyMismatch, (await Assert.ThrowsAsync<TierStorageException>(() => CheckAsync(ws))).ErrorId);
            await bed.CloseAsync(ws);
            Environment.SetEnvironmentVariable(variable, "a brand new passphrase");
            ws = await bed.OpenAsync();
            Assert.All(await CheckAsync(ws, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
            Environment.SetEnvironmentVariable(variable + "_NEW", null);
        }
    }
}
