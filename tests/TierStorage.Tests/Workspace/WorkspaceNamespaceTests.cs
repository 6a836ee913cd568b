using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Workspace;

/// <summary>Issue 11 #2 (invariant 7): archives were Phase_&lt;n&gt;.tar.gz at the tier root, so project A's run replaced B's
/// archive after B had deleted its backup copies (one of B's sessions gone for good); current_phase.json was shared; each
/// project's Test-Backup listed the other's objects as orphans; a catalog rebuild adopted the other project's sessions.</summary>
public sealed class WorkspaceNamespaceTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _shared = Path.Combine(Path.GetTempPath(), "ts-shared-" + Guid.NewGuid().ToString("N"));

    public WorkspaceNamespaceTests() => Directory.CreateDirectory(_shared);

    public void Dispose()
    {
        if (Directory.Exists(_shared)) Directory.Delete(_shared, recursive: true);
    }

    /// <summary>A project whose backup and archive tiers are the shared folders, like the embedded default's per-user folder.</summary>
    private Task<BackupTestBed> ProjectAsync() => CreateAsync(localSessions: 1, tierYaml: $"""
          - name: backup
            level: 2
            kind: folder
            path: {Path.Combine(_shared, "backup")}
          - name: archive
            level: 3
            kind: folder
            path: {Path.Combine(_shared, "archive")}
        """);

    /// <summary>The same session ids and phases in both projects (their clocks start alike), with content of their own.</summary>
    private static async Task<List<string>> SessionsAsync(BackupTestBed bed, TierWorkspace ws, string project, int phases)
    {
        var ids = new List<string>();
        for (var phase = 0; phase < phases; phase++)
        {
            bed.Time.Advance(TimeSpan.FromHours(1));
            var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = phase }, None);
            await ws.AppendEventsAsync([new SessionEvent { Type = SessionEventType.ToolCall, Tool = "Edit", File = $"{project}/phase{phase}.cs", DurationMs = phase }], null, None);
            await ws.SaveSnapshotAsync(null, $$"""{"project":"{{project}}","phase":{{phase}}}""", None);
            await ws.CompleteSessionAsync(null, None);
            ids.Add(session.SessionId);
        }
        return ids;
    }

    private static Dictionary<string, string> TierFiles(string root) => !Directory.Exists(root) ? [] :
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public async Task Two_projects_on_the_same_tiers_with_the_same_session_ids_keep_every_session_and_never_see_each_other()
    {
        await using var a = await ProjectAsync();
        await using var b = await ProjectAsync();
        Assert.NotEqual(a.Namespace, b.Namespace);
        var wsA = await a.OpenAsync();
        var wsB = await b.OpenAsync();
        var idsA = await SessionsAsync(a, wsA, "alpha", phases: 4);
        var idsB = await SessionsAsync(b, wsB, "beta", phases: 4);
        Assert.Equal(idsA, idsB);

        // B archives its old phases and deletes their backup copies first; A's run then archives phases of the same numbers.
        foreach (var (ws, name) in new[] { (wsB, "B"), (wsA, "A"), (wsB, "B again") })
        {
            var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.True(run.Status == PolicyRunStatus.Succeeded, $"{name}: {run.Status} {string.Join("; ", run.Alerts)}");
        }
        Assert.Equal(2, Directory.EnumerateFiles(Path.Combine(_shared, "archive"), "Phase_0.tar.gz", SearchOption.AllDirectories).Count());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_shared, "archive"), "*", SearchOption.TopDirectoryOnly));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_shared, "backup"), "*", SearchOption.TopDirectoryOnly));

        foreach (var (bed, ws, project) in new[] { (a, wsA, "alpha"), (b, wsB, "beta") })
        {
            // Each project's check reads every copy it relies on, and sees no object of the other as its own or as an orphan.
            var checks = await ToListAsync(ws.Backups.CheckAsync(new BackupCheckRequest { ReadData = true }, None));
            Assert.All(checks, c => Assert.True(c.Status == BackupCheckStatus.Ok, $"{project}: {c.SessionId} {c.Tier} {c.Status} {c.Key} {c.Message}"));
            Assert.Equal(idsA.Order(), checks.Select(c => c.SessionId).Distinct().Order());

            // Every session, archived or backed up, comes back with this project's own content.
            foreach (var id in idsA)
            {
                var destination = Path.Combine(bed.Root, "restored-" + id);
                var restored = await ws.Backups.RestoreAsync(new RestoreRequest { SessionId = id, Destination = destination }, null, None);
                Assert.Equal(RestoreStatus.Restored, restored.Status);
                var log = Directory.EnumerateFiles(destination, "*.jsonl", SearchOption.AllDirectories).Single();
                Assert.Contains($"{project}/phase", File.ReadAllText(log), StringComparison.Ordinal);
                Assert.DoesNotContain(project == "alpha" ? "beta/" : "alpha/", File.ReadAllText(log), StringComparison.Ordinal);
            }
        }

        // A rebuild from the shared tier brings back this project's sessions only.
        await b.CloseAsync(wsB);
        foreach (var file in Directory.EnumerateFiles(b.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        foreach (var file in Directory.EnumerateFiles(b.Layout.LogsDirectory, "*.jsonl")) File.Delete(file);
        wsB = await b.OpenAsync();
        var rebuilt = new List<CatalogRebuildResult>();
        foreach (var tier in new[] { "backup", "archive" })
            rebuilt.AddRange(await ToListAsync(wsB.Backups.RebuildCatalogAsync(tier, None)));
        Assert.Equal(idsB.Order(), rebuilt.Select(r => r.SessionId).Where(s => s.Length > 0).Distinct().Order());
        var back = await ToListAsync(wsB.GetSessionsAsync(new SessionFilter(), None));
        Assert.Equal(4, back.Count);
        var last = await wsB.Backups.RestoreAsync(new RestoreRequest { SessionId = idsB[^1], Destination = Path.Combine(b.Root, "after-rebuild") }, null, None);
        Assert.Contains("beta/phase3", File.ReadAllText(Directory.EnumerateFiles(last.Destination, "*.jsonl", SearchOption.AllDirectories).Single()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Current_phase_json_is_kept_per_project()
    {
        await using var a = await ProjectAsync();
        await using var b = await ProjectAsync();
        var wsA = await a.OpenAsync();
        var wsB = await b.OpenAsync();
        await wsA.StartPhaseAsync(3, "alpha-work", None);
        await wsB.StartPhaseAsync(1, "beta-work", None);

        var phaseFiles = Directory.EnumerateFiles(Path.Combine(_shared, "backup"), "current_phase.json", SearchOption.AllDirectories).ToList();
        Assert.Equal(2, phaseFiles.Count);
        Assert.Contains("alpha-work", File.ReadAllText(Path.Combine(_shared, "backup", a.Namespace, "current_phase.json")), StringComparison.Ordinal);
        Assert.Contains("beta-work", File.ReadAllText(Path.Combine(_shared, "backup", b.Namespace, "current_phase.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_copy_whose_original_still_exists_reads_the_tiers_but_never_writes_there_until_it_has_its_own_namespace()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var original = await bed.OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await bed.CompletedSessionAsync(original, seed: i + 1));
        Assert.All(await BackupAsync(original, ids[0]), r => Assert.True(r.Verified, r.Message));
        await bed.CloseAsync(original);
        var tierBefore = TierFiles(bed.TierBase);
        var copyRoot = Path.Combine(bed.Root, "copy");
        CopyDirectory(bed.WorkspaceRoot, copyRoot);

        var warnings = new List<string>();
        await using (var copy = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = copyRoot, Warning = warnings.Add, StoreFactory = StoreFactory(bed) }, None))
        {
            Assert.Equal(bed.WorkspaceRoot, copy.CopyOf);
            Assert.Contains(warnings, w => w.Contains("is a copy of", StringComparison.Ordinal) && w.Contains("-NewIdentity", StringComparison.Ordinal));
            // Reading is allowed: the copy's check finds the original's verified backup.
            Assert.Contains(await CheckAsync(copy), c => c.SessionId == ids[0] && c.Status == BackupCheckStatus.Ok);
            var refused = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(copy, ids[1]));
            Assert.Equal(ErrorIds.WorkspaceCopied, refused.ErrorId);
            var run = await copy.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.NotEqual(PolicyRunStatus.Succeeded, run.Status);
            // Starting a phase is local work: current_phase.json stays off the original's namespace, with a warning.
            await copy.StartPhaseAsync(2, "in-the-copy", None);
            Assert.Contains(warnings, w => w.Contains("current_phase.json was not written", StringComparison.Ordinal) && w.Contains(ErrorIds.WorkspaceCopied, StringComparison.Ordinal));
            Assert.Equal(tierBefore, TierFiles(bed.TierBase));

            var change = await copy.NewIdentityAsync(None);
            Assert.NotEqual(bed.Namespace, change.Namespace);
            Assert.Equal(bed.Namespace, change.PreviousNamespace);
            Assert.Null(copy.CopyOf);
            var results = await ToListAsync(copy.Backups.BackupAsync(new BackupRequest { SessionIds = ids.Skip(1).ToList() }, null, None));
            Assert.All(results, r => Assert.True(r.Verified, r.Message));
        }

        // The original's objects are exactly as they were; the copy's are in a folder of their own.
        var after = TierFiles(bed.TierBase);
        Assert.All(tierBefore, kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.Contains(after.Keys, k => !k.StartsWith(bed.Namespace + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        await using var reopened = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = copyRoot, Warning = warnings.Add }, None);
        Assert.Null(reopened.CopyOf);
    }

    [Fact]
    public async Task A_moved_workspace_keeps_its_namespace_and_goes_on_backing_up_without_a_word()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var first = await bed.CompletedSessionAsync(ws, seed: 1);
        Assert.All(await BackupAsync(ws, first), r => Assert.True(r.Verified, r.Message));
        var space = bed.Namespace;
        await bed.CloseAsync(ws);
        var movedRoot = Path.Combine(bed.Root, "moved", ".tierstorage");
        Directory.CreateDirectory(Path.GetDirectoryName(movedRoot)!);
        Directory.Move(bed.WorkspaceRoot, movedRoot);

        var warnings = new List<string>();
        await using var moved = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = movedRoot, Warning = warnings.Add, Time = bed.Time, StoreFactory = StoreFactory(bed) }, None);
        Assert.Empty(warnings);
        Assert.Null(moved.CopyOf);
        Assert.Equal(space, moved.Identity.Namespace);
        Assert.Equal(movedRoot, (await WorkspaceIdentity.ReadAsync(movedRoot, None))!.Root);
        Assert.All(await CheckAsync(moved), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        var second = await bed.CompletedSessionAsync(moved, seed: 2);
        Assert.All(await BackupAsync(moved, second), r => Assert.True(r.Verified, r.Message));
        Assert.True(Directory.Exists(Path.Combine(bed.TierBase, space, "Phase_1", "sessions", second)));
    }

    [Fact]
    public async Task The_identity_survives_losing_either_copy_of_it_and_a_damaged_file_is_refused_by_name()
    {
        await using var bed = await CreateAsync();
        var space = bed.Namespace;
        var path = WorkspaceIdentity.PathIn(bed.WorkspaceRoot);
        File.Delete(path);
        await bed.CloseAsync(await bed.OpenAsync());
        Assert.Equal(space, bed.Namespace);

        foreach (var file in Directory.EnumerateFiles(bed.Layout.AnalyticsDirectory, "agent_metrics.db*")) File.Delete(file);
        var ws = await bed.OpenAsync();
        Assert.Equal(space, ws.Identity.Namespace);
        await bed.CloseAsync(ws);

        foreach (var damaged in new[]
        {
            "{not json", """{"id":"x","namespace":"a","root":"/r"}""", """{"id":"0123456789abcdef0123456789abcdef","namespace":"../up","root":"/r"}""",
            "null", "[]", """{"id":7,"namespace":"a","root":"/r"}""",
            """{"id":"0123456789abcdef0123456789abcdef","namespace":"a","root":"/r","createdAt":"yesterday"}""",
        })
        {
            File.WriteAllText(path, damaged);
            var error = await Assert.ThrowsAsync<TierStorageException>(() => bed.OpenAsync());
            Assert.Equal(ErrorIds.WorkspaceIdentityInvalid, error.ErrorId);
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_identity_file_reads_back_what_was_written_and_tolerates_keys_it_does_not_know()
    {
        var identity = WorkspaceIdentity.New(Path.Combine(Path.GetTempPath(), "proj", ".tierstorage"), new DateTimeOffset(2026, 12, 3, 15, 4, 5, TimeSpan.FromHours(1)));

        var json = identity.ToJson();

        Assert.Equal(identity, WorkspaceIdentity.Parse(System.Text.Encoding.UTF8.GetBytes(json), "workspace.json"));
        Assert.Contains("\"createdAt\": \"2026-12-03T15:04:05+01:00\"", json, StringComparison.Ordinal);
        var extended = WorkspaceIdentity.Parse("""{"id":"0123456789abcdef0123456789abcdef","namespace":"","root":"/r","createdAt":null,"later":{"x":[1]}}"""u8.ToArray(), "w");
        Assert.Equal(("", default(DateTimeOffset)), (extended.Namespace, extended.CreatedAt));
    }

    [Fact]
    public async Task A_workspace_recreated_after_its_disk_was_lost_is_told_the_namespaces_and_adopts_its_own()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var ids = new List<string> { await bed.CompletedSessionAsync(ws, seed: 1), await bed.CompletedSessionAsync(ws, seed: 2) };
        Assert.All(await BackupAsync(ws, [.. ids]), r => Assert.True(r.Verified, r.Message));
        var lost = bed.Namespace;
        await bed.CloseAsync(ws);
        var policy = File.ReadAllText(bed.Layout.PolicyPath);
        Directory.Delete(bed.WorkspaceRoot, recursive: true);
        var template = Path.Combine(bed.Root, "policy-again.yaml");
        File.WriteAllText(template, policy);
        await TierWorkspace.InitializeAsync(bed.WorkspaceRoot, template, force: false, None);
        Assert.NotEqual(lost, bed.Namespace);

        var warnings = new List<string>();
        await using var fresh = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = bed.WorkspaceRoot, Warning = warnings.Add, StoreFactory = StoreFactory(bed) }, None);
        Assert.Empty(await ToListAsync(fresh.Backups.RebuildCatalogAsync("backup", None)));
        Assert.Contains(warnings, w => w.Contains(lost, StringComparison.Ordinal) && w.Contains("-Namespace", StringComparison.Ordinal));

        var missing = await Assert.ThrowsAsync<TierStorageException>(() => fresh.AdoptNamespaceAsync("backup", "someone-else", None));
        Assert.Equal(ErrorIds.ObjectNotFound, missing.ErrorId);
        await fresh.AdoptNamespaceAsync("backup", lost, None);
        Assert.Equal(lost, bed.Namespace);
        var rebuilt = await ToListAsync(fresh.Backups.RebuildCatalogAsync("backup", None));
        Assert.Equal(ids.Order(), rebuilt.Select(r => r.SessionId).Order());
        Assert.All(await CheckAsync(fresh), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
        // Once it records objects of its own, a workspace cannot take over another namespace.
        CopyDirectory(Path.Combine(bed.TierBase, lost), Path.Combine(bed.TierBase, "other-project-1234abcd"));
        var refused = await Assert.ThrowsAsync<TierStorageException>(() => fresh.AdoptNamespaceAsync("backup", "other-project-1234abcd", None));
        Assert.Equal(ErrorIds.NamespaceInUse, refused.ErrorId);
        Assert.Equal(lost, bed.Namespace);
    }

    [Fact]
    public async Task A_workspace_that_backed_up_before_namespaces_keeps_its_objects_at_the_tier_root_and_is_warned()
    {
        await using var bed = await CreateAsync(localSessions: 1);
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws, seed: 1);
        Assert.All(await BackupAsync(ws, id), r => Assert.True(r.Verified, r.Message));
        await bed.CloseAsync(ws);
        // What an older version left: objects at the tier's root, a catalog recording them, and no identity anywhere.
        var space = bed.Namespace;
        foreach (var entry in Directory.EnumerateFileSystemEntries(Path.Combine(bed.TierBase, space)))
            Directory.Move(entry, Path.Combine(bed.TierBase, Path.GetFileName(entry)));
        Directory.Delete(Path.Combine(bed.TierBase, space));
        File.Delete(WorkspaceIdentity.PathIn(bed.WorkspaceRoot));
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={bed.Layout.CatalogPath};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM workspace_identity";
            await command.ExecuteNonQueryAsync();
        }

        var warnings = new List<string>();
        await using var legacy = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = bed.WorkspaceRoot, Warning = warnings.Add, StoreFactory = StoreFactory(bed) }, None);
        Assert.Equal("", legacy.Identity.Namespace);
        Assert.Contains(warnings, w => w.Contains("before workspaces had their own namespace", StringComparison.Ordinal));
        Assert.All(await CheckAsync(legacy, readData: true), c => Assert.Equal(BackupCheckStatus.Ok, c.Status));
    }

    [Theory]
    [InlineData("/home/me/my project/.tierstorage", "my_project")]
    [InlineData("/home/me/api/.TierStorage", "api")]
    [InlineData("/data/ws-copy", "ws-copy")]
    [InlineData("/home/me/.../.tierstorage", "workspace")]
    public void The_namespace_names_the_project_with_characters_every_tier_accepts(string root, string project)
    {
        if (OperatingSystem.IsWindows()) return;
        var identity = WorkspaceIdentity.New(root, DateTimeOffset.UnixEpoch);
        Assert.Equal($"{project}-{identity.Id[..8]}", identity.Namespace);
        Assert.Matches("^[0-9a-f]{32}$", identity.Id);
        Assert.NotEqual(identity.Id, WorkspaceIdentity.New(root, DateTimeOffset.UnixEpoch).Id);
    }

    private static Func<TierDefinition, global::TierStorage.Engine.Tiers.TierStoreContext, CancellationToken, Task<global::TierStorage.Engine.Tiers.IObjectStore>> StoreFactory(BackupTestBed bed) =>
        (tier, context, ct) => Task.FromResult<global::TierStorage.Engine.Tiers.IObjectStore>(new FaultyStore(global::TierStorage.Engine.Tiers.TierStoreFactory.FolderStore(tier, context), bed.Faults));

    internal static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.EnumerateDirectories(from)) CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }
}
