using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Flows;
using Google.Apis.Auth.OAuth2.Responses;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>What Connect-TierDrive reports: who is connected, with which scope, and where the token is kept.
/// Never the token itself.</summary>
public sealed record DriveConnection(string? Account, string Scope, string TokenFile);

/// <summary>What Disconnect-TierDrive did: the token file removed, and whether Google (or the configured server)
/// confirmed the revocation; an offline machine still forgets the token.</summary>
public sealed record DriveDisconnection(string TokenFile, bool TokenRemoved, bool Revoked);

/// <summary>
/// OAuth for the Drive tier: Google.Apis.Auth's installed-app flow (PKCE, a browser, a loopback receiver on 127.0.0.1)
/// with the <see cref="Scope"/> <c>drive.file</c> only — the app sees just the files it created —, the token kept by
/// <see cref="DriveTokenStore"/> under the workspace's credentials/ folder and refreshed by Google.Apis when it expires.
/// </summary>
public static class DriveAuthorization
{
    public const string Scope = "https://www.googleapis.com/auth/drive.file";
    /// <summary>Client secrets file name in credentials/ when the policy names none.</summary>
    public const string DefaultClientSecretsFile = "client_secret.json";
    /// <summary>The token's key in the store, hence its file: credentials/google-drive.token.json.</summary>
    private const string UserId = "google-drive";

    /// <summary>The client secrets file a tier uses: its client_secrets (relative to credentials/), or the default one.</summary>
    public static string ClientSecretsPath(TierDefinition tier, string credentialsDirectory)
    {
        ArgumentNullException.ThrowIfNull(tier);
        return Path.GetFullPath(Path.Combine(credentialsDirectory, tier.ClientSecrets ?? DefaultClientSecretsFile));
    }

    public static string TokenFile(string credentialsDirectory) => new DriveTokenStore(credentialsDirectory).PathFor(UserId);

    /// <summary>
    /// Runs the consent flow (unless a usable token is already stored): <paramref name="openBrowser"/> is handed the
    /// authorization URL and must return at once (true when a browser was started); the loopback receiver waits for the
    /// redirect, the code is exchanged at the token endpoint and the token stored. Returns the connected account.
    /// </summary>
    public static async Task<DriveConnection> ConnectAsync(string credentialsDirectory, string clientSecretsPath, DriveEndpoints endpoints,
        Func<Uri, bool> openBrowser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(openBrowser);
        var secrets = await LoadClientSecretsAsync(clientSecretsPath, cancellationToken).ConfigureAwait(false);
        var store = new DriveTokenStore(credentialsDirectory);
        using var flow = CreateFlow(secrets, endpoints, store);
        UserCredential credential;
        try
        {
            credential = await new AuthorizationCodeInstalledApp(flow, new BrowserCodeReceiver(openBrowser))
                .AuthorizeAsync(UserId, cancellationToken).ConfigureAwait(false);
        }
        catch (TokenResponseException e)
        {
            // Error codes such as access_denied or invalid_grant; never a token.
            throw new TierStorageException(ErrorIds.AuthorizationFailed, TierErrorKind.PermissionDenied,
                $"Google did not authorize TierStorage ({e.Error?.Error ?? "no reason given"}).", clientSecretsPath, e);
        }
        catch (NotSupportedException e)
        {
            throw new TierStorageException(ErrorIds.AuthorizationFailed, TierErrorKind.InvalidOperation,
                "No browser could be opened for the Google sign-in.", clientSecretsPath, e);
        }

        var options = new GoogleDriveStoreOptions { TierName = "google-drive", RootFolder = "TierStorage", Credential = credential, ApiBaseUri = endpoints.ApiBaseUri };
        using var http = new DriveHttp(options);
        var about = await http.JsonAsync<DriveAbout>(() => new HttpRequestMessage(HttpMethod.Get, http.Api("drive/v3/about?fields=user(emailAddress,displayName)")),
            "read the account", null, cancellationToken).ConfigureAwait(false);
        return new DriveConnection(about.User?.EmailAddress ?? about.User?.DisplayName, credential.Token.Scope ?? Scope, store.PathFor(UserId));
    }

