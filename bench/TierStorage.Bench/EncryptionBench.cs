using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;

/// <summary>
/// The cost of client-side encryption (issue 11 #20): Backup-Session and Restore-Session of one session with a 20 MB log
/// to a folder tier, in two workspaces built from the same events, one whose policy encrypts the tier and one whose
/// does not. Runs alternate so other load falls on both alike; every backup run starts from an emptied tier (the whole
/// session is packaged, encrypted where it applies, sent and verified again). Usage: encryption [--log-mb N] [--runs N].
/// </summary>
internal static class EncryptionBench
{
    private const string SessionId = "session_20261203_090000";
    private static readonly CancellationToken None = CancellationToken.None;

    public static async Task RunAsync(string[] args)
    {
        var logMb = Option(args, "--log-mb", 20);
        var runs = Option(args, "--runs", 7);
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-enc-" + Guid.NewGuid().ToString("N"));
        try
        {
            var plain = await BuildAsync(Path.Combine(root, "plain"), logMb * 1024L * 1024L, encrypt: false);
            var encrypted = await BuildAsync(Path.Combine(root, "encrypted"), logMb * 1024L * 1024L, encrypt: true);
            var logBytes = new FileInfo((await SessionAsync(plain.Workspace)).LogPath!).Length;

            // Warm-up: JIT and the page cache.
            await BackupOnceAsync(plain);
            await BackupOnceAsync(encrypted);
            var backup = (Plain: new List<double>(), Encrypted: new List<double>());
            var restore = (Plain: new List<double>(), Encrypted: new List<double>());
            long sentPlain = 0, sentEncrypted = 0;
            for (var i = 0; i < runs; i++)
            {
                var (seconds, sent) = await BackupOnceAsync(plain);
                backup.Plain.Add(seconds);
                sentPlain = sent;
                (seconds, sent) = await BackupOnceAsync(encrypted);
                backup.Encrypted.Add(seconds);
                sentEncrypted = sent;
                restore.Plain.Add(await RestoreOnceAsync(plain, i));
                restore.Encrypted.Add(await RestoreOnceAsync(encrypted, i));
            }
            var tierBytesPlain = TierBytes(plain.Tier);
            var tierBytesEncrypted = TierBytes(encrypted.Tier);
            await plain.Workspace.DisposeAsync();
            await encrypted.Workspace.DisposeAsync();

            var label = $"{logBytes / 1048576.0:0} MB log";
            Console.WriteLine($"| Backup-Session, {label}, folder tier, unencrypted, median of {runs} | {Median(backup.Plain):0.000} s, {sentPlain / 1048576.0:0.00} MB sent | |");
            Console.WriteLine($"| Backup-Session, {label}, folder tier, AES-256-GCM (1 MiB chunks, key file), median of {runs} | {Median(backup.Encrypted):0.000} s, {sentEncrypted / 1048576.0:0.00} MB sent | |");
            Console.WriteLine($"| **backup: encrypted / unencrypted** | **{Median(backup.Encrypted) / Median(backup.Plain):0.000}x** (tier holds {tierBytesEncrypted / 1048576.0:0.00} vs {tierBytesPlain / 1048576.0:0.00} MB) | <= 1.15x |");
            Console.WriteLine($"| Restore-Session -Destination, {label}, unencrypted / encrypted, median of {runs} | {Median(restore.Plain):0.000} s / {Median(restore.Encrypted):0.000} s = **{Median(restore.Encrypted) / Median(restore.Plain):0.000}x** | |");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Bed(TierWorkspace Workspace, string Root, string Tier);

    private static async Task<Bed> BuildAsync(string root, long logBytes, bool encrypt)
    {
        var workspaceRoot = Path.Combine(root, "ws");
        var tier = Path.Combine(root, "tier");
        Directory.CreateDirectory(tier);
        var policy = Path.Combine(root, "policy.yaml");
        await File.WriteAllTextAsync(policy, $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
                capacity: unlimited
              - name: backup
                level: 2
                kind: folder
                path: {tier}
                capacity: unlimited
            retention:
              local_sessions: 5
            backup:
              on_session_complete: false
            {(encrypt ? "encryption:\n  enabled: true\n" : "")}
            """);
        await TierWorkspace.InitializeAsync(workspaceRoot, policy, false, None);
        if (encrypt) await EncryptionOperations.CreateKeyAsync(workspaceRoot, None);
        var ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = workspaceRoot }, None);
        await ws.StartSessionAsync(new StartSessionRequest { Phase = 1, SessionId = SessionId }, None);
        var random = new Random(20261203);
        var at = new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);
        var log = Path.Combine(workspaceRoot, "logs", WorkspaceLayout.CurrentLogName);
        while (!File.Exists(log) || new FileInfo(log).Length < logBytes)
        {
            var batch = new List<SessionEvent>();
            for (var i = 0; i < 2000; i++)
            {
                at = at.AddMilliseconds(random.Next(20, 4000));
                batch.Add(new SessionEvent
                {
                    Timestamp = at, Type = SessionEventType.ToolCall, Tool = Tools[random.Next(Tools.Length)], DurationMs = random.Next(5000),
                    Success = random.Next(17) != 0, File = $"src/{Words(random, 1)}/{Words(random, 1)}.cs",
                    Data = new Dictionary<string, object?> { ["summary"] = Words(random, 60), ["id"] = Convert.ToHexString(BitConverter.GetBytes(random.NextInt64())) },
                });
            }
            await ws.AppendEventsAsync(batch, null, None);
        }
        for (var s = 0; s < 4; s++)
            await ws.SaveSnapshotAsync(null, "{\"tasks\":[" + string.Join(",", Enumerable.Range(0, 2000).Select(t => $"{{\"id\":{t},\"title\":\"{Words(random, 8)}\"}}")) + "]}", None);
        await ws.CompleteSessionAsync(null, None);
        // The workspace's own folder on the tier (its namespace, sealed where the tier encrypts) is what a run empties.
        var space = ws.Policy.Encryption.Covers(ws.Policy.GetTier(TierLevel.Backup)!) ? WorkspaceIdentity.SealedNamespace(ws.Identity.Namespace) : ws.Identity.Namespace;
        var folder = Path.Combine(tier, space);
        Directory.CreateDirectory(folder);
        return new Bed(ws, root, folder);
    }

    /// <summary>One backup from an emptied tier (its root kept: a folder tier that held data is never re-created). The
    /// keyring stays, as on a tier in use: it is written once, by a tier's first encrypted backup.</summary>
    private static async Task<(double Seconds, long Sent)> BackupOnceAsync(Bed bed)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(bed.Tier))
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else if (Path.GetFileName(entry) != TierStorage.Engine.Tiers.Encrypted.EncryptedObjectStore.KeyringKey) File.Delete(entry);
        var started = Stopwatch.GetTimestamp();
        BackupResult? result = null;
        await foreach (var r in bed.Workspace.Backups.BackupAsync(new BackupRequest { SessionIds = [SessionId] }, null, None)) result = r;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (result is not { Status: BackupStatus.Succeeded, Verified: true }) throw new InvalidOperationException($"backup: {result?.Status} {result?.Message}");
        return (seconds, result.BytesSent);
    }

    private static async Task<double> RestoreOnceAsync(Bed bed, int run)
    {
        var destination = Path.Combine(bed.Root, $"restored-{run}");
        var started = Stopwatch.GetTimestamp();
        var result = await bed.Workspace.Backups.RestoreAsync(new RestoreRequest { SessionId = SessionId, Destination = destination }, null, None);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (!result.Verified) throw new InvalidOperationException("restore not verified");
        Directory.Delete(destination, recursive: true);
        return seconds;
    }

    private static async Task<SessionInfo> SessionAsync(TierWorkspace ws)
    {
        await foreach (var s in ws.GetSessionsAsync(new SessionFilter { SessionId = SessionId }, None)) return s;
        throw new InvalidOperationException("no session");
    }

    private static long TierBytes(string tier) => Directory.EnumerateFiles(tier, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static readonly string[] Tools = ["Read", "Edit", "Bash", "Grep", "Write", "Glob"];
    private static readonly string[] Vocabulary = ("tier backup archive session phase policy manifest verify upload restore catalog snapshot handoff " +
        "engine cmdlet planner executor checksum compress stream chunk folder drive bucket quota retention lifecycle review").Split(' ');

    private static string Words(Random random, int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++) text.Append(i == 0 ? "" : " ").Append(Vocabulary[random.Next(Vocabulary.Length)]);
        return text.ToString();
    }

    private static int Option(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(fallback);

    private static double Median(List<double> samples)
    {
        samples.Sort();
        return samples.Count % 2 == 1 ? samples[samples.Count / 2] : (samples[samples.Count / 2 - 1] + samples[samples.Count / 2]) / 2;
    }
}
