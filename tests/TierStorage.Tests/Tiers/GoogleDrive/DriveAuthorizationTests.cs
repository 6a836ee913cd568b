using System.Net.Http.Headers;
using TierStorage.Contracts;
using TierStorage.DriveFake;
using TierStorage.Engine.Tiers.GoogleDrive;
using Xunit;

namespace TierStorage.Tests.Tiers.GoogleDrive;

/// <summary>The real installed-app flow (loopback receiver, PKCE, code exchange) against the fake's OAuth endpoints.</summary>
public sealed class DriveAuthorizationTests : IAsyncLifetime
{
    private DriveTestBed _bed = null!;
    private Task? _browser;

    public async Task InitializeAsync() => _bed = await DriveTestBed.StartAsync(connected: false);

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    /// <summary>Plays the user's browser: follows the authorization URL, whose redirect lands on the loopback receiver.
    /// Returns at once, as opening a browser does; the receiver is only listening once this returns.</summary>
    private bool OpenBrowser(Uri url)
    {
        _browser = Task.Run(async () =>
        {
            using var http = new HttpClient();
            using var response = await http.GetAsync(url);
            response.EnsureSuccessStatusCode();
        });
        return true;
    }

    private Task<DriveConnection> ConnectAsync() =>
        DriveAuthorization.ConnectAsync(_bed.CredentialsDirectory, _bed.ClientSecretsPath, _bed.Endpoints, OpenBrowser, CancellationToken.None);

    [Fact]
    public async Task Connect_runs_the_browser_flow_and_stores_a_user_only_token_with_the_drive_file_scope()
    {
        var connection = await ConnectAsync();
        await _browser!;

        Assert.Equal(DriveAuthorization.Scope, _bed.Server.LastAuthorizationScope);
        Assert.Equal((_bed.Server.AccountEmail, DriveAuthorization.Scope), (connection.Account, connection.Scope));
        Assert.Equal(DriveAuthorization.TokenFile(_bed.CredentialsDirectory), connection.TokenFile);
        Assert.True(File.Exists(connection.TokenFile));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(connection.TokenFile));
        var tokenJson = await File.ReadAllTextAsync(connection.TokenFile);
        Assert.Contains("refresh_token", tokenJson);
        Assert.DoesNotContain(ExtractAccessToken(tokenJson), connection.ToString());
    }

    [Fact]
    public async Task Connected_token_authorizes_a_store_built_from_the_policy_tier()
    {
        await ConnectAsync();
        var tier = new TierDefinition
        {
            Name = "drive", Level = TierLevel.Backup, Kind = TierKind.GoogleDrive, RootFolder = "FromPolicy",
            ApiEndpoint = _bed.Server.BaseUri.AbsoluteUri, AuthEndpoint = _bed.Server.AuthorizationUri.AbsoluteUri, TokenEndpoint = _bed.Server.TokenUri.AbsoluteUri,
        };

        var options = await DriveAuthorization.StoreOptionsAsync(tier, _bed.CredentialsDirectory, CancellationToken.None);
        await using var store = new GoogleDriveStore(options);
        await store.PutAsync("x/y.txt", new MemoryStream([42]), null, CancellationToken.None);

        Assert.Single(_bed.Named("FromPolicy"));
        Assert.Equal("Google Drive: My Drive/FromPolicy", store.Location);
    }

    [Fact]
    public async Task Disconnect_revokes_the_grant_and_deletes_the_token_file()
    {
        var connection = await ConnectAsync();
        Assert.Equal(1, _bed.Server.ActiveGrants);

        var result = await DriveAuthorization.DisconnectAsync(_bed.CredentialsDirectory, _bed.ClientSecretsPath, _bed.Endpoints, CancellationToken.None);

        Assert.Equal((true, true), (result.TokenRemoved, result.Revoked));
        Assert.False(File.Exists(connection.TokenFile));
        Assert.Equal(0, _bed.Server.ActiveGrants);
        var again = await DriveAuthorization.DisconnectAsync(_bed.CredentialsDirectory, _bed.ClientSecretsPath, _bed.Endpoints, CancellationToken.None);
        Assert.False(again.TokenRemoved);
    }

    [Fact]
    public async Task Disconnect_offline_still_forgets_the_token()
    {
        var connection = await ConnectAsync();
        await _bed.Server.RefuseConnectionsAsync();

        var result = await DriveAuthorization.DisconnectAsync(_bed.CredentialsDirectory, _bed.ClientSecretsPath, _bed.Endpoints, CancellationToken.None);

        Assert.Equal((true, false), (result.TokenRemoved, result.Revoked));
        Assert.False(File.Exists(connection.TokenFile));
    }

    [Fact]
    public async Task Store_without_a_connection_is_auth_required()
    {
        var error = await Assert.ThrowsAsync<TierStorageException>(() => _bed.OpenStoreAsync());

        Assert.Equal((ErrorIds.TierAuthRequired, TierErrorKind.PermissionDenied), (error.ErrorId, error.Kind));
    }

    [Fact]
    public async Task Missing_or_malformed_client_file_names_the_file_and_never_quotes_it()
    {
        var missing = await Assert.ThrowsAsync<TierStorageException>(() =>
            DriveAuthorization.ConnectAsync(_bed.CredentialsDirectory, Path.Combine(_bed.CredentialsDirectory, "none.json"), _bed.Endpoints, OpenBrowser, CancellationToken.None));
        await File.WriteAllTextAsync(_bed.ClientSecretsPath, "{\"installed\": {\"client_secret\": \"s3cr3t-value\"");
        var malformed = await Assert.ThrowsAsync<TierStorageException>(() => ConnectAsync());

        Assert.Equal(ErrorIds.ClientSecretsNotFound, missing.ErrorId);
        Assert.Equal(ErrorIds.ClientSecretsInvalid, malformed.ErrorId);
        Assert.Contains(_bed.ClientSecretsPath, malformed.Message);
        Assert.DoesNotContain("s3cr3t-value", malformed.Message);
    }

    [Fact]
    public async Task Fake_conformance_tokens_from_the_code_flow_refresh_and_stop_working_when_expired()
    {
        await ConnectAsync();
        var tokenJson = await File.ReadAllTextAsync(DriveAuthorization.TokenFile(_bed.CredentialsDirectory));
        using var http = new HttpClient();
        var about = new Uri(_bed.Server.BaseUri, "drive/v3/about?fields=user");
        using var request = new HttpRequestMessage(HttpMethod.Get, about);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ExtractAccessToken(tokenJson));
        Assert.True((await http.SendAsync(request)).IsSuccessStatusCode);

        _bed.Server.ExpireAllTokens();
        using var expired = new HttpRequestMessage(HttpMethod.Get, about);
        expired.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ExtractAccessToken(tokenJson));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.SendAsync(expired)).StatusCode);
    }

    private static string ExtractAccessToken(string tokenJson) =>
        System.Text.RegularExpressions.Regex.Match(tokenJson, "\"access_token\"\\s*:\\s*\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } token
            ? token
            : throw new InvalidOperationException("No access token in the file.");
}
