using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Backup;
using Xunit;
using Xunit.Abstractions;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Security;

/// <summary>
/// The secrets audit (issue 11 #19): eleven secret values of ten kinds planted in each of six channels (event fields,
/// nested event data, snapshots, imported Claude Code transcripts, hook payloads, handoffs), then a backup, the policy run
/// (which archives the oldest phases) and reviews; then every byte on disk (the workspace with its catalog, WAL and
/// reviews, the backup tier, the archive tier; .gz and tar members unpacked, recursively) is searched for each one.
/// Figure for bench/RESULTS.md: planted vs found.
/// </summary>
public sealed class SecretsAuditTests(ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>One secret: the text as an agent would have it, and the parts of it that must appear nowhere (the secret
    /// itself, and its tail, so a redaction that keeps half a token counts as a leak too).</summary>
    private sealed record Secret(string Kind, string Text, string Value, string Tag)
    {
        /// <summary>The value, and 14 characters of it from the channel's tag on (a part no other channel's value has).</summary>
        public IEnumerable<string> Needles => [Value, Value.Substring(Value.IndexOf(Tag, StringComparison.OrdinalIgnoreCase), Math.Min(14, Value.Length - Value.IndexOf(Tag, StringComparison.OrdinalIgnoreCase)))];
    }

    /// <summary>The eleven values of the ten kinds, unique to <paramref name="tag"/> (the channel), so a find names its channel.</summary>
    private static List<Secret> Secrets(string tag)
    {
        var up = tag.ToUpperInvariant();
        var awsId = ("AKIA" + up + "QXWJ3KDL9PZ2M4N8R5")[..20];
        var awsSecret = ("wJalrXUtnFEMI" + tag + "K7MDENGbPxRfiCYzQ9sVt3LmN8pW2xY5uB6")[..40];
        var ghp = "ghp_" + ("R8f" + tag + "Zk2LmQ9pW4xY7sT1uV6bN3cD5eF0gH8jK2mP")[..36];
        var pat = "github_pat_11ABCDEFG0" + tag + "_aZ9bY8cX7dW6eV5fU4gT3hS2iR1jQ0kP9lO8mN7";
        var slack = "xoxb-1234567890-" + tag + "-AbCdEfGhIjKlMnOpQrStUvWx";
        var openAi = "sk-proj-" + tag + "Xy9Zw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe";
        var anthropic = "sk-ant-api03-" + tag + "Qw9Er8Ty7Ui6Op5As4Df3Gh2Jk1LzXcVbNm-AA";
        var jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ" + tag + "MjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV" + tag;
        var urlPassword = "Pw" + tag + "Zq8Lm3Xv7Kd";
        var keyBody = "MIIEow" + tag + "IBAAKCAQEAx7Hq2Lm9Pz4Rt8Vw3Ny6Bc1Dk5Fj0Gs";
        var google = "ya29.a0Af" + tag + "H6SMBxYz9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk";
        return
        [
            new("aws_access_key_id", awsId, awsId, tag),
            new("aws_secret_access_key", "aws_secret_access_key = " + awsSecret, awsSecret, tag),
            new("github_ghp", ghp, ghp, tag),
            new("github_pat", pat, pat, tag),
            new("slack_xoxb", slack, slack, tag),
            new("openai_sk", openAi, openAi, tag),
            new("anthropic_sk_ant", anthropic, anthropic, tag),
            new("jwt", jwt, jwt, tag),
            new("url_password", $"postgres://admin:{urlPassword}@db.internal.example:5432/app", urlPassword, tag),
            new("private_key", $"-----BEGIN RSA PRIVATE KEY-----\n{keyBody}\n{keyBody[..20]}\n-----END RSA PRIVATE KEY-----", keyBody, tag),
            new("google_ya29", google, google, tag),
        ];
    }

    private static readonly string[] Channels = ["events", "nested", "snapshot", "claude", "hook", "handoff"];

    [Fact]
    public async Task Secrets_planted_in_every_channel_are_found_nowhere_on_disk_after_backup_archive_and_review()
    {
        var tiers = Path.Combine(Path.GetTempPath(), "ts-audit-" + Guid.NewGuid().ToString("N"));
        var transcripts = Path.Combine(tiers, "claude-projects");
        Directory.CreateDirectory(transcripts);
        var planted = Channels.ToDictionary(c => c, c => Secrets("c" + Array.IndexOf(Channels, c) + c[..2]));
        await using var bed = await CreateAsync(localSessions: 1, tierYaml: $"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(tiers, "backup")}
              - name: archive
                level: 3
                kind: folder
                path: {Path.Combine(tiers, "archive")}
            """);
        try
        {
            var ws = await bed.OpenAsync();

            // Phase 0: a session recorded with the cmdlets — event fields, nested data, a snapshot, decisions for the handoff.
            await ws.StartSessionAsync(new StartSessionRequest { Phase = 0 }, None);
            var events = new List<SessionEvent>();
            foreach (var s in planted["events"])
                events.Add(new SessionEvent
                {
                    Timestamp = bed.Time.GetUtcNow(), Type = SessionEventType.ToolCall, Tool = "Bash", Agent = "deployer " + s.Text, Task = "deploy with " + s.Text,
                    File = "config/" + s.Text, Model = "m " + s.Text, ErrorType = "auth " + s.Text, Success = false,
                });
            foreach (var s in planted["nested"])
                events.Add(new SessionEvent
                {
                    Timestamp = bed.Time.GetUtcNow(), Type = SessionEventType.LlmCall, Model = "claude-sonnet-4-5",
                    Data = new Dictionary<string, object?>
                    {
                        ["request"] = new Dictionary<string, object?> { ["headers"] = new List<object?> { "x-trace: 1", "x-note: " + s.Text }, ["body"] = new Dictionary<string, object?> { ["prompt"] = "use " + s.Text } },
                    },
                });
            foreach (var s in planted["handoff"])
                events.Add(new SessionEvent
                {
                    Timestamp = bed.Time.GetUtcNow(), Type = SessionEventType.Decision,
                    Data = new Dictionary<string, object?> { ["summary"] = "rotate later: " + s.Text },
                });
            await ws.AppendEventsAsync(events, null, None);
            var state = planted["snapshot"].Select((s, i) => (s, i)).ToDictionary(x => "note" + x.i, x => (object)("state " + x.s.Text));
            await ws.SaveSnapshotAsync(null, JsonSerializer.Serialize(new { agent = "planner", memory = state }), None);
            await ws.CompleteSessionAsync(null, None);

            // Phase 1: a Claude Code transcript, imported.
            bed.Time.Advance(TimeSpan.FromHours(1));
            var transcript = Path.Combine(transcripts, "9a8b7c6d-0000-4000-8000-000000000001.jsonl");
            await File.WriteAllTextAsync(transcript, ClaudeTranscript(planted["claude"], bed.Time.GetUtcNow()));
            var imported = await ClaudeImporter.ImportAsync(ws, transcript, new ImportOptions { Phase = 1 }, None);
            Assert.True(imported.EventsImported > 0);
            await ClaudeImporter.CompleteIfFinishedAsync(ws, imported.SessionId, new CompletionOptions { Force = true }, changed: true, None);

            // Phase 2: a Claude Code session recorded live from its hooks.
            bed.Time.Advance(TimeSpan.FromHours(1));
            await ws.StartPhaseAsync(2, "hooks", None);
            await ClaudeHookRecorder.RecordAsync(ws, Hook("SessionStart", ""","source":"startup" """), None);
            var n = 0;
            foreach (var s in planted["hook"])
            {
                var id = "toolu_" + n++;
                var input = JsonSerializer.Serialize(new { command = "curl -H 'Authorization: token " + s.Text + "' https://api.example", file_path = "/home/me/" + s.Text });
                await ClaudeHookRecorder.RecordAsync(ws, Hook("UserPromptSubmit", $",\"prompt\":{JsonSerializer.Serialize("use " + s.Text)}"), None);
                await ClaudeHookRecorder.RecordAsync(ws, Hook("PreToolUse", $",\"tool_name\":\"Bash\",\"tool_use_id\":\"{id}\",\"tool_input\":{input}"), None);
                await ClaudeHookRecorder.RecordAsync(ws, Hook("PostToolUse", $",\"tool_name\":\"Bash\",\"tool_use_id\":\"{id}\",\"tool_input\":{input},\"tool_response\":{{\"stdout\":{JsonSerializer.Serialize(s.Text)}}}"), None);
                await ClaudeHookRecorder.RecordAsync(ws, Hook("SubagentStop", $",\"agent_id\":\"a{n}\",\"agent_type\":{JsonSerializer.Serialize("helper " + s.Text)}"), None);
            }
            await ClaudeHookRecorder.RecordAsync(ws, Hook("SessionEnd", ""","reason":"exit" """), None);

            // Phase 3: a plain session, so the policy archives phases 0 and 1.
            bed.Time.Advance(TimeSpan.FromHours(1));
            await ws.StartSessionAsync(new StartSessionRequest { Phase = 3 }, None);
            await ws.CompleteSessionAsync(null, None);

            var run = await ws.Lifecycle.RunPolicyAsync(new PolicyRunOptions(), null, None);
            Assert.Equal(PolicyRunStatus.Succeeded, run.Status);
            Assert.Equal(2, run.Moves.Count(m => m.Action == TierMoveAction.Archive && m.State == TierMoveState.Done));
            for (var phase = 0; phase <= 3; phase++) await ws.ReviewPhaseAsync(phase, None);
            await ws.ReviewPhaseAsync(0, full: true, ArchiveRetrievalTier.Standard, null, None);

            // The scanner sees through gzip and tar: the transcript itself (not ours to redact) holds every one of its secrets.
            var control = Scan([transcript], planted["claude"]);
            Assert.Equal(planted["claude"].Count, control.Select(f => f.Secret).Distinct().Count());
            Assert.Equal(planted["claude"].Count, Scan([Pack(transcript)], planted["claude"]).Select(f => f.Secret).Distinct().Count());

            // Everything the workspace and its tiers hold; the transcripts are Claude Code's own files, not ours to redact.
            var files = Directory.EnumerateFiles(bed.Root, "*", SearchOption.AllDirectories)
                .Concat(Directory.EnumerateFiles(Path.Combine(tiers, "backup"), "*", SearchOption.AllDirectories))
                .Concat(Directory.EnumerateFiles(Path.Combine(tiers, "archive"), "*", SearchOption.AllDirectories)).ToList();
            Assert.Contains(files, f => f.EndsWith("agent_metrics.db-wal", StringComparison.Ordinal));
            Assert.Contains(files, f => f.StartsWith(Path.Combine(tiers, "archive"), StringComparison.Ordinal) && f.EndsWith(".tar.gz", StringComparison.Ordinal));
            Assert.Contains(files, f => f.Contains("reviews", StringComparison.Ordinal));
            var all = planted.Values.SelectMany(s => s).ToList();
            var found = Scan(files, all);

            output.WriteLine($"Secrets audit: {all.Count} planted ({planted["events"].Count} values of 10 kinds x {Channels.Length} channels), " +
                $"{found.Select(f => f.Secret).Distinct().Count()} found, in {files.Count} files scanned ({ScannedBytes:N0} bytes after unpacking).");
            Assert.True(found.Count == 0, "Leaked: " + string.Join("; ", found.Select(f =>
                $"{Channels.First(c => planted[c].Contains(f.Secret))}/{f.Secret.Kind} in {f.Where}")));
        }
        finally
        {
            Directory.Delete(tiers, recursive: true);
        }
    }

    private static string Hook(string hook, string extra) =>
        $$"""{"session_id":"c0ffee-audit","transcript_path":"/tmp/t.jsonl","cwd":"/src/p","hook_event_name":"{{hook}}"{{extra}}}""";

    /// <summary>A transcript whose user prompts, Bash commands, Task descriptions, file paths and tool results carry the secrets.</summary>
    private static string ClaudeTranscript(IReadOnlyList<Secret> secrets, DateTimeOffset start)
    {
        const string session = "9a8b7c6d-0000-4000-8000-000000000001";
        var lines = new List<string>();
        var at = start;
        string Time() => (at = at.AddSeconds(1)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        var i = 0;
        foreach (var s in secrets)
        {
            i++;
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["type"] = "user", ["sessionId"] = session, ["uuid"] = $"u{i}a", ["timestamp"] = Time(),
                ["message"] = new { role = "user", content = "my key is " + s.Text },
            }));
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["type"] = "assistant", ["sessionId"] = session, ["uuid"] = $"u{i}b", ["requestId"] = $"req_{i}", ["timestamp"] = Time(),
                ["message"] = new Dictionary<string, object>
                {
                    ["id"] = $"msg_{i}", ["role"] = "assistant", ["model"] = "claude-sonnet-4-5-20250929",
                    ["usage"] = new Dictionary<string, object> { ["input_tokens"] = 10, ["output_tokens"] = 5 },
                    ["content"] = new object[]
                    {
                        new { type = "text", text = s.Text },
                        new { type = "tool_use", id = $"toolu_b{i}", name = "Bash", input = new { command = "export TOKEN=" + s.Text } },
                        new { type = "tool_use", id = $"toolu_r{i}", name = "Read", input = new { file_path = "/home/me/" + s.Text } },
                        new { type = "tool_use", id = $"toolu_t{i}", name = "Task", input = new { description = "check " + s.Text, prompt = s.Text, subagent_type = "agent " + s.Text } },
                    },
                },
            }));
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["type"] = "user", ["sessionId"] = session, ["uuid"] = $"u{i}c", ["timestamp"] = Time(), ["toolUseResult"] = s.Text,
                ["message"] = new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { tool_use_id = $"toolu_b{i}", type = "tool_result", content = s.Text, is_error = true },
                        new { tool_use_id = $"toolu_r{i}", type = "tool_result", content = s.Text, is_error = false },
                        new { tool_use_id = $"toolu_t{i}", type = "tool_result", content = s.Text, is_error = false },
                    },
                },
            }));
        }
        return string.Concat(lines.Select(l => l + "\n"));
    }

    private static string Pack(string file)
    {
        var packed = file + ".control.tar.gz";
        using (var gz = new GZipStream(File.Create(packed), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
            tar.WriteEntry(file, "inner.jsonl");
        return packed;
    }

    private long ScannedBytes;

    private List<(Secret Secret, string Where)> Scan(IEnumerable<string> files, IReadOnlyList<Secret> secrets)
    {
        var found = new List<(Secret, string)>();
        foreach (var file in files)
            foreach (var (where, bytes) in Expand(file, File.ReadAllBytes(file), depth: 0))
            {
                ScannedBytes += bytes.Length;
                foreach (var secret in secrets)
                    foreach (var needle in secret.Needles.SelectMany(n => new[] { Encoding.UTF8.GetBytes(n), Encoding.Unicode.GetBytes(n) }))
                        if (bytes.AsSpan().IndexOf(needle) is var at and >= 0)
                        {
                            // Where, and what came before it: enough to see which writer put it there.
                            var before = Encoding.UTF8.GetString(bytes, Math.Max(0, at - 60), Math.Min(at, 60));
                            found.Add((secret, $"{where} after '{new string(before.Select(c => char.IsControl(c) ? '.' : c).ToArray())}'"));
                            break;
                        }
            }
        return found;
    }

    /// <summary>The bytes, and recursively what they unpack to: a gzip stream (every member), the members of a tar.</summary>
    private static IEnumerable<(string Where, byte[] Bytes)> Expand(string where, byte[] bytes, int depth)
    {
        yield return (where, bytes);
        if (depth > 4) yield break;
        if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            var plain = new MemoryStream();
            using (var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)) gzip.CopyTo(plain);
            foreach (var inner in Expand(where + "!gunzip", plain.ToArray(), depth + 1)) yield return inner;
        }
        else if (bytes.Length >= 512 && Encoding.ASCII.GetString(bytes, 257, 5) == "ustar")
        {
            using var reader = new TarReader(new MemoryStream(bytes));
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null) continue;
                var data = new MemoryStream();
                entry.DataStream.CopyTo(data);
                foreach (var inner in Expand(where + "!" + entry.Name, data.ToArray(), depth + 1)) yield return inner;
            }
        }
    }
}
