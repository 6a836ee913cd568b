using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>The google-drive keys that point the tier at another Drive API and OAuth server (tests, self-hosted setups).</summary>
public sealed class DriveEndpointPolicyTests : IDisposable
{
    private const string DriveTier = "kind: google-drive\n    root_folder: TierStorage\n    price_per_gb_month: 0";

    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Drive_endpoints_are_read_into_the_tier()
    {
        var yaml = ValidTiers.Replace("kind: folder\n    path: backup", DriveTier +
            "\n    api_endpoint: http://127.0.0.1:5000/\n    auth_endpoint: http://127.0.0.1:5000/o/oauth2/auth\n    token_endpoint: https://example.test/token");

        var tier = PolicyLoader.Load(_files.Write(yaml)).GetTier("backup")!;

        Assert.Equal(TierKind.GoogleDrive, tier.Kind);
        Assert.Equal("http://127.0.0.1:5000/", tier.ApiEndpoint);
        Assert.Equal("http://127.0.0.1:5000/o/oauth2/auth", tier.AuthEndpoint);
        Assert.Equal("https://example.test/token", tier.TokenEndpoint);
    }

    [Fact]
    public void Drive_endpoints_default_to_null_so_google_is_used()
    {
        var tier = PolicyLoader.Load(_files.Write(ValidTiers.Replace("kind: folder\n    path: backup", DriveTier))).GetTier("backup")!;

        Assert.Null(tier.ApiEndpoint);
        Assert.Null(tier.AuthEndpoint);
        Assert.Null(tier.TokenEndpoint);
    }

    [Theory]
    [InlineData("api_endpoint", "ftp://127.0.0.1/")]
    [InlineData("auth_endpoint", "/o/oauth2/auth")]
    [InlineData("token_endpoint", "not a url")]
    public void Endpoint_that_is_not_an_absolute_http_url_is_an_invalid_value(string key, string value)
    {
        var findings = _files.Test(ValidTiers.Replace("kind: folder\n    path: backup", DriveTier + $"\n    {key}: {value}"));

        var finding = Only(findings, PolicyFindingCodes.InvalidValue);
        AssertAt(finding, 12, 7 + key.Length, $"tiers[1].{key}");
        Assert.Contains("http", finding.Message);
    }

    [Fact]
    public void Drive_endpoint_on_an_s3_tier_says_it_belongs_to_google_drive()
    {
        var yaml = ValidTiers.Replace("kind: folder\n    path: archive",
            "kind: s3\n    bucket: archive-bucket\n    region: us-east-1\n    price_per_gb_month: 0\n    token_endpoint: http://127.0.0.1/token");

        var finding = Only(_files.Test(yaml), PolicyFindingCodes.KeyNotForKind);

        Assert.Equal("tiers[2].token_endpoint", finding.KeyPath);
        Assert.Contains("google-drive", finding.Message);
    }
}