    /// <summary>Revokes the stored grant where the server can be reached, and deletes the token file in any case.</summary>
    public static async Task<DriveDisconnection> DisconnectAsync(string credentialsDirectory, string clientSecretsPath, DriveEndpoints endpoints,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var store = new DriveTokenStore(credentialsDirectory);
        var tokenFile = store.PathFor(UserId);
        var token = await store.GetAsync<TokenResponse?>(UserId).ConfigureAwait(false);
        if (token is null) return new DriveDisconnection(tokenFile, TokenRemoved: false, Revoked: false);

        var revoked = false;
        if (File.Exists(clientSecretsPath))
        {
            try
            {
                var secrets = await LoadClientSecretsAsync(clientSecretsPath, cancellationToken).ConfigureAwait(false);
                using var flow = CreateFlow(secrets, endpoints, store);
                await flow.RevokeTokenAsync(UserId, token.RefreshToken ?? token.AccessToken, cancellationToken).ConfigureAwait(false);
                revoked = true;
            }
            catch (Exception e) when (e is TokenResponseException or HttpRequestException or TierStorageException)
            {
                // Offline, or the grant is already gone: forgetting the token locally is what matters.
            }
        }
        await store.DeleteAsync<TokenResponse>(UserId).ConfigureAwait(false);
        return new DriveDisconnection(tokenFile, TokenRemoved: true, Revoked: revoked);
    }

    /// <summary>The stored authorization as a credential that refreshes itself; TierAuthRequired when there is none.</summary>
    public static async Task<UserCredential> LoadCredentialAsync(string credentialsDirectory, string clientSecretsPath, DriveEndpoints endpoints,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var secrets = await LoadClientSecretsAsync(clientSecretsPath, cancellationToken).ConfigureAwait(false);
        var store = new DriveTokenStore(credentialsDirectory);
        // Not disposed here: the credential uses the flow for every refresh.
        var flow = CreateFlow(secrets, endpoints, store);
        var token = await flow.LoadTokenAsync(UserId, cancellationToken).ConfigureAwait(false);
        if (token?.RefreshToken is null && token?.AccessToken is null)
        {
            flow.Dispose();
            throw new TierStorageException(ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied,
                "TierStorage is not connected to Google Drive; run Connect-TierDrive (tierstorage connect drive) first.", store.PathFor(UserId));
        }
        return new UserCredential(flow, UserId, token);
    }

    /// <summary>Options for a store on <paramref name="tier"/>, authorized by the token in <paramref name="credentialsDirectory"/>.</summary>
    public static async Task<GoogleDriveStoreOptions> StoreOptionsAsync(TierDefinition tier, string credentialsDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tier);
        if (tier.Kind != TierKind.GoogleDrive || string.IsNullOrEmpty(tier.RootFolder))
            throw new ArgumentException($"Tier '{tier.Name}' is not a google-drive tier with a root folder.", nameof(tier));
        var endpoints = DriveEndpoints.FromTier(tier);
        var credential = await LoadCredentialAsync(credentialsDirectory, ClientSecretsPath(tier, credentialsDirectory), endpoints, cancellationToken).ConfigureAwait(false);
        return new GoogleDriveStoreOptions { TierName = tier.Name, RootFolder = tier.RootFolder, Credential = credential, ApiBaseUri = endpoints.ApiBaseUri };
    }

    private static PkceGoogleAuthorizationCodeFlow CreateFlow(ClientSecrets secrets, DriveEndpoints endpoints, DriveTokenStore store) =>
        new(new EndpointInitializer(endpoints)
        {
            ClientSecrets = secrets,
            Scopes = [Scope],
            DataStore = store,
        });

    private static async Task<ClientSecrets> LoadClientSecretsAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
            throw new TierStorageException(ErrorIds.ClientSecretsNotFound, TierErrorKind.ObjectNotFound,
                $"The OAuth client file '{path}' does not exist; download it from the Google Cloud console (Desktop app) into the credentials folder.", path);
        try
        {
            var secrets = (await GoogleClientSecrets.FromFileAsync(path, cancellationToken).ConfigureAwait(false)).Secrets;
            if (!string.IsNullOrEmpty(secrets?.ClientId)) return secrets;
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or InvalidOperationException or IOException)
        {
            // The parser's message may quote the file, which holds the client secret: it is not passed on.
        }
        throw new TierStorageException(ErrorIds.ClientSecretsInvalid, TierErrorKind.InvalidData,
            $"The OAuth client file '{path}' is not a Google client secrets file (expected {{\"installed\": {{\"client_id\": ..., \"client_secret\": ...}}}}).", path);
    }

    /// <summary>Google's initializer takes other endpoints only through its protected constructor.</summary>
    private sealed class EndpointInitializer(DriveEndpoints endpoints)
        : GoogleAuthorizationCodeFlow.Initializer(endpoints.AuthorizationServerUrl, endpoints.TokenServerUrl, endpoints.RevokeTokenUrl);

    /// <summary>The loopback receiver of Google.Apis.Auth with the browser left to the host (or a test).</summary>
    private sealed class BrowserCodeReceiver(Func<Uri, bool> openBrowser)
        : LocalServerCodeReceiver(ClosePage, CallbackUriChooserStrategy.ForceLoopbackIp)
    {
        private const string ClosePage = "<html><head><title>TierStorage</title></head><body>TierStorage is connected to Google Drive. You may close this window.</body></html>";

        protected override bool OpenBrowser(string url) => openBrowser(new Uri(url));
    }
}
