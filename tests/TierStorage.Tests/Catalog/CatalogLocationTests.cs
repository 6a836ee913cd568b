using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using Xunit;

namespace TierStorage.Tests.Catalog;

/// <summary>Where a catalog is, named without its password (invariant 4): the password only ever comes from the variable
/// password_env names (or Npgsql's own PGPASSWORD/pgpass), and nothing printed carries it.</summary>
public sealed class CatalogLocationTests
{
    [Fact]
    public void A_connection_with_a_password_is_refused_without_repeating_it()
    {
        var ex = Assert.Throws<TierStorageException>(() => CatalogLocation.Postgres("Host=db;Database=ts;Username=alice;Password=s3cr3t-value"));
        Assert.Equal(ErrorIds.InvalidArgument, ex.ErrorId);
        Assert.DoesNotContain("s3cr3t-value", ex.Message);
        Assert.Null(ex.Target);
        Assert.Contains("password_env", CatalogLocation.Problem("Host=db;Database=ts;Pwd=s3cr3t-value"));
        Assert.DoesNotContain("s3cr3t-value", CatalogLocation.Problem("Host=db;Database=ts;Pwd=s3cr3t-value"));
    }

    [Fact]
    public void Described_as_user_host_port_and_database_only()
    {
        var location = CatalogLocation.Postgres("Host=db.example;Port=5433;Database=team;Username=alice;Application Name=x;Timeout=30", "TS_TEST_NOT_SET");
        Assert.Equal("postgres://alice@db.example:5433/team", location.Describe());
        Assert.Equal(location.Describe(), location.ToString());
        Assert.Equal(CatalogProviderKind.Sqlite, CatalogLocation.Parse("./laptop.db").Provider);
        Assert.Equal(CatalogProviderKind.Postgres, CatalogLocation.Parse("Host=db;Database=t").Provider);
    }

    [Fact]
    public void The_password_comes_from_the_named_variable_and_a_missing_one_is_named_not_guessed()
    {
        var variable = "TS_TEST_PG_" + Guid.NewGuid().ToString("N")[..8];
        var location = CatalogLocation.Postgres("Host=db;Database=t;Username=alice", variable);
        var missing = Assert.Throws<TierStorageException>(location.OpenString);
        Assert.Contains(variable, missing.Message);
        Environment.SetEnvironmentVariable(variable, "from-the-variable");
        try
        {
            var open = new Npgsql.NpgsqlConnectionStringBuilder(location.OpenString());
            Assert.Equal("from-the-variable", open.Password);
            Assert.Equal(30, open.KeepAlive);
            Assert.DoesNotContain("from-the-variable", location.Describe());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
