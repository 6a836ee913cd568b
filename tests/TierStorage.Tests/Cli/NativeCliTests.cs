using System.Text.Json;
using Google.Apis.Auth.OAuth2.Responses;
using TierStorage.Cli;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers.GoogleDrive;
using TierStorage.Tests.Ingest;
using TierStorage.Tests.Tiers.GoogleDrive;
using TierStorage.Tests.Tiers.S3;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>
/// The `tierstorage` command as users run it where it is built natively (src/TierStorage.Cli.Native, NativeAOT, published
/// to out/native): the main flows run through the published binary, on a folder tier with encryption, S3 (s3rver) and
/// Google Drive (the Drive fake, with a token refresh), and answer what the managed build answers on the same workspace.
/// Reflection a native binary cannot do fails here, not in a user's hands.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class NativeCliTests(S3rverFixture s3) : IDisposable
{
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    private Dictionary<string, string?> Environment { get; } = new()
    {
        ["TIERSTORAGE_WORKSPACE"] = null, ["TIERSTORAGE_POLICY"] = null,
        ["AWS_ACCESS_KEY_ID"] = S3rverFixture.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3rverFixture.SecretKey,
        ["AWS_PROFILE"] = null, ["AWS_CONFIG_FILE"] = "/nonexistent", ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent",
    };

    private async Task<NativeRun> Native(params string[] args)
    {
        var run = await NativeBinary.Cli.RunAsync("", Environment, [.. args, "--workspace", _temp.Workspace]);
        Assert.False(run.Stderr.Contains("Unhandled exception", StringComparison.Ordinal), run.ToString());
        return run;
    }

    private static void AssertExit(int expected, NativeRun run) => Assert.True(run.ExitCode == expected, $"expected exit {expected}, got {run}");

    private static List<T> Documents<T>(NativeRun run) =>
        run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => CliJson.Deserialize<T>(l) ?? throw new InvalidOperationException(l)).ToList();

    private Task<CliRun> Managed(params string[] args) => CliRunner.RunAsync([.. args, "--workspace", _temp.Workspace]);

    private string Template(string tiers, string extra = "")
    {
        var path = Path.Combine(_temp.Root, "template.yaml");
        File.WriteAllText(path, $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
            {tiers}
            {extra}
            """);
        return path;
    }

    [NativeFact]
    public async Task Version_and_help_answer_as_the_managed_build()
    {
        var version = await NativeBinary.Cli.RunAsync("", Environment, "--version");
        AssertExit(ExitCodes.Success, version);
        var managed = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet", [NativeBinary.ManagedCli, "--version"]) { RedirectStandardOutput = true })!;
        var managedVersion = await managed.StandardOutput.ReadToEndAsync();
        await managed.WaitForExitAsync();
        Assert.StartsWith("0.", version.Stdout, StringComparison.Ordinal);
        Assert.Equal(managedVersion, version.Stdout);
        var help = await NativeBinary.Cli.RunAsync("", Environment, "backup", "--help");
        AssertExit(ExitCodes.Success, help);
        Assert.Contains("sync", help.Stdout, StringComparison.Ordinal);
        // In process the managed build is named after the test host.
        Assert.Equal((await CliRunner.RunAsync("backup", "--help")).Stdout.Replace("testhost", "tierstorage", StringComparison.Ordinal), help.Stdout);
        AssertExit(ExitCodes.Usage, await NativeBinary.Cli.RunAsync("", Environment, "backup", "--no-such-option"));
    }

    [NativeFact]
    public async Task An_encrypted_folder_workflow_through_phases_archive_review_restore_and_key_rotation_matches_the_managed_build()
    {
        var backup = Path.Combine(_temp.Root, "backup");
        var archive = Path.Combine(_temp.Root, "archive");
        var template = Template($"""
              - name: backup
                level: 2
                kind: folder
                path: {backup}
              - name: archive
                level: 3
                kind: folder
                path: {archive}
            """, """
            retention:
              backup_phases: 1
            alerts:
              channels:
                - kind: file
            """);
        AssertExit(ExitCodes.Success, await Native("init", "--policy-template", template, "--encrypt"));
        var snapshot = Path.Combine(_temp.Root, "snapshot.json");
        File.WriteAllText(snapshot, """{"task":"T1","notes":"naïve <b> & done"}""");
        var ids = new List<string>();
        for (var phase = 1; phase <= 3; phase++)
        {
            var id = $"session_2026120{phase}_100000";
            ids.Add(id);
            AssertExit(ExitCodes.Success, await Native("phase", "start", phase.ToString(), "--name", $"p{phase}"));
            AssertExit(ExitCodes.Success, await Native("session", "start", "--phase", phase.ToString(), "--id", id));
            AssertExit(ExitCodes.Success, await Native("event", "add", "--type", "tool_call", "--tool", "Edit", "--file", "src/é <b>.cs", "--duration-ms", "12",
                "--data", """{"lines":12,"ok":true,"ratio":1.5,"nested":{"x":[1,"two",null]},"s":"é<>&"}"""));
            AssertExit(ExitCodes.Success, await Native("snapshot", "save", "--file", snapshot));
            var completed = await Native("session", "complete", "--wait", "--json");
            AssertExit(ExitCodes.Success, completed);
            Assert.Contains(completed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("\"status\":\"Succeeded\"", StringComparison.Ordinal));
        }

        // The same documents, byte for byte, as the managed build writes for the same workspace.
        foreach (var query in new[] { new[] { "event", "list", "--json" }, ["session", "list", "--json"], ["policy", "show", "--json"], ["phase", "list", "--json"] })
        {
            var native = await Native(query);
            AssertExit(ExitCodes.Success, native);
            Assert.Equal((await Managed(query)).Stdout, native.Stdout);
        }
        var data = Documents<SessionEvent>(await Native("event", "list", "--session", ids[0], "--type", "tool_call", "--json")).Single().Data!;
        Assert.Equal((12L, "é<>&"), ((long)data["lines"]!, (string)data["s"]!));

        // A policy run archives phases 1 and 2 (manifest written), and a review of phase 1 reads it back.
        var run = await Native("run", "--json");
        AssertExit(ExitCodes.Success, run);
        var result = Documents<PolicyRunResult>(run).Single();
        Assert.Equal(2, result.Moves.Count(m => m.Action == TierMoveAction.Archive && m.State == TierMoveState.Done));
        var review = Documents<PhaseReview>(await Native("review", "1", "--json")).Single();
        var managedReview = CliJson.Deserialize<PhaseReview>((await Managed("review", "1", "--json")).Stdout)!;
        Assert.True(review.EventCount > 0);
        Assert.Equal((managedReview.Sessions, managedReview.EventCount), (review.Sessions, review.EventCount));
        Assert.Equal(managedReview.Tools.Select(t => (t.Tool, t.Calls)), review.Tools.Select(t => (t.Tool, t.Calls)));

        // Restored from the encrypted phase archive: the same bytes the managed build restores.
        var nativeRestore = Path.Combine(_temp.Root, "restored-native");
        var managedRestore = Path.Combine(_temp.Root, "restored-managed");
        AssertExit(ExitCodes.Success, await Native("restore", ids[0], "--destination", nativeRestore));
        CliRunner.AssertExit(ExitCodes.Success, await Managed("restore", ids[0], "--destination", managedRestore));
        Assert.Equal(File.ReadAllBytes(Path.Combine(managedRestore, "activity.jsonl")), File.ReadAllBytes(Path.Combine(nativeRestore, "activity.jsonl")));

        // The key rotation rewraps every envelope, and the managed build still reads what the native one wrote.
        var rotated = Documents<KeyRotationResult>(await Native("key", "rotate", "--json"));
        Assert.Equal(["archive", "backup"], rotated.Select(r => r.Tier).Order(StringComparer.Ordinal));
        Assert.All(rotated, r => Assert.True(r.ObjectsRewrapped > 0, r.Tier));
        CliRunner.AssertExit(ExitCodes.Success, await Managed("backup", "test", "--read-data"));

        AssertExit(ExitCodes.Success, await Native("alerts", "test"));
        var alert = JsonDocument.Parse(File.ReadLines(Path.Combine(_temp.Workspace, "logs", "alerts.jsonl")).Last()).RootElement;
        Assert.Equal("test", alert.GetProperty("notice").GetString());
    }

    [NativeFact]
    public async Task A_session_completed_without_wait_is_backed_up_by_the_native_binary_started_in_the_background()
    {
        var template = Template($"""
              - name: backup
                level: 2
                kind: folder
                path: {Path.Combine(_temp.Root, "backup")}
            """);
        AssertExit(ExitCodes.Success, await Native("init", "--policy-template", template));
        AssertExit(ExitCodes.Success, await Native("session", "start", "--phase", "1", "--id", "session_20261204_100000"));
        AssertExit(ExitCodes.Success, await Native("event", "add", "--type", "tool_call", "--tool", "Read"));
        AssertExit(ExitCodes.Success, await Native("session", "complete"));

        SessionInfo? session = null;
        for (var attempt = 0; attempt < 300 && session?.State != SessionState.BackedUp; attempt++)
        {
            await Task.Delay(100);
            session = Documents<SessionInfo>(await Native("session", "list", "--json")).Single();
        }
        Assert.Equal(SessionState.BackedUp, session?.State);
        Assert.True(session!.Verified);
    }

    [NativeFact]
    public async Task A_backup_to_s3_and_its_restore_run_natively_against_s3rver()
    {
        var prefix = "native-" + Guid.NewGuid().ToString("N")[..8];
        var template = Template($"""
            {s3.TierYaml("s3", 2, prefix)}
            """);
        AssertExit(ExitCodes.Success, await Native("init", "--policy-template", template));
        AssertExit(ExitCodes.Success, await Native("session", "start", "--phase", "1", "--id", "session_20261204_110000"));
        var events = string.Join('\n', Enumerable.Range(0, 2000).Select(i => $$"""{"timestamp":"{{new DateTimeOffset(2026, 12, 4, 11, 0, 0, TimeSpan.Zero).AddSeconds(i):O}}","session":"session_20261204_110000","type":"tool_call","tool":"Edit","file":"src/f{{i}}.cs","duration_ms":{{i}}}"""));
        var added = await NativeBinary.Cli.RunAsync(events, Environment, "event", "add", "--stdin", "--workspace", _temp.Workspace);
        AssertExit(ExitCodes.Success, added);

        var completed = (await Native("session", "complete", "--wait", "--json")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(completed, d => d.TryGetProperty("status", out var s) && s.GetString() == "Succeeded" && d.GetProperty("verified").GetBoolean());
        var log = File.ReadAllBytes(Path.Combine(_temp.Workspace, "logs", "session_current.jsonl"));
        var check = await Native("backup", "test", "--read-data", "--json");
        AssertExit(ExitCodes.Success, check);

        var destination = Path.Combine(_temp.Root, "restored");
        AssertExit(ExitCodes.Success, await Native("restore", "session_20261204_110000", "--destination", destination));
        Assert.Equal(log, File.ReadAllBytes(Path.Combine(destination, "activity.jsonl")));
    }

    [NativeFact]
    public async Task A_backup_to_google_drive_refreshes_an_expired_token_and_stores_the_new_one()
    {
        await using var drive = await DriveTestBed.StartAsync(connected: false);
        var (access, refresh) = drive.Server.IssueTokens();
        await new DriveTokenStore(drive.CredentialsDirectory).StoreAsync("google-drive", new TokenResponse
        {
            AccessToken = access, RefreshToken = refresh, ExpiresInSeconds = 3600, IssuedUtc = DateTime.UtcNow.AddHours(-2),
            Scope = DriveAuthorization.Scope, TokenType = "Bearer",
        });
        var template = Template($"""
              - name: drive
                level: 2
                kind: google-drive
                root_folder: {DriveTestBed.RootFolder}
                api_endpoint: {drive.Server.BaseUri}
                auth_endpoint: {drive.Server.AuthorizationUri}
                token_endpoint: {drive.Server.TokenUri}
            """);
        AssertExit(ExitCodes.Success, await Native("init", "--policy-template", template));
        foreach (var file in Directory.GetFiles(drive.CredentialsDirectory))
            File.Copy(file, Path.Combine(_temp.Workspace, "credentials", Path.GetFileName(file)), overwrite: true);
        var tokenFile = DriveAuthorization.TokenFile(Path.Combine(_temp.Workspace, "credentials"));
        var before = File.ReadAllText(tokenFile);

        AssertExit(ExitCodes.Success, await Native("session", "start", "--phase", "1", "--id", "session_20261204_120000"));
        AssertExit(ExitCodes.Success, await Native("event", "add", "--type", "tool_call", "--tool", "Read"));
        var completed = await Native("session", "complete", "--wait", "--json");
        AssertExit(ExitCodes.Success, completed);
        Assert.Contains("\"status\":\"Succeeded\"", completed.Stdout, StringComparison.Ordinal);

        Assert.Contains(drive.Server.Files(), f => f.Name == "activity.jsonl.gz");
        var after = File.ReadAllText(tokenFile);
        Assert.NotEqual(before, after);
        Assert.DoesNotContain(access, after, StringComparison.Ordinal);
        Assert.Contains(refresh, after, StringComparison.Ordinal);
        AssertExit(ExitCodes.Success, await Native("tier", "test", "--tier", "drive"));
    }
}
