using TierStorage.Engine.Policy;
using Xunit;

namespace TierStorage.Tests.Policy;

/// <summary>Tests that set process environment variables run alone so no parallel test sees them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Process environment";
}

[Collection(EnvironmentCollection.Name)]
public sealed class PathExpanderTests
{
    [Fact]
    public void Tierstorage_data_defaults_to_the_per_user_data_directory()
    {
        WithVariable(PathExpander.DataVariable, null, () =>
        {
            var expected = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "TierStorage");
            Assert.Equal(expected, PathExpander.DataDirectory);
            Assert.Equal(Path.Combine(expected, "backup"), PathExpander.Expand("${TIERSTORAGE_DATA}/backup", "/elsewhere"));
        });
    }

    [Fact]
    public void Embedded_default_folder_tiers_expand_under_TIERSTORAGE_DATA()
    {
        var data = Path.Combine(Path.GetTempPath(), "ts-data-" + Guid.NewGuid().ToString("N"));
        WithVariable(PathExpander.DataVariable, data, () =>
        {
            var policy = Engine.Policy.PolicyLoader.Load(null);

            Assert.Equal(Path.Combine(data, "backup"), policy.GetTier("backup")!.Path);
            Assert.Equal(Path.Combine(data, "archive"), policy.GetTier("archive")!.Path);
        });
    }

    [Fact]
    public void Environment_variables_in_both_syntaxes_expand()
    {
        WithVariable("TS_TEST_ROOT", "/mnt/share", () =>
        {
            Assert.Equal(Path.GetFullPath("/mnt/share/a"), PathExpander.Expand("${TS_TEST_ROOT}/a", "/base"));
            Assert.Equal(Path.GetFullPath("/mnt/share/b"), PathExpander.Expand("%TS_TEST_ROOT%/b", "/base"));
        });
    }

    [Fact]
    public void Unset_variables_are_left_as_written_and_reported()
    {
        var unset = new List<string>();

        var expanded = PathExpander.Expand("${TS_TEST_SURELY_UNSET_1}/x", "/base", unset);

        Assert.Equal(Path.GetFullPath("/base/${TS_TEST_SURELY_UNSET_1}/x"), expanded);
        Assert.Equal(["TS_TEST_SURELY_UNSET_1"], unset);
    }

    [Fact]
    public void Leading_tilde_is_the_home_directory()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

        Assert.Equal(Path.GetFullPath(Path.Combine(home, "tier")), PathExpander.Expand("~/tier", "/base"));
        Assert.Equal(Path.GetFullPath("/base/a~b"), PathExpander.Expand("a~b", "/base"));
    }

    [Fact]
    public void Relative_paths_are_relative_to_the_base_directory()
    {
        Assert.Equal(Path.GetFullPath("/policies/backup"), PathExpander.Expand("../backup", "/policies/x"));
        Assert.Equal(Path.GetFullPath("/policies/x/backup"), PathExpander.Expand("./backup", "/policies/x"));
    }

    private static void WithVariable(string name, string? value, Action test)
    {
        var saved = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
        try
        {
            test();
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, saved);
        }
    }
}
