using Xunit;
using TierStorage.Engine.Workspace;

namespace TierStorage.Tests.Workspace;

/// <summary>The lookups behind tab completion answer from the catalog and policy without changing anything, and answer
/// nothing rather than throw.</summary>
public sealed class WorkspaceLookupTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Session_ids_and_phases_come_from_the_catalog_newest_session_first()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest { Phase = 0, SessionId = "session_20260101_090000" }, None);
        await ws.StartSessionAsync(new StartSessionRequest { Phase = 2, SessionId = "session_20260102_090000", CompleteActive = true }, None);

        Assert.Equal(["session_20260102_090000", "session_20260101_090000"], WorkspaceLookup.SessionIds(t.Root));
        Assert.Equal([0, 2], WorkspaceLookup.Phases(t.Root));
    }

    [Fact]
    public async Task Tier_names_come_from_the_workspace_policy_or_the_one_named()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var other = Path.Combine(t.Root, "other.yaml");
        await File.WriteAllTextAsync(other, "version: 1\ntiers:\n  - { name: disk, level: 1, kind: folder }\n");

        Assert.Equal(["local", "backup", "archive"], WorkspaceLookup.TierNames(t.Root, policyPath: null));
        Assert.Equal(["disk"], WorkspaceLookup.TierNames(t.Root, other));
    }

    [Fact]
    public void A_missing_workspace_gives_nothing_and_is_not_created()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-missing-" + Guid.NewGuid().ToString("N"));

        Assert.Empty(WorkspaceLookup.SessionIds(root));
        Assert.Empty(WorkspaceLookup.Phases(root));
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public async Task A_catalog_that_is_not_a_database_or_an_invalid_policy_gives_nothing()
    {
        await using var t = await TestWorkspace.CreateAsync();
        await File.WriteAllTextAsync(t.Layout.CatalogPath, "not a database");
        await File.WriteAllTextAsync(t.Layout.PolicyPath, "version: 1\ntiers: [ unclosed\n");

        Assert.Empty(WorkspaceLookup.SessionIds(t.Root));
        Assert.Empty(WorkspaceLookup.TierNames(t.Root, policyPath: null));
        Assert.Equal("not a database", await File.ReadAllTextAsync(t.Layout.CatalogPath));
    }

    [Fact]
    public void Event_types_are_the_log_spelling() =>
        Assert.Contains("tool_call", WorkspaceLookup.EventTypes);
}
