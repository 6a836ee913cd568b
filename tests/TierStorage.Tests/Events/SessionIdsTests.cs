using TierStorage.Contracts;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Events;

public sealed class SessionIdsTests
{
    [Theory]
    [InlineData("session_20261122_053250")]
    [InlineData("a")]
    [InlineData("A1.b-c_d")]
    [InlineData("x.y")]
    public void Safe_ids_are_valid(string id)
    {
        Assert.True(SessionIds.IsValid(id));
        SessionIds.Validate(id);
    }

    [Theory]
    [InlineData("../x", "starts with '.'")]
    [InlineData("a/b", "character '/' at position 1")]
    [InlineData("a\\b", "character '\\' at position 1")]
    [InlineData("", "empty")]
    [InlineData("a\0b", "U+0000")]
    [InlineData("a b", "U+0020")]
    [InlineData("a..b", "'..'")]
    [InlineData("_a", "starts with '_'")]
    [InlineData("-rf", "starts with '-'")]
    [InlineData("C:x", "character ':'")]
    public void Unsafe_ids_are_refused_naming_the_problem(string id, string expected)
    {
        Assert.False(SessionIds.IsValid(id));
        var ex = Assert.Throws<TierStorageException>(() => SessionIds.Validate(id));
        Assert.Equal(ErrorIds.InvalidSessionId, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain('\0', ex.Message);
    }

    [Fact]
    public void Length_is_limited_to_128()
    {
        Assert.True(SessionIds.IsValid(new string('a', 128)));
        Assert.False(SessionIds.IsValid(new string('a', 129)));
        Assert.Contains("200 characters", Assert.Throws<TierStorageException>(() => SessionIds.Validate(new string('a', 200))).Message);
        Assert.False(SessionIds.IsValid(null));
    }

    [Fact]
    public void New_ids_use_utc_time()
    {
        Assert.Equal("session_20261122_053250", SessionIds.NewId(new DateTimeOffset(2026, 11, 22, 7, 32, 50, TimeSpan.FromHours(2))));
        Assert.True(SessionIds.IsValid(SessionIds.NewId(DateTimeOffset.Now)));
    }

    [Fact]
    public void Later_ids_of_one_second_get_a_zero_padded_ordinal_that_sorts_in_start_order()
    {
        var at = new DateTimeOffset(2026, 11, 22, 5, 32, 50, TimeSpan.Zero);
        var taken = new List<string>();
        for (var i = 0; i < 12; i++) taken.Add(SessionIds.NewId(at, taken.Contains)!);
        taken.Add(SessionIds.NewId(at.AddSeconds(1)));

        Assert.Equal("session_20261122_053250", taken[0]);
        Assert.Equal("session_20261122_053250_002", taken[1]);
        Assert.Equal("session_20261122_053250_012", taken[11]);
        Assert.Equal(taken, taken.Order(StringComparer.Ordinal));
        Assert.Equal(taken.Count, taken.Distinct().Count());
        Assert.All(taken, id => Assert.True(SessionIds.IsValid(id)));
    }

    [Fact]
    public void A_second_with_its_last_ordinal_taken_gives_no_id()
    {
        Assert.Null(SessionIds.NewId(DateTimeOffset.UnixEpoch, _ => true));
    }
}
