using System.IO.Enumeration;

namespace TierStorage.Engine.Catalog;

/// <summary>The -Machine and -User filters: a name or a pattern with * and ?, compared without case; null matches everything.
/// A session recorded before catalogs were shared has no machine or user and matches only "*".</summary>
public static class OriginPattern
{
    public static bool Matches(string? pattern, string? value) =>
        pattern is null || (value is null ? pattern == "*" : FileSystemName.MatchesSimpleExpression(pattern, value, ignoreCase: true));
}
