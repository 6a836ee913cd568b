using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Catalog.Postgres;

/// <summary>
/// Two machines (two workspaces, each with its own origin) that point their policy at one PostgreSQL catalog and share the
/// backup and archive tiers, as a team does (issue 14): one view of every session, each machine managing only its own files,
/// one namespace, and each phase archived exactly once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedCatalogWorkspaceTests(PostgresServerFixture server) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _tiers = Path.Combine(Path.GetTempPath(), "ts-shared-" + Guid.NewGuid().ToString("N"));
    private readonly List<BackupTestBed> _beds = [];
    private CatalogLocation _catalog = null!;

    public async Task InitializeAsync()
    {
        _catalog = await server.CreateCatalogAsync("shared");
        Directory.CreateDirectory(Path.Combine(_tiers, "backup"));
        Directory.CreateDirectory(Path.Combine(_tiers, "archive"));
    }

    public async Task DisposeAsync()
    {
        foreach (var bed in _beds) await bed.DisposeAsync();
        try { Directory.Delete(_tiers, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private string Policy => $"""
        catalog:
          provider: postgres
          connection: "{_catalog.Target}"
          password_env: {PostgresServerFixture.PasswordVariable}
        """;

    private string TierYaml => $"""
          - name: backup
            level: 2
            kind: folder
            path: {Path.Combine(_tiers, "backup")}
          - name: archive
            level: 3
            kind: folder
            path: {Path.Combine(_tiers, "archive")}
        """;

    /// <summary>A machine: a workspace of its own whose sessions are recorded as <paramref name="machine"/>.</summary>
    private async Task<(BackupTestBed Bed, TierWorkspace Workspace)> MachineAsync(string machine)
    {
        var bed = await CreateAsync(localSessions: 5, tierYaml: TierYaml, extraYaml: Policy, backupPhases: 1);
        bed.Origin = new CatalogOrigin(machine, "dev");
        _beds.Add(bed);
        return (bed, await bed.OpenAsync());
    }

    [Fact]
    public async Task Two_machines_see_one_catalog_keep_their_own_sessions_and_share_one_namespace()
    {
        var (a, wsA) = await MachineAsync("laptop-a");
        var (b, wsB) = await MachineAsync("laptop-b");
        Assert.True(wsA.Catalog.IsShared);
        // The first machine's identity is the team's: the second adopts its namespace (its own directory stays its own).
        Assert.Equal(wsA.Identity.Namespace, wsB.Identity.Namespace);
        Assert.Equal(b.WorkspaceRoot, wsB.Identity.Root);

        // Both start a session in the same second of the same clock: the ids cannot collide.
        b.Time.Advance(a.Time.Now - b.Time.Now);
        var sessionA = await a.CompletedSessionAsync(wsA, events: 5);
        var sessionB = await b.CompletedSessionAsync(wsB, events: 7);
        Assert.NotEqual(sessionA, sessionB);

        // Each machine manages its own; "-Machine *" is the team's view, with where each session was recorded.
        Assert.Equal([sessionA], (await ToListAsync(wsA.GetSessionsAsync(new SessionFilter(), None))).Select(s => s.SessionId));
        Assert.Equal([sessionB], (await ToListAsync(wsB.GetSessionsAsync(new SessionFilter(), None))).Select(s => s.SessionId));
        var team = await ToListAsync(wsA.GetSessionsAsync(new SessionFilter { Machine = "*" }, None));
        var countA = (await SessionAsync(wsA, sessionA)).EventCount;
        var countB = (await SessionAsync(wsB, sessionB)).EventCount;
        Assert.Equal([(sessionA, "laptop-a", countA), (sessionB, "laptop-b", countB)], team.OrderBy(s => s.Machine).Select(s => (s.SessionId, s.Machine!, s.EventCount)));
        var other = Assert.Single(team, s => s.Machine == "laptop-b");
        Assert.Null(other.LogPath);
        Assert.Contains("its files are on that machine", other.Note);
        Assert.Equal([sessionB], (await ToListAsync(wsA.GetSessionsAsync(new SessionFilter { Machine = "LAPTOP-?" , User = "dev" }, None)))
            .Where(s => s.Machine == "laptop-b").Select(s => s.SessionId));

        // Events of every machine, filtered by origin: a name, or a wildcard pattern as Get-Session takes it.
        Assert.Equal(countB, (await ToListAsync(wsA.GetEventsAsync(new SessionEventQuery { Machine = "laptop-b" }, None))).Count);
        Assert.Equal(countB, (await ToListAsync(wsA.GetEventsAsync(new SessionEventQuery { Machine = "*-B" }, None))).Count);
        Assert.Equal(countA + countB, (await ToListAsync(wsA.GetEventsAsync(new SessionEventQuery { Machine = "*" }, None))).Count);
        Assert.Equal(countA + countB, (await ToListAsync(wsA.GetEventsAsync(new SessionEventQuery { Machine = "laptop-?", User = "d*", Limit = 100 }, None))).Count);
        Assert.Empty(await ToListAsync(wsA.GetEventsAsync(new SessionEventQuery { Machine = "laptop_a" }, None)));
        Assert.Empty(await ToListAsync(wsA.GetEventsAsync(new SessionEventQuery { Machine = "laptop%" }, None)));
        Assert.Equal(countA + countB, (await ToListAsync(wsB.GetEventsAsync(new SessionEventQuery(), None))).Count);

        // A backup of another machine's session is refused here: its files are not here.
        var refused = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(wsA, sessionB));
        Assert.Equal(ErrorIds.CatalogShared, refused.ErrorId);
        Assert.Contains("laptop-b", refused.Message);

        // Backups from both machines into the one namespace; the phase review from either sees both sessions.
        Assert.All(await BackupAsync(wsA, sessionA), r => Assert.True(r.Verified));
        Assert.All(await BackupAsync(wsB, sessionB), r => Assert.True(r.Verified));
        var review = await wsB.ReviewPhaseAsync(1, None);
        Assert.Equal(2, review.Sessions);
        Assert.Equal(countA + countB, review.EventCount);
        // Each machine's share of the shared backup tier, from the catalog: the two add up to the tier.
        async Task<long> UsedAsync(string? machine)
        {
            await foreach (var u in wsA.Backups.GetUsageAsync("backup", false, machine, null, None)) return u.UsedBytes;
            throw new InvalidOperationException("no usage row");
        }
        var (usedA, usedB) = (await UsedAsync("laptop-a"), await UsedAsync("laptop-b"));
        Assert.True(usedA > 0 && usedB > 0);
        Assert.Equal(usedA + usedB, (await wsA.Catalog.SumObjectsAsync("backup", DateTimeOffset.MinValue, None)).Bytes);
        Assert.Equal(usedA + usedB, await UsedAsync("*"));
        Assert.Equal(usedB, await UsedAsync("?APTOP-B"));
        Assert.Empty(await ToListAsync(wsA.Backups.GetUsageAsync("local", false, "laptop-a", null, None)));

        // One machine's share of the phase, from the same catalog; nothing written for a slice.
        var slice = await wsA.ReviewPhaseSliceAsync(1, "LAPTOP-B", null, None);
        Assert.Equal((1, countB), (slice.Sessions, slice.EventCount));
        Assert.Empty(slice.ReportPaths);
        var everyone = await wsA.ReviewPhaseSliceAsync(1, "laptop-*", null, None);
        Assert.Equal((2, countA + countB), (everyone.Sessions, everyone.EventCount));
        Assert.Empty(everyone.ReportPaths);
    }

    [Fact]
    public async Task A_phase_is_archived_once_while_another_machine_holds_its_lock_and_never_again_after()
    {
        var (a, wsA) = await MachineAsync("desk-a");
        var (b, wsB) = await MachineAsync("desk-b");
        b.Time.Advance(a.Time.Now - b.Time.Now);
        var sessionA = await a.CompletedSessionAsync(wsA);
        var sessionB = await b.CompletedSessionAsync(wsB);
        Assert.All(await BackupAsync(wsA, sessionA), r => Assert.True(r.Verified));
        Assert.All(await BackupAsync(wsB, sessionB), r => Assert.True(r.Verified));

        // Machine A is archiving phase 1 (it holds the phase's lock): B's archive of it does nothing.
        var held = await wsA.Catalog.TryLockAsync($"archive/{wsA.Identity.Namespace}/1", TimeSpan.Zero, None);
        Assert.NotNull(held);
        var busy = await Assert.ThrowsAsync<TierStorageException>(() => wsB.Backups.ArchivePhaseAsync(1, force: false, null, None));
        Assert.Equal(ErrorIds.InProgressElsewhere, busy.ErrorId);
        Assert.False(Directory.Exists(Path.Combine(_tiers, "archive")) && Directory.EnumerateFiles(Path.Combine(_tiers, "archive"), "*.tar.gz", SearchOption.AllDirectories).Any());
        Assert.Null(await wsB.Catalog.TryLockAsync($"archive/{wsA.Identity.Namespace}/1", TimeSpan.FromMilliseconds(300), None));
        await held!.DisposeAsync();

        // A archives the phase: both machines' sessions are in it.
        var archived = await wsA.Backups.ArchivePhaseAsync(1, force: false, null, None);
        Assert.Equal(new[] { sessionA, sessionB }.Order(), archived.Sessions.Order());
        var archive = Directory.EnumerateFiles(Path.Combine(_tiers, "archive"), "*.tar.gz", SearchOption.AllDirectories).Single();
        var written = File.GetLastWriteTimeUtc(archive);

        // B, which planned the same step before it saw A's archive, finds it recorded and does not archive again.
        var again = await Assert.ThrowsAsync<TierStorageException>(() => wsB.Backups.ArchivePhaseAsync(1, force: false, null, None));
        Assert.Equal(ErrorIds.InProgressElsewhere, again.ErrorId);
        Assert.Contains("was archived by another machine", again.Message);
        Assert.Equal(written, File.GetLastWriteTimeUtc(archive));
    }

    [Fact]
    public async Task Two_machines_policy_runs_at_once_archive_the_phase_exactly_once()
    {
        // retention.backup_phases: 1: once phase 2 starts, phase 1 goes to the archive tier.
        var (a, wsA) = await MachineAsync("ci-a");
        var (b, wsB) = await MachineAsync("ci-b");
        b.Time.Advance(a.Time.Now - b.Time.Now);
        var sessionA = await a.CompletedSessionAsync(wsA);
        var sessionB = await b.CompletedSessionAsync(wsB);
        Assert.All(await BackupAsync(wsA, sessionA), r => Assert.True(r.Verified));
        Assert.All(await BackupAsync(wsB, sessionB), r => Assert.True(r.Verified));
        await wsA.StartPhaseAsync(2, "next", None);

        var runs = await Task.WhenAll(
            Task.Run(() => wsA.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None)),
            Task.Run(() => wsB.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None)));

        var archives = runs.SelectMany(r => r.Moves).Where(m => m.Action == TierMoveAction.Archive && m.Phase == 1).ToList();
        Assert.True(archives.Count(m => m.State == TierMoveState.Done) == 1, string.Join("\n", runs.Select((r, i) => $"run {i}: " + string.Join(" | ", r.Moves.Select(m => $"{m.Action} {m.Subject} {m.DataClass} {m.From}->{m.To} {m.State}: {m.Message}")))));
        Assert.All(archives.Where(m => m.State != TierMoveState.Done), m => Assert.Equal(TierMoveState.Skipped, m.State));
        var archive = Assert.Single(Directory.EnumerateFiles(Path.Combine(_tiers, "archive"), "*.tar.gz", SearchOption.AllDirectories));
        Assert.All(await ToListAsync(wsA.GetSessionsAsync(new SessionFilter { Machine = "*" }, None)), s => Assert.Equal(SessionState.Archived, s.State));

        // Each machine's share of the archive tier is its sessions' members in the team's archive: more than nothing, and
        // together (the team's share) no more than the archive itself.
        async Task<long> ArchiveShareAsync(string machine)
        {
            await foreach (var u in wsB.Backups.GetUsageAsync("archive", false, machine, null, None)) return u.UsedBytes;
            return -1;
        }
        var shareA = await ArchiveShareAsync("ci-a");
        var shareB = await ArchiveShareAsync("ci-b");
        Assert.True(shareA > 0 && shareB > 0, $"{shareA} {shareB}");
        Assert.True(shareA + shareB <= new FileInfo(archive).Length, $"{shareA} + {shareB} > {new FileInfo(archive).Length}");
    }

    [Fact]
    public async Task The_policy_run_lease_and_a_session_backup_are_advisory_locks_that_name_their_holder()
    {
        var (a, wsA) = await MachineAsync("laptop-a");
        var (_, wsCopy) = await MachineAsync("laptop-a");
        var (_, wsB) = await MachineAsync("laptop-b");
        var sessionA = await a.CompletedSessionAsync(wsA, events: 4);
        var lease = $"policy-run/{wsA.Identity.Namespace}/laptop-a/dev";

        // A run for laptop-a's sessions holds the lease (here taken as the run takes it): a second run for them, from another
        // directory recording as the same machine, does nothing and names the holder; laptop-b's run is not held up.
        await using (var held = await wsA.Catalog.TryLockAsync(lease, TimeSpan.Zero, None))
        {
            Assert.NotNull(held);
            var refused = await wsCopy.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.Equal(PolicyRunStatus.AlreadyRunning, refused.Status);
            var alert = Assert.Single(refused.Alerts);
            Assert.Contains($"Another policy run for laptop-a/dev holds the shared catalog's lease (tierstorage pid {Environment.ProcessId} on laptop-a/dev: policy-run/", alert, StringComparison.Ordinal);
            Assert.Contains(", from 127.0.0.1 since ", alert, StringComparison.Ordinal);
            Assert.NotEqual(PolicyRunStatus.AlreadyRunning, (await wsB.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None)).Status);
            Assert.Null(await wsB.Catalog.TryLockAsync(lease, TimeSpan.Zero, None));
        }
        Assert.Null(await wsA.Catalog.LockHolderAsync(lease, None));
        Assert.NotEqual(PolicyRunStatus.AlreadyRunning, (await wsCopy.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None)).Status);

        // The backup of one session: the same across machines.
        var sessionLock = $"backup/{wsA.Identity.Namespace}/{sessionA}";
        await using (var held = await wsCopy.Catalog.TryLockAsync(sessionLock, TimeSpan.Zero, None))
        {
            var busy = await Assert.ThrowsAsync<TierStorageException>(() => BackupAsync(wsA, sessionA));
            Assert.Equal(ErrorIds.BackupInProgress, busy.ErrorId);
            Assert.Contains($"(tierstorage pid {Environment.ProcessId} on laptop-a/dev: backup/", busy.Message, StringComparison.Ordinal);
        }
        Assert.All(await BackupAsync(wsA, sessionA), r => Assert.True(r.Verified));
    }

    [Fact]
    public async Task A_second_machine_brings_its_history_into_the_team_catalog_switches_to_it_and_backs_it_up_under_the_team_namespace()
    {
        var (a, wsA) = await MachineAsync("laptop-a");
        var sessionA = await a.CompletedSessionAsync(wsA, events: 5);

        // Machine b worked on its own catalog before the team had one: a session of its own, kept on its disk.
        var b = await CreateAsync(localSessions: 5, tierYaml: TierYaml, backupPhases: 1);
        b.Origin = new CatalogOrigin("laptop-b", "dev");
        _beds.Add(b);
        b.Time.Advance(TimeSpan.FromHours(1));
        var wsB = await b.OpenAsync();
        var history = await b.CompletedSessionAsync(wsB, events: 7);
        var ownNamespace = wsB.Identity.Namespace;
        var events = (await SessionAsync(wsB, history)).EventCount;
        await b.CloseAsync(wsB);
        Assert.NotEqual(wsA.Identity.Namespace, ownNamespace);

        // Copy, compare, switch: as Copy-TierCatalog -To ... -DualWrite does when the copy joined a team's catalog.
        var policy = b.Layout.PolicyPath;
        var migration = new TierStorage.Engine.Catalog.Transfer.CatalogMigration(b.WorkspaceRoot, policy);

        // -WhatIf first: it reads both identities, says the copy would join the team's catalog and the policy would switch
        // to it (the CLI's --what-if as the cmdlet's), and writes nothing.
        var policyText = await File.ReadAllTextAsync(policy);
        var teamSessions = await SessionCountAsync();
        Assert.Equal(wsA.Identity.Id, await migration.TeamOfAsync(_catalog, None));
        var whatIf = await TierStorage.Tests.Cli.CliRunner.RunAsync("catalog", "copy", "--to", _catalog.Target, "--password-env", PostgresServerFixture.PasswordVariable,
            "--dual-write", "--what-if", "--workspace", b.WorkspaceRoot, "--policy", policy);
        Assert.True(whatIf.ExitCode == 0, whatIf.ToString());
        Assert.Contains($"a team's catalog (workspace {wsA.Identity.Id}): this workspace's sessions would join the other machines'", whatIf.Stdout, StringComparison.Ordinal);
        Assert.Contains("What if: Join the team's catalog", whatIf.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("dual_write: true", whatIf.Stdout, StringComparison.Ordinal);
        Assert.Equal(policyText, await File.ReadAllTextAsync(policy));
        Assert.Equal(teamSessions, await SessionCountAsync());
        Assert.Null(await new TierStorage.Engine.Catalog.Transfer.CatalogMigration(a.WorkspaceRoot, a.Layout.PolicyPath)
            .TeamOfAsync(TierStorage.Engine.Catalog.CatalogLocation.Sqlite(Path.Combine(_tiers, "new.db")), None));

        var copied = await migration.CopyAsync(_catalog, new TierStorage.Engine.Catalog.Transfer.CatalogCopyOptions { Origin = b.Origin }, None);
        Assert.Equal(wsA.Identity.Id, copied.Joined);
        Assert.Empty(copied.Conflicts);
        var comparison = await migration.CompareAsync(_catalog, None);
        Assert.All(comparison, c => Assert.True(c.Match && c.Shared, c.ToString()));
        // -DualWrite on a join: straight to the team's catalog (no dual-write period).
        var join = migration.PlanJoin(migration.PlanDualWrite(_catalog, force: false), comparison);
        Assert.Equal(("postgres", false), (join.Section.Provider, join.Section.DualWrite));
        await migration.ApplyAsync(join, None);

        // Its catalog is the team's now: compared with the file it left behind, every row of that file is there (the
        // other machines' sessions are not the file's to hold).
        var after = new TierStorage.Engine.Catalog.Transfer.CatalogMigration(b.WorkspaceRoot, policy);
        var check = await after.CompareAsync(after.DefaultTarget, None);
        Assert.All(check, c => Assert.True(c.Match && c.Shared, c.ToString()));
        Assert.EndsWith("agent_metrics.db", check[0].Source, StringComparison.Ordinal);

        // b now runs on the team's catalog under the team's namespace; its old session is its own there, and it backs it up.
        wsB = await b.OpenAsync();
        Assert.True(wsB.Catalog.IsShared);
        Assert.Equal((wsA.Identity.Id, wsA.Identity.Namespace), (wsB.Identity.Id, wsB.Identity.Namespace));
        Assert.Equal([history], (await ToListAsync(wsB.GetSessionsAsync(new SessionFilter(), None))).Select(s => s.SessionId));
        Assert.Equal(events, (await ToListAsync(wsB.GetEventsAsync(new SessionEventQuery { SessionId = history }, None))).Count);
        Assert.All(await BackupAsync(wsB, history), r => Assert.True(r.Verified));
        Assert.Contains(Directory.EnumerateFiles(Path.Combine(_tiers, "backup", wsA.Identity.Namespace), "*", SearchOption.AllDirectories), f => f.Contains(history, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_tiers, "backup", ownNamespace)));

        // The team's view from the first machine holds both machines' sessions.
        Assert.Equal(new[] { sessionA, history }.Order(StringComparer.Ordinal),
            (await ToListAsync(wsA.GetSessionsAsync(new SessionFilter { Machine = "*" }, None))).Select(s => s.SessionId).Order(StringComparer.Ordinal));
    }

    private async Task<long> SessionCountAsync()
    {
        await using var connection = await TierStorage.Engine.Catalog.Transfer.CatalogConnections.OpenAsync(_catalog, create: false, None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sessions";
        return Convert.ToInt64(await command.ExecuteScalarAsync(None), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Dual_write_copies_each_change_into_PostgreSQL_and_an_unreachable_server_only_warns()
    {
        await (await CatalogDatabase.OpenAsync(_catalog, _tiers, None)).DisposeAsync();
        var bed = await CreateAsync(localSessions: 5, tierYaml: TierYaml, extraYaml: $"""
            catalog:
              provider: sqlite
              connection: "{_catalog.Target}"
              password_env: {PostgresServerFixture.PasswordVariable}
              dual_write: true
            """);
        _beds.Add(bed);
        var warnings = new List<string>();
        var ws = await bed.OpenAsync(warnings.Add);
        Assert.False(ws.Catalog.IsShared);
        var session = await bed.CompletedSessionAsync(ws, events: 12);
        var count = (await SessionAsync(ws, session)).EventCount;
        await bed.CloseAsync(ws);
        Assert.Empty(warnings);

        await using (var mirror = await CatalogDatabase.OpenAsync(_catalog, _tiers, None))
        {
            Assert.Equal(count, (await mirror.GetSessionAsync(session, None))!.EventCount);
            var events = new List<SessionEvent>();
            await foreach (var e in mirror.QueryEventsAsync(new SessionEventQuery { SessionId = session }, None)) events.Add(e);
            Assert.Equal(count, events.Count);
        }

        // The server away (a wrong password here): the command still succeeds, says so, and the next one catches up.
        var password = Environment.GetEnvironmentVariable(PostgresServerFixture.PasswordVariable);
        Environment.SetEnvironmentVariable(PostgresServerFixture.PasswordVariable, "wrong");
        string second;
        try
        {
            ws = await bed.OpenAsync(warnings.Add);
            second = await bed.CompletedSessionAsync(ws, events: 3, seed: 2);
            await bed.CloseAsync(ws);
        }
        finally
        {
            Environment.SetEnvironmentVariable(PostgresServerFixture.PasswordVariable, password);
        }
        Assert.Contains(warnings, w => w.StartsWith("dual_write: this command's change was not copied", StringComparison.Ordinal));
        await using (var mirror = await CatalogDatabase.OpenAsync(_catalog, _tiers, None))
            Assert.Null(await mirror.GetSessionAsync(second, None));

        ws = await bed.OpenAsync(warnings.Add);
        var third = await bed.CompletedSessionAsync(ws, events: 1, seed: 3);
        await bed.CloseAsync(ws);
        await using (var mirror = await CatalogDatabase.OpenAsync(_catalog, _tiers, None))
        {
            Assert.NotNull(await mirror.GetSessionAsync(second, None));
            Assert.NotNull(await mirror.GetSessionAsync(third, None));
        }
    }
}
