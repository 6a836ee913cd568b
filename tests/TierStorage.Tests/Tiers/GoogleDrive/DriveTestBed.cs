using System.Collections.Concurrent;
using Google.Apis.Auth.OAuth2.Responses;
using TierStorage.DriveFake;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.GoogleDrive;
using Xunit;

namespace TierStorage.Tests.Tiers.GoogleDrive;

/// <summary>A Drive fake, a temp credentials folder with a client file and a stored token, and stores wired to them.</summary>
internal sealed class DriveTestBed : IAsyncDisposable
{
    public const string RootFolder = "TierStorageTest";

    private DriveTestBed(DriveFakeServer server, string directory)
    {
        Server = server;
        Directory = directory;
    }

    public DriveFakeServer Server { get; }
    public string Directory { get; }
    public string CredentialsDirectory => Path.Combine(Directory, "credentials");
    public string ClientSecretsPath => Path.Combine(CredentialsDirectory, DriveAuthorization.DefaultClientSecretsFile);
    public DriveEndpoints Endpoints => new()
    {
        ApiBaseUri = Server.BaseUri,
        AuthorizationServerUrl = Server.AuthorizationUri.AbsoluteUri,
        TokenServerUrl = Server.TokenUri.AbsoluteUri,
        RevokeTokenUrl = Server.RevokeUri.AbsoluteUri,
    };

    /// <summary>Fast backoff so fault tests take milliseconds, with room for a storm of transient answers.</summary>
    public static DriveRetryOptions FastRetry { get; } = new()
    {
        MaxRetries = 12,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(20),
        AttemptTimeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<DriveTestBed> StartAsync(bool connected = true)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tierstorage-drive-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "credentials"));
        var bed = new DriveTestBed(await DriveFakeServer.StartAsync(), directory);
        await File.WriteAllTextAsync(bed.ClientSecretsPath, System.Text.Json.JsonSerializer.Serialize(new
        {
            installed = new
            {
                client_id = DriveFakeServer.ClientId,
                client_secret = DriveFakeServer.ClientSecret,
                auth_uri = bed.Server.AuthorizationUri,
                token_uri = bed.Server.TokenUri,
                redirect_uris = new[] { "http://127.0.0.1" },
            },
        }));
        if (connected)
        {
            var (access, refresh) = bed.Server.IssueTokens();
            await new DriveTokenStore(bed.CredentialsDirectory).StoreAsync("google-drive", new TokenResponse
            {
                AccessToken = access,
                RefreshToken = refresh,
                ExpiresInSeconds = 3600,
                IssuedUtc = DateTime.UtcNow,
                Scope = DriveAuthorization.Scope,
                TokenType = "Bearer",
            });
        }
        return bed;
    }

    public async Task<GoogleDriveStore> OpenStoreAsync(Func<GoogleDriveStoreOptions, GoogleDriveStoreOptions>? configure = null)
    {
        var credential = await DriveAuthorization.LoadCredentialAsync(CredentialsDirectory, ClientSecretsPath, Endpoints, CancellationToken.None);
        var options = new GoogleDriveStoreOptions
        {
            TierName = "drive",
            RootFolder = RootFolder,
            Credential = credential,
            ApiBaseUri = Server.BaseUri,
            ChunkSize = 1024 * 1024,
            ResumableThreshold = 1024 * 1024,
            Retry = FastRetry,
        };
        return new GoogleDriveStore(configure?.Invoke(options) ?? options);
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes));

    public static async Task<byte[]> DownloadAsync(IObjectStore store, string key, long offset = 0)
    {
        using var buffer = new MemoryStream();
        await store.GetAsync(key, buffer, offset, null, CancellationToken.None);
        return buffer.ToArray();
    }

    /// <summary>Files (not folders) the fake holds under one name, trashed or not.</summary>
    public IReadOnlyList<FakeFile> Named(string name) => Server.Files().Where(f => f.Name == name).ToList();

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test over it would hide the real result.
        }
    }
}

/// <summary>Upload states in memory, standing in for the catalog; shared between store instances like the catalog is.</summary>
internal sealed class MemoryUploadStates : IUploadStateStore
{
    private readonly ConcurrentDictionary<(string, string), UploadState> _states = new();

    public IReadOnlyCollection<UploadState> All => _states.Values.ToList();

    public Task<UploadState?> GetAsync(string tier, string key, CancellationToken cancellationToken) =>
        Task.FromResult(_states.TryGetValue((tier, key), out var state) ? state : null);

    public Task SaveAsync(UploadState state, CancellationToken cancellationToken)
    {
        _states[(state.Tier, state.Key)] = state;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string tier, string key, CancellationToken cancellationToken)
    {
        _states.TryRemove((tier, key), out _);
        return Task.CompletedTask;
    }
}

/// <summary>Progress reported on the calling thread (Progress&lt;T&gt; posts to the thread pool, too late for a test
/// that reacts to a given offset).</summary>
internal sealed class InlineProgress(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}
