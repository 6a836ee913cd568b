using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>The policy's catalog: section (issue 14): a shared PostgreSQL catalog named without its password.</summary>
public sealed class CatalogPolicyTests : IDisposable
{
    private const string Connection = "Host=db.example;Port=5432;Database=tierstorage;Username=alice";
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string With(string catalog) => ValidTiers + "catalog:\n" + catalog;

    [Fact]
    public void A_postgres_catalog_loads_with_its_connection_and_password_variable()
    {
        Assert.Empty(_files.Test(With($"  provider: postgres\n  connection: \"{Connection}\"\n  password_env: TIERSTORAGE_PG_PASSWORD\n")));
        var policy = PolicyLoader.Load(_files.Write(With($"  provider: postgres\n  connection: \"{Connection}\"\n  password_env: TIERSTORAGE_PG_PASSWORD\n")));
        Assert.True(policy.Catalog.IsPostgres);
        Assert.Equal(Connection, policy.Catalog.Connection);
        Assert.Equal("TIERSTORAGE_PG_PASSWORD", policy.Catalog.PasswordEnv);
        Assert.False(policy.Catalog.DualWrite);
        Assert.Equal("sqlite", PolicyLoader.Load(_files.Write(ValidTiers)).Catalog.Provider);
    }

    [Fact]
    public void A_password_in_the_connection_is_refused_without_being_repeated()
    {
        var finding = Only(_files.Test(With($"  provider: postgres\n  connection: \"{Connection};Password=hunter2secret\"\n")), PolicyFindingCodes.SecretInPolicy);
        AssertAt(finding, 19, 15, "catalog.connection");
        Assert.DoesNotContain("hunter2secret", finding.Message);
        Assert.Contains("password_env", finding.Message);
    }

    [Fact]
    public void A_password_key_beside_the_connection_is_refused_as_a_secret()
    {
        var finding = Only(_files.Test(With($"  provider: postgres\n  connection: \"{Connection}\"\n  password: hunter2secret\n")), PolicyFindingCodes.SecretInPolicy);
        Assert.Equal("catalog.password", finding.KeyPath);
        Assert.DoesNotContain("hunter2secret", finding.Message);
    }

    [Theory]
    [InlineData("  provider: postgress\n", PolicyFindingCodes.InvalidValue, "catalog.provider", "did you mean 'postgres'")]
    [InlineData("  provider: postgres\n", PolicyFindingCodes.MissingKey, "catalog.connection", "Host=")]
    [InlineData("  provider: postgres\n  connection: \"Host=db;Username=alice\"\n", PolicyFindingCodes.InvalidValue, "catalog.connection", "no Database")]
    [InlineData("  provider: postgres\n  connection: \"not a connection string\"\n", PolicyFindingCodes.InvalidValue, "catalog.connection", "Npgsql connection string")]
    [InlineData("  provider: postgres\n  connection: \"Host=db;Database=t\"\n  password_env: \"my password\"\n", PolicyFindingCodes.InvalidValue, "catalog.password_env", "environment variable")]
    [InlineData("  provider: postgres\n  connection: \"Host=db;Database=t\"\n  dual_write: true\n", PolicyFindingCodes.InvalidValue, "catalog.dual_write", "provider sqlite")]
    [InlineData("  dual_write: true\n", PolicyFindingCodes.MissingKey, "catalog.connection", "dual_write needs")]
    [InlineData("  provider: postgres\n  connection: \"Host=db;Database=t\"\n  pool: 5\n", PolicyFindingCodes.UnknownKey, "catalog.pool", "provider, connection, password_env, dual_write")]
    public void Each_malformed_catalog_key_is_a_finding_at_its_key(string catalog, string code, string keyPath, string message)
    {
        var finding = Only(_files.Test(With(catalog)), code);
        Assert.Equal(keyPath, finding.KeyPath);
        Assert.Contains(message, finding.Message);
        Assert.True(finding.Line > 17);
    }

    [Fact]
    public void The_example_policys_commented_catalog_block_loads_once_uncommented()
    {
        var example = File.ReadAllText(FindExample());
        var start = example.IndexOf("#catalog:", StringComparison.Ordinal);
        Assert.True(start > 0);
        var block = string.Join("\n", example[start..].Split('\n').TakeWhile(l => l.StartsWith('#')).Select(l => l[1..]));
        Assert.Empty(_files.Test(example + "\n" + block + "\n"));
    }
}
