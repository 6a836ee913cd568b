using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using TierStorage.Engine.Tiers.S3;
using TierStorage.Tests.PowerShell;
using Xunit;

namespace TierStorage.Tests.Tiers.S3;

/// <summary>
/// A real S3-compatible server for the S3 tier tests: s3rver (pinned in tests/s3rver/package-lock.json), installed with
/// <c>npm ci</c> when its node_modules are missing, started on 127.0.0.1 with a port of its choosing over a temp
/// directory, with one bucket, and killed when the tests are done. Without Node.js the tests fail with a message
/// saying so, never pass unseen.
/// s3rver 3.7.1 accepts any well-formed SigV4 signature (only unknown access keys are refused) and has no ListParts,
/// ListMultipartUploads, AbortMultipartUpload or RestoreObject: the tests of those paths use <see cref="FakeS3Client"/>.
/// </summary>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "tierstorage-test";
    /// <summary>s3rver's built-in account.</summary>
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private Process? _server;
    private readonly StringBuilder _output = new();

    public Uri Endpoint { get; private set; } = null!;
    /// <summary>Where s3rver keeps the bucket: objects are files named &lt;key&gt;._S3rver_object.</summary>
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "tierstorage-s3rver-" + Guid.NewGuid().ToString("N")[..8]);

    public static string PackageDirectory => Path.Combine(ModulePaths.RepoRoot, "tests", "s3rver");

    public S3StoreOptions Options(string prefix) => new()
    {
        TierName = "archive",
        Bucket = Bucket,
        Region = "us-east-1",
        Prefix = prefix,
        ServiceUrl = Endpoint,
        ForcePathStyle = true,
        Credentials = new BasicAWSCredentials(AccessKey, SecretKey),
        MaxErrorRetry = 1,
        RequestTimeout = TimeSpan.FromSeconds(30),
        PartSize = 5 * S3StoreOptions.MiB,
        MultipartThreshold = 5 * S3StoreOptions.MiB,
    };

    /// <summary>A policy's tiers-list entry for an S3 tier on this server, its objects under <paramref name="prefix"/>, indented as the
    /// test beds' and templates' tier lists are (put it at the start of a line of the list).</summary>
    public string TierYaml(string name, int level, string prefix, string storageClass = "STANDARD") => $"""
          - name: {name}
            level: {level}
            kind: s3
            bucket: {Bucket}
            region: us-east-1
            prefix: {prefix}
            storage_class: {storageClass}
            endpoint: {Endpoint}
            force_path_style: true
        """;

    /// <summary>The file s3rver serves for a key of the bucket (to damage an object behind the store's back).</summary>
    public string ObjectFile(string fullKey) => Path.Combine([DataDirectory, Bucket, .. fullKey.Split('/')[..^1], fullKey.Split('/')[^1] + "._S3rver_object"]);

    public async Task InitializeAsync()
    {
        var script = Path.Combine(PackageDirectory, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script)) await RunAsync(Tool("npm"), "ci --no-audit --no-fund", TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        if (!File.Exists(script)) throw new InvalidOperationException($"npm ci in {PackageDirectory} did not install s3rver.\n{_output}");

        Directory.CreateDirectory(DataDirectory);
        var start = new ProcessStartInfo(Tool("node"))
        {
            WorkingDirectory = PackageDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // s3rver's ListObjectsV2 continuation tokens are DES-encrypted, which OpenSSL 3 (Node 17+) only offers from its legacy provider.
        foreach (var argument in new[] { "--openssl-legacy-provider", script, "--directory", DataDirectory, "--address", "127.0.0.1", "--port", "0", "--silent", "--configure-bucket", Bucket })
            start.ArgumentList.Add(argument);
        _server = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match) listening.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        };
        _server.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_output) _output.AppendLine(e.Data);
        };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        var exited = _server.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
        if (first != listening.Task)
            throw new InvalidOperationException($"s3rver did not start listening ({(first == exited ? "it exited" : "no answer in 30 s")}):\n{_output}");
        Endpoint = new Uri($"http://127.0.0.1:{await listening.Task.ConfigureAwait(false)}/");
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false }) _server.Kill(entireProcessTree: true);
        _server?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the run over it would hide the real result.
        }
        return Task.CompletedTask;
    }

    /// <summary>The full path of node or npm, or a failure that tells what to install.</summary>
    private static string Tool(string name)
    {
        var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name + ".cmd" } : [name];
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var candidate in names)
                if (File.Exists(Path.Combine(directory, candidate))) return Path.Combine(directory, candidate);
        throw new InvalidOperationException(
            $"The S3 tier tests need Node.js 18 or later ('{name}' on PATH) to run the s3rver test server from tests/s3rver; install Node.js and run the tests again.");
    }

    private async Task RunAsync(string tool, string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(tool, arguments)
        {
            WorkingDirectory = PackageDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"'{Path.GetFileName(tool)} {arguments}' in {PackageDirectory} took longer than {timeout}.");
        }
        _output.Append(await stdout.ConfigureAwait(false)).Append(await stderr.ConfigureAwait(false));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{Path.GetFileName(tool)} {arguments}' in {PackageDirectory} failed with exit code {process.ExitCode}:\n{_output}");
    }

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex ListeningLine();
}

[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}
