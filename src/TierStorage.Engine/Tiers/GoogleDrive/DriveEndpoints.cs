using Google.Apis.Auth.OAuth2;
using TierStorage.Contracts;

namespace TierStorage.Engine.Tiers.GoogleDrive;

/// <summary>Where the Drive API and Google's OAuth server are. Google's by default; a policy's api_endpoint,
/// auth_endpoint and token_endpoint point them elsewhere (the Drive fake in tests, a self-hosted setup).</summary>
public sealed record DriveEndpoints
{
    public static DriveEndpoints Google { get; } = new();

    /// <summary>Base of the API; requests go to <c>drive/v3/...</c> and <c>upload/drive/v3/...</c> under it.</summary>
    public Uri ApiBaseUri { get; init; } = new("https://www.googleapis.com/");
    public string AuthorizationServerUrl { get; init; } = GoogleAuthConsts.OidcAuthorizationUrl;
    public string TokenServerUrl { get; init; } = GoogleAuthConsts.OidcTokenUrl;
    public string RevokeTokenUrl { get; init; } = GoogleAuthConsts.RevokeTokenUrl;

    /// <summary>The endpoints a google-drive tier names, Google's for the rest. A custom token endpoint brings its
    /// revocation endpoint along as its sibling <c>revoke</c> (the layout Google and the fake share).</summary>
    public static DriveEndpoints FromTier(TierDefinition tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        var endpoints = Google;
        if (tier.ApiEndpoint is { } api) endpoints = endpoints with { ApiBaseUri = WithTrailingSlash(new Uri(api)) };
        if (tier.AuthEndpoint is { } auth) endpoints = endpoints with { AuthorizationServerUrl = auth };
        if (tier.TokenEndpoint is { } token)
            endpoints = endpoints with { TokenServerUrl = token, RevokeTokenUrl = new Uri(new Uri(token), "revoke").AbsoluteUri };
        return endpoints;
    }

    internal static Uri WithTrailingSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
