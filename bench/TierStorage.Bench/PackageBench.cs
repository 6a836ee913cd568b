using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.Data.Sqlite;
using TierStorage.Engine.Packaging;

/// <summary>
/// The packaging figure of issue 3: SessionPackager (parallel gzip + tar + MD5 + SHA-256 + SQLite online backup) against
/// `tar -I 'pigz -6 -p 2' -cf` of the same session folder, in one run. Usage: package [--log-mb N] [--runs N] [--level N].
/// Run it once per log size (20, then 80) so each process's peak working set belongs to one size.
/// </summary>
internal static class PackageBench
{
    private const string SessionId = "session_20261122_090000";

    public static async Task RunAsync(string[] args)
    {
        var logMb = Option(args, "--log-mb", 20);
        var runs = Option(args, "--runs", 7);
        var level = Option(args, "--level", 6);
        var root = Path.Combine(Path.GetTempPath(), "ts-bench-pkg-" + Guid.NewGuid().ToString("N"));
        var session = Path.Combine(root, "session");
        try
        {
            var request = await BuildSessionAsync(session, logMb * 1024L * 1024L, Path.Combine(root, "staging"), level);
            var inputBytes = Directory.EnumerateFiles(session, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            var logBytes = new FileInfo(request.ActivityLogPath).Length;
            var dbBytes = new FileInfo(request.CatalogDatabasePath!).Length;

            var pigzCommand = Shell("command -v pigz >/dev/null") == 0
                ? $"tar -I 'pigz -6 -p 2' -cf '{Path.Combine(root, "pigz.tar.gz")}' -C '{session}' ."
                : null;
            // Warm-up: JIT and the page cache, so every timed run (ours and pigz's) reads from memory. The runs then
            // alternate, so other load on the machine falls on both alike.
            await SessionPackager.PackageAsync(request, null, CancellationToken.None);
            if (pigzCommand is not null) Shell(pigzCommand);
            var ours = new List<double>();
            var pigz = new List<double>();
            var allocated = new List<double>();
            SessionManifest manifest = null!;
            for (var i = 0; i < runs; i++)
            {
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var started = Stopwatch.GetTimestamp();
                manifest = await SessionPackager.PackageAsync(request, null, CancellationToken.None);
                ours.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                allocated.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
                if (pigzCommand is null) continue;
                started = Stopwatch.GetTimestamp();
                if (Shell(pigzCommand) != 0) throw new InvalidOperationException("tar | pigz failed");
                pigz.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            var ourBytes = manifest.Files.Sum(f => f.Size);
            var ourCompressible = manifest.Files.Where(f => f.Name != SessionPackager.AnalyticsFileName).Sum(f => f.Size);
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;

            var label = $"{logBytes / 1048576.0:0} MB log, {inputBytes / 1048576.0:0.0} MB session";
            Console.WriteLine($"| package {label}: SessionPackager level {level} (parallel gzip + tar + MD5 + SHA-256 + DB online backup), median of {runs} | " +
                $"{Median(ours):0.000} s, {ourBytes / 1048576.0:0.00} MB ({100.0 * ourBytes / inputBytes:0.0} % of input; the {dbBytes / 1048576.0:0.0} MB DB copy is stored uncompressed by design) | <= pigz time |");
            Console.WriteLine($"| package {label}: log + snapshots + handoff only (what both compress) | {ourCompressible / 1048576.0:0.00} MB ({100.0 * ourCompressible / (inputBytes - dbBytes):0.00} % of {(inputBytes - dbBytes) / 1048576.0:0.0} MB) | <= pigz ratio |");
            Console.WriteLine($"| package {label}: memory | peak working set {peak / 1048576.0:0} MB (whole process, incl. building the session), allocated {Median(allocated) / 1048576.0:0.0} MB per package | flat in log size |");
            if (pigzCommand is null)
            {
                Console.WriteLine($"| package {label}: tar -I 'pigz -6 -p 2' | skipped: pigz is not installed (apt-get install -y pigz) | |");
                return;
            }
            var pigzBytes = new FileInfo(Path.Combine(root, "pigz.tar.gz")).Length;
            var pigzCompressible = PigzWithoutDatabase(session, Path.Combine(root, "pigz-nodb.tar.gz"));
            Console.WriteLine($"| package {label}: `{pigzCommand.Replace(root, "$TMP")}`, median of {runs} | " +
                $"{Median(pigz):0.000} s, {pigzBytes / 1048576.0:0.00} MB ({100.0 * pigzBytes / inputBytes:0.0} % of input); without the DB {pigzCompressible / 1048576.0:0.00} MB ({100.0 * pigzCompressible / (inputBytes - dbBytes):0.00} %) | |");
            Console.WriteLine($"| package {label}: SessionPackager / pigz | time {Median(ours) / Median(pigz):0.00}x, compressed log + snapshots {(double)ourCompressible / pigzCompressible:0.000}x, whole package {(double)ourBytes / pigzBytes:0.000}x | time <= 1.00x, size <= 1.00x |");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Option(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(fallback);

    private static double Median(List<double> samples)
    {
        samples.Sort();
        return samples.Count % 2 == 1 ? samples[samples.Count / 2] : (samples[samples.Count / 2 - 1] + samples[samples.Count / 2]) / 2;
    }

    private static long PigzWithoutDatabase(string session, string output)
    {
        Shell($"tar -I 'pigz -6 -p 2' -cf '{output}' -C '{session}' --exclude=analytics .");
        return new FileInfo(output).Length;
    }

    private static int Shell(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", command }, UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>A session folder in the workspace's shape: a JSONL log of varied agent events, gzipped JSON snapshots
    /// (as Save-SessionSnapshot writes them), a handoff, and an analytics database. Deterministic for a given size.</summary>
    private static async Task<SessionPackageRequest> BuildSessionAsync(string session, long logBytes, string staging, int level)
    {
        var random = new Random(20261122);
        foreach (var folder in new[] { "logs", "state", "handoffs", "analytics" }) Directory.CreateDirectory(Path.Combine(session, folder));
        var log = Path.Combine(session, "logs", SessionId + ".jsonl");
        await using (var writer = new StreamWriter(log, false, new UTF8Encoding(false), 1 << 16))
        {
            var at = new DateTime(2026, 11, 22, 9, 0, 0, DateTimeKind.Utc);
            var line = new StringBuilder();
            // Every character is ASCII, so characters written are bytes written.
            for (long i = 0, written = 0; written < logBytes; i++)
            {
                at = at.AddMilliseconds(random.Next(20, 4000));
                line.Clear();
                AgentEvent(line, random, (int)i, at);
                await writer.WriteLineAsync(line);
                written += line.Length + 1;
            }
        }

        var snapshots = new List<string>();
        for (var s = 1; s <= 6; s++)
        {
            var json = new StringBuilder("{\"tasks\":[");
            for (var t = 0; json.Length < 600_000; t++)
                json.Append(t == 0 ? "" : ",").Append("{\"id\":").Append(t).Append(",\"title\":\"").Append(Words(random, 6)).Append("\",\"state\":\"")
                    .Append(States[random.Next(States.Length)]).Append("\",\"files\":[\"").Append(FilePath(random)).Append("\"],\"notes\":\"").Append(Words(random, 14)).Append("\"}");
            json.Append("]}");
            var path = Path.Combine(session, "state", $"{SessionId}_snap{s:000}.json.gz");
            await using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
                await gzip.WriteAsync(Encoding.UTF8.GetBytes(json.ToString()));
            snapshots.Add(path);
        }

        var handoff = Path.Combine(session, "handoffs", SessionId + "_handoff.md");
        await File.WriteAllTextAsync(handoff, "# Handoff\n\n" + string.Join("\n", Enumerable.Range(0, 60).Select(_ => "- " + Words(random, 12))) + "\n");

        var db = Path.Combine(session, "analytics", "agent_metrics.db");
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT, type TEXT, tool TEXT, file TEXT, duration_ms INTEGER, detail TEXT);" +
                "CREATE INDEX events_tool ON events (tool, ts); BEGIN;";
            await command.ExecuteNonQueryAsync();
            command.CommandText = "INSERT INTO events (ts, type, tool, file, duration_ms, detail) VALUES ($ts, $type, $tool, $file, $ms, $detail);";
            var ts = command.Parameters.Add("$ts", SqliteType.Text);
            var type = command.Parameters.Add("$type", SqliteType.Text);
            var tool = command.Parameters.Add("$tool", SqliteType.Text);
            var file = command.Parameters.Add("$file", SqliteType.Text);
            var ms = command.Parameters.Add("$ms", SqliteType.Integer);
            var detail = command.Parameters.Add("$detail", SqliteType.Text);
            for (var i = 0; i < 25_000; i++)
            {
                ts.Value = new DateTime(2026, 11, 22, 9, 0, 0, DateTimeKind.Utc).AddSeconds(i).ToString("O");
                type.Value = Types[random.Next(Types.Length)];
                tool.Value = Tools[random.Next(Tools.Length)];
                file.Value = FilePath(random);
                ms.Value = random.Next(5000);
                detail.Value = Words(random, 8);
                await command.ExecuteNonQueryAsync();
            }
            command.CommandText = "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);";
            command.Parameters.Clear();
            await command.ExecuteNonQueryAsync();
        }

        return new SessionPackageRequest
        {
            SessionId = SessionId,
            PhaseNumber = 1,
            PhaseName = "setup",
            ActivityLogPath = log,
            SnapshotPaths = snapshots,
            HandoffPath = handoff,
            CatalogDatabasePath = db,
            StagingDirectory = staging,
            CompressionLevel = level,
        };
    }

    private static readonly string[] Types = ["tool_call", "tool_call", "tool_call", "llm_call", "llm_call", "error", "decision", "task_start", "task_end"];
    private static readonly string[] Tools = ["Read", "Edit", "Bash", "Grep", "Write", "Glob", "WebFetch", "TodoWrite"];
    private static readonly string[] Agents = ["coder", "reviewer", "planner", "tester"];
    private static readonly string[] Models = ["claude-sonnet-4", "claude-opus-4", "claude-haiku-4"];
    private static readonly string[] States = ["open", "in_progress", "done", "blocked"];
    private static readonly string[] Vocabulary =
        ("the session backup tier upload verify manifest checksum retry policy phase snapshot archive restore folder drive token quota " +
         "refactor parser handler async stream buffer cancel progress catalog index query migrate schema event agent tool model error " +
         "fix test build compile warning nullable record interface method property file path directory key value config default").Split(' ');

    private static string Words(Random random, int count) =>
        string.Join(' ', Enumerable.Range(0, count).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));

    private static string FilePath(Random random) =>
        $"src/TierStorage.{(random.Next(3) switch { 0 => "Engine", 1 => "Cli", _ => "PowerShell" })}/{Vocabulary[random.Next(Vocabulary.Length)]}/{char.ToUpperInvariant(Vocabulary[random.Next(Vocabulary.Length)][0])}{Vocabulary[random.Next(Vocabulary.Length)]}{random.Next(40)}.cs";

    private static string Hex(Random random, int length)
    {
        Span<byte> bytes = stackalloc byte[length / 2];
        random.NextBytes(bytes);
        return Convert.ToHexString(bytes).ToLowerInvariant();
    }

    /// <summary>One event line as agents write them: common envelope, type-specific fields, ids and free text.</summary>
    private static void AgentEvent(StringBuilder line, Random random, int i, DateTime at)
    {
        var type = Types[random.Next(Types.Length)];
        line.Append("{\"ts\":\"").Append(at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))
            .Append("\",\"session_id\":\"").Append(SessionId).Append("\",\"seq\":").Append(i)
            .Append(",\"type\":\"").Append(type).Append("\",\"agent\":\"").Append(Agents[random.Next(Agents.Length)])
            .Append("\",\"task\":\"task-").Append(random.Next(60)).Append('"');
        switch (type)
        {
            case "tool_call":
                line.Append(",\"tool\":\"").Append(Tools[random.Next(Tools.Length)]).Append("\",\"file\":\"").Append(FilePath(random))
                    .Append("\",\"duration_ms\":").Append(random.Next(2, 9000)).Append(",\"success\":").Append(random.Next(17) != 0 ? "true" : "false")
                    .Append(",\"input\":{\"pattern\":\"").Append(Words(random, random.Next(2, 6))).Append("\",\"lines\":").Append(random.Next(1, 400)).Append('}');
                break;
            case "llm_call":
                line.Append(",\"model\":\"").Append(Models[random.Next(Models.Length)]).Append("\",\"input_tokens\":").Append(random.Next(200, 180_000))
                    .Append(",\"output_tokens\":").Append(random.Next(20, 8000)).Append(",\"cache_read_tokens\":").Append(random.Next(0, 150_000))
                    .Append(",\"request_id\":\"req_").Append(Hex(random, 24)).Append("\",\"summary\":\"").Append(Words(random, random.Next(8, 40))).Append('"');
                break;
            case "error":
                line.Append(",\"error_type\":\"").Append(random.Next(4) switch { 0 => "IOException", 1 => "TimeoutException", 2 => "CompileError", _ => "TestFailure" })
                    .Append("\",\"message\":\"").Append(Words(random, 12)).Append("\",\"stack\":\"");
                for (var f = 0; f < random.Next(3, 9); f++)
                    line.Append("   at TierStorage.Engine.").Append(Vocabulary[random.Next(Vocabulary.Length)]).Append('.').Append(Vocabulary[random.Next(Vocabulary.Length)])
                        .Append("Async() in ").Append(FilePath(random)).Append(":line ").Append(random.Next(1, 900)).Append("\\n");
                line.Append('"');
                break;
            case "decision":
                line.Append(",\"decision\":\"").Append(Words(random, random.Next(10, 30))).Append("\",\"alternatives\":[\"")
                    .Append(Words(random, 6)).Append("\",\"").Append(Words(random, 6)).Append("\"]");
                break;
            default:
                line.Append(",\"title\":\"").Append(Words(random, 7)).Append("\",\"commit\":\"").Append(Hex(random, 40)).Append('"');
                break;
        }
        line.Append('}');
    }
}
