using System.Globalization;
using TierStorage.Contracts;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Session ids become file and folder names on every tier (logs, snapshots, Drive folders, archive entries),
/// so they are restricted to a path-safe alphabet: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ and never "..".
/// </summary>
public static class SessionIds
{
    public const int MaxLength = 128;

    public static bool IsValid(string? id) => Problem(id) is null;

    /// <summary>Throws ErrorIds.InvalidSessionId naming what is wrong (the offending character and its position).</summary>
    public static void Validate(string? id)
    {
        if (Problem(id) is { } problem)
        {
            throw new TierStorageException(ErrorIds.InvalidSessionId, TierErrorKind.InvalidArgument,
                $"Invalid session id {Describe(id)}: {problem}. Session ids are 1-{MaxLength} characters of A-Z, a-z, 0-9, '_', '.', '-', start with a letter or digit and never contain '..'.",
                id);
        }
    }

    /// <summary>Sessions one second can start: the first takes the plain id, the others a three-digit ordinal.</summary>
    public const int MaxPerSecond = 999;

    /// <summary>session_YYYYMMDD_HHMMSS in UTC, so ids sort by start time whatever the machine's zone.</summary>
    public static string NewId(DateTimeOffset now) =>
        "session_" + now.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);

    /// <summary>
    /// The id for a session started at <paramref name="now"/> that no existing session has: <see cref="NewId(DateTimeOffset)"/>
    /// for the first of its second, then session_YYYYMMDD_HHMMSS_002, _003, ... The ordinal is zero-padded so that ids still
    /// sort lexically in start order (a plain id sorts before its own suffixed ones, and any suffix before the next second).
    /// Null when the second already has <see cref="MaxPerSecond"/> sessions.
    /// </summary>
    public static string? NewId(DateTimeOffset now, Func<string, bool> isTaken)
    {
        ArgumentNullException.ThrowIfNull(isTaken);
        var plain = NewId(now);
        if (!isTaken(plain)) return plain;
        for (var ordinal = 2; ordinal <= MaxPerSecond; ordinal++)
        {
            var candidate = plain + "_" + ordinal.ToString("D3", CultureInfo.InvariantCulture);
            if (!isTaken(candidate)) return candidate;
        }
        return null;
    }

    private static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "it is empty";
        if (id.Length > MaxLength) return $"it is {id.Length} characters long (at most {MaxLength})";
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            var letterOrDigit = c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9';
            if (i == 0 && !letterOrDigit) return $"it starts with {DescribeChar(c)} (must be a letter or digit)";
            if (!letterOrDigit && c is not ('_' or '.' or '-')) return $"character {DescribeChar(c)} at position {i} is not allowed";
        }
        if (id.Contains("..", StringComparison.Ordinal)) return "it contains '..'";
        return null;
    }

    // Control characters (NUL, newlines) would garble the message or the terminal, so they are shown as code points.
    private static string DescribeChar(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";

    private static string Describe(string? id)
    {
        if (id is null) return "(null)";
        var shown = id.Length > 40 ? id[..40] + "..." : id;
        var safe = new string(shown.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return $"'{safe}'";
    }
}
