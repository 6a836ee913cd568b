using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Workspace;

/// <summary>
/// The speed figures of issue 4.
/// <c>archive [--sessions N] [--log-kb N] [--runs N]</c>: a phase of N completed sessions (realistic JSONL logs of about
/// --log-kb each, 3 snapshots, handoff) backed up to a folder tier, then ArchivePhaseAsync to a folder archive tier
/// against `tar czf` of the same backed-up files plus `cp` of the result to another directory (the upload of a folder
/// tier), alternating, median of --runs. Run once per phase size so each process's peak working set belongs to one size.
/// <c>usage [--objects N] [--members N] [--runs N]</c>: N object rows (and optionally archive-member rows) of an s3 tier in the catalog (UpsertObjectAsync), then
/// GetUsageAsync for that tier from the catalog, p50/p99 of --runs calls.
/// </summary>
internal static class ArchiveBench
{
    private static readonly CancellationToken None = CancellationToken.None;

    public static async Task RunArchiveAsync(string[] args)
    {
        var sessions = Option(args, "--sessions", 20);
        var logKb = Option(args, "--log-kb", 1536);
        var runs = Option(args, "--runs", 3);
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-arch-" + Guid.NewGuid().ToString("N"));
        try
        {
            var clock = new BenchClock(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero));
            var ws = await NewWorkspaceAsync(root, clock, $"""
                  - name: archive
                    level: 3
                    kind: folder
                    path: {Path.Combine(root, "archive")}
                    price_per_gb_month: 0
                """);
            await using (ws)
            {
                var logBytes = 0L;
                for (var s = 0; s < sessions; s++) logBytes += await CompletedSessionAsync(ws, clock, logKb * 1024L, seed: s + 1);
                // The tier keeps each workspace's objects under its own namespace folder (invariant 7): backup/<namespace>/Phase_1.
                var phaseFolder = Directory.EnumerateDirectories(Path.Combine(root, "backup"), "Phase_1", SearchOption.AllDirectories)
                    .Single(d => !d.Contains(Path.DirectorySeparatorChar + FolderObjectStore.MetadataDirectoryName + Path.DirectorySeparatorChar, StringComparison.Ordinal));
                var phaseParent = Path.GetDirectoryName(phaseFolder)!;
                var files = Directory.EnumerateFiles(phaseFolder, "*", SearchOption.AllDirectories).ToList();
                var inputBytes = files.Sum(f => new FileInfo(f).Length);

                var tarOut = Path.Combine(root, "tar", "Phase_1.tar.gz");
                var upload = Path.Combine(root, "upload");
                Directory.CreateDirectory(Path.GetDirectoryName(tarOut)!);
                Directory.CreateDirectory(upload);
                var tarCommand = $"tar czf '{tarOut}' -C '{phaseParent}' Phase_1 && cp '{tarOut}' '{upload}/'";
                var tarSyncCommand = tarCommand + $" && sync '{Path.Combine(upload, "Phase_1.tar.gz")}'";
                void Clear()
                {
                    // The workspace's namespace folder stays: a folder tier whose folder held data and is gone is reported
                    // unreachable (a disk not connected), not created again. Its contents go.
                    if (Directory.Exists(Path.Combine(root, "archive")))
                        foreach (var entry in Directory.EnumerateFileSystemEntries(Path.Combine(root, "archive")).SelectMany(Directory.EnumerateFileSystemEntries))
                            if (Directory.Exists(entry)) Directory.Delete(entry, true);
                            else File.Delete(entry);
                    File.Delete(tarOut);
                    File.Delete(Path.Combine(upload, "Phase_1.tar.gz"));
                }

                // Warm-up (JIT, page cache), then alternate so other load on the machine falls on both alike.
                var warm = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
                Clear();
                if (Shell(tarCommand) != 0) throw new InvalidOperationException("tar czf failed");
                Clear();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var baseline = PeakWorkingSet(reset: true);
                var ours = new List<double>();
                var allocated = new List<double>();
                var tar = new List<double>();
                var tarSync = new List<double>();
                PhaseArchiveResult result = warm;
                for (var i = 0; i < runs; i++)
                {
                    Clear();
                    var before = GC.GetTotalAllocatedBytes(precise: true);
                    var started = Stopwatch.GetTimestamp();
                    result = await ws.Backups.ArchivePhaseAsync(1, force: false, null, None);
                    ours.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    allocated.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
                    Clear();
                    started = Stopwatch.GetTimestamp();
                    if (Shell(tarCommand) != 0) throw new InvalidOperationException("tar czf failed");
                    tar.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    Clear();
                    started = Stopwatch.GetTimestamp();
                    if (Shell(tarSyncCommand) != 0) throw new InvalidOperationException("tar czf + sync failed");
                    tarSync.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                }
                var peak = PeakWorkingSet(reset: false);
                var tarBytes = new FileInfo(Path.Combine(upload, "Phase_1.tar.gz")).Length;
                double Mb(double bytes) => bytes / 1048576.0;

                var label = $"{sessions} sessions, {Mb(logBytes):0.0} MB of logs, {Mb(inputBytes):0.0} MB on the backup tier ({files.Count} files)";
                Console.WriteLine($"| archive {label}: ArchivePhaseAsync to a folder tier (read + verify each file, tar, parallel gzip, MD5 + SHA-256, fsync, copy, manifest, catalog), median of {runs} | " +
                    $"{Median(ours):0.000} s, {Mb(inputBytes) / Median(ours):0.0} MB/s of input, archive {Mb(result.SizeBytes):0.00} MB | >= tar czf + cp |");
                Console.WriteLine($"| archive {label}: `tar czf Phase_1.tar.gz -C backup Phase_1 && cp Phase_1.tar.gz upload/`, median of {runs} | " +
                    $"{Median(tar):0.000} s, {Mb(inputBytes) / Median(tar):0.0} MB/s, archive {Mb(tarBytes):0.00} MB; with `sync` of the copy {Median(tarSync):0.000} s, {Mb(inputBytes) / Median(tarSync):0.0} MB/s | |");
                Console.WriteLine($"| archive {label}: ArchivePhaseAsync / tar czf + cp | throughput {Median(tar) / Median(ours):0.00}x (with sync {Median(tarSync) / Median(ours):0.00}x), size {(double)result.SizeBytes / tarBytes:0.000}x | throughput >= 1.00x |");
                var composition = string.Join(", ", files.GroupBy(Path.GetFileName).OrderByDescending(g => g.Sum(f => new FileInfo(f).Length))
                    .Select(g => $"{g.Key} {Mb(g.Sum(f => new FileInfo(f).Length)):0.0} MB"));
                Console.WriteLine($"| archive {label}: what the backup tier holds (the input of both) | {composition} | |");
                Console.WriteLine($"| archive {label}: memory | peak working set during the timed runs {Mb(peak):0} MB (before them {Mb(baseline):0} MB), allocated {Mb(Median(allocated)):0.0} MB per archive | flat in phase size |");
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    public static async Task RunUsageAsync(string[] args)
    {
        var objects = Option(args, "--objects", 10_000);
        var runs = Option(args, "--runs", 50);
        var members = Option(args, "--members", 0);
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-usage-" + Guid.NewGuid().ToString("N"));
        try
        {
            var clock = new BenchClock(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
            // Created and closed first, so the rows go in through the catalog alone, as many past archive runs would have left them.
            var ws = await NewWorkspaceAsync(root, clock, """
                  - name: archive
                    level: 3
                    kind: s3
                    bucket: tierstorage-bench
                    region: us-east-1
                    storage_class: DEEP_ARCHIVE
                    capacity: 1TB
                    price_per_gb_month: 0.00099
                """);
            var catalogPath = ws.Layout.CatalogPath;
            await ws.DisposeAsync();
            var insert = Stopwatch.GetTimestamp();
            await using (var catalog = await CatalogDatabase.OpenAsync(catalogPath, None))
            {
                var random = new Random(4);
                for (var i = 0; i < objects; i++)
                {
                    var phase = i / 2;
                    var manifest = i % 2 == 1;
                    await catalog.UpsertObjectAsync(new StoredObject
                    {
                        Tier = "archive", Phase = phase,
                        Key = manifest ? $"metadata/Phase_{phase}_manifest.json" : $"Phase_{phase}.tar.gz",
                        SizeBytes = manifest ? random.Next(4_000, 40_000) : random.Next(2_000_000, 80_000_000),
                        Md5 = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
                        Sha256 = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
                        StoredAt = clock.Now.AddDays(-random.Next(0, 400)), VerifiedAt = clock.Now,
                    }, None);
                }
                // Rows for the files inside the archives (key#path), as ArchivePhaseAsync records them: same tier, not objects
                // of the store, so the usage query must skip them.
                for (var i = 0; i < members; i++)
                    await catalog.UpsertObjectAsync(new StoredObject
                    {
                        Tier = "archive", Phase = i % Math.Max(1, objects / 2),
                        Key = $"Phase_{i % Math.Max(1, objects / 2)}.tar.gz#sessions/session_{i:D8}/activity.jsonl.gz",
                        SizeBytes = random.Next(100_000, 2_000_000), Md5 = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
                        StoredAt = clock.Now.AddDays(-random.Next(0, 400)), VerifiedAt = clock.Now,
                    }, None);
            }
            var insertSeconds = Stopwatch.GetElapsedTime(insert).TotalSeconds;

            ws = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = Path.Combine(root, "ws"), Time = clock }, None);
            await using (ws)
            {
                TierUsage usage = null!;
                await foreach (var u in ws.Backups.GetUsageAsync("archive", refresh: false, None)) usage = u;
                var samples = new List<double>();
                for (var i = 0; i < runs; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await foreach (var u in ws.Backups.GetUsageAsync("archive", refresh: false, None)) usage = u;
                    samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                if (usage.ObjectCount != objects || usage.Source != "catalog")
                    throw new InvalidOperationException($"Expected {objects} objects from the catalog, got {usage.ObjectCount} from {usage.Source}.");
                samples.Sort();
                double P(double p) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(p * samples.Count) - 1)];
                Console.WriteLine($"| Get-TierUsage -Tier archive (s3, DEEP_ARCHIVE) from the catalog, {objects:N0} objects{(members > 0 ? $" + {members:N0} archive-member rows (key#path) on the same tier" : "")} ({insertSeconds:0.0} s to insert the rows, one UpsertObjectAsync each) | " +
                    $"p50 {P(0.50):0.000} ms, p99 {P(0.99):0.000} ms, max {samples[^1]:0.000} ms (n={runs}); {usage.UsedBytes / 1e9:0.0} GB, ${usage.MonthlyCostUsd:0.00}/month, {usage.Status} | < 1 s |");
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<TierWorkspace> NewWorkspaceAsync(string root, BenchClock clock, string level3Yaml)
    {
        Directory.CreateDirectory(root);
        var policy = Path.Combine(root, "policy.yaml");
        await File.WriteAllTextAsync(policy, $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
                capacity: 100GB
                price_per_gb_month: 0
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(root, "backup")}
                capacity: unlimited
                price_per_gb_month: 0
            {level3Yaml}
            retention:
              local_sessions: 2
            backup:
              on_session_complete: false

            """);
        var workspace = Path.Combine(root, "ws");
        await TierWorkspace.InitializeAsync(workspace, policy, force: false, None);
        return await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = workspace, Time = clock }, None);
    }

    private static readonly string[] Tools = ["Read", "Edit", "Bash", "Grep", "Write", "Glob", "WebFetch", "TodoWrite"];
    private static readonly string[] Agents = ["coder", "reviewer", "planner", "tester"];
    private static readonly string[] Models = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"];
    private static readonly string[] Vocabulary = BuildVocabulary();

    private static string[] BuildVocabulary()
    {
        var random = new Random(7);
        var common = "the a to of and in is for that with on as it this be are not from by or at an if return var new public private async await " +
                     "class string int bool null true false test error warning file line function value result request response build passed failed";
        var words = common.Split(' ').ToList();
        for (var i = 0; i < 3000; i++)
        {
            var length = random.Next(3, 14);
            var word = new StringBuilder();
            for (var c = 0; c < length; c++) word.Append((char)(c == 0 && random.Next(3) == 0 ? 'A' + random.Next(26) : 'a' + random.Next(26)));
            words.Add(word.ToString());
        }
        return [.. words];
    }

    private static string Words(Random random, int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            if (i > 0) text.Append(random.Next(12) == 0 ? "\n" : " ");
            // Zipf-like: common words most of the time, as in tool output and code.
            text.Append(Vocabulary[random.Next(3) == 0 ? random.Next(Vocabulary.Length) : random.Next(60)]);
        }
        return text.ToString();
    }

    /// <summary>A completed, backed-up session whose log has at least <paramref name="logBytes"/>; returns the log's size.</summary>
    private static async Task<long> CompletedSessionAsync(TierWorkspace ws, BenchClock clock, long logBytes, int seed)
    {
        clock.Now = clock.Now.AddMinutes(90);
        var session = await ws.StartSessionAsync(new StartSessionRequest { Phase = 1 }, None);
        var random = new Random(seed);
        long size = 0;
        for (var i = 0; size < logBytes; )
        {
            var batch = new List<SessionEvent>();
            for (var j = 0; j < 250; j++, i++)
            {
                clock.Now = clock.Now.AddMilliseconds(random.Next(50, 4000));
                var tool = Tools[random.Next(Tools.Length)];
                batch.Add(i % 10 == 0
                    ? new SessionEvent
                    {
                        Timestamp = clock.Now, Type = SessionEventType.LlmCall, Agent = Agents[random.Next(Agents.Length)], Model = Models[random.Next(Models.Length)],
                        DurationMs = random.Next(300, 30_000), Success = true,
                        Tokens = new TokenUsage { Input = random.Next(500, 40_000), Output = random.Next(50, 4_000), CacheRead = random.Next(0, 100_000), CacheWrite = random.Next(0, 5_000) },
                        Data = new Dictionary<string, object?> { ["summary"] = Words(random, random.Next(10, 40)) },
                    }
                    : new SessionEvent
                    {
                        Timestamp = clock.Now, Type = SessionEventType.ToolCall, Agent = Agents[random.Next(Agents.Length)], Tool = tool,
                        Task = "task-" + random.Next(40), DurationMs = random.Next(5, 9_000), Success = random.Next(17) != 0,
                        File = $"src/{Vocabulary[random.Next(60, 400)]}/{Vocabulary[random.Next(60, Vocabulary.Length)]}.cs",
                        Data = new Dictionary<string, object?>
                        {
                            ["input"] = tool == "Bash" ? "dotnet test --filter " + Vocabulary[random.Next(Vocabulary.Length)] : Words(random, random.Next(3, 12)),
                            ["output"] = Words(random, random.Next(20, 160)),
                            ["exit_code"] = (long)(random.Next(17) == 0 ? 1 : 0),
                        },
                    });
            }
            await ws.AppendEventsAsync(batch, null, None);
            size = new FileInfo((await SessionAsync(ws, session.SessionId)).LogPath!).Length;
        }
        for (var s = 0; s < 3; s++)
        {
            var json = new StringBuilder("{\"tasks\":[");
            for (var t = 0; json.Length < 60_000; t++)
                json.Append(t == 0 ? "" : ",").Append("{\"id\":").Append(t).Append(",\"title\":\"").Append(Words(random, 6).Replace('\n', ' '))
                    .Append("\",\"state\":\"").Append(random.Next(3) switch { 0 => "done", 1 => "open", _ => "blocked" }).Append("\"}");
            await ws.SaveSnapshotAsync(null, json.Append("]}").ToString(), None);
        }
        await ws.CompleteSessionAsync(null, None);
        await foreach (var backup in ws.Backups.BackupAsync(new BackupRequest { SessionIds = [session.SessionId] }, null, None))
            if (!backup.Verified) throw new InvalidOperationException($"Backup of {session.SessionId}: {backup.Status} {backup.Message}");
        return size;
    }

    private static async Task<SessionInfo> SessionAsync(TierWorkspace ws, string sessionId)
    {
        await foreach (var s in ws.GetSessionsAsync(new SessionFilter { SessionId = sessionId }, None)) return s;
        throw new InvalidOperationException($"No session {sessionId}.");
    }

    /// <summary>VmHWM of this process; with <paramref name="reset"/> first set back to the current RSS (Linux: clear_refs 5).</summary>
    private static long PeakWorkingSet(bool reset)
    {
        if (reset && OperatingSystem.IsLinux())
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    private static int Option(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(fallback);

    private static double Median(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Shell(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", command }, UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private sealed class BenchClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
