using System.Text.RegularExpressions;

namespace TierStorage.Engine.Policy;

/// <summary>Turns the paths written in a policy into absolute paths: environment variables, a leading ~,
/// TIERSTORAGE_DATA and paths relative to the policy file.</summary>
public static partial class PathExpander
{
    public const string DataVariable = "TIERSTORAGE_DATA";

    /// <summary>The per-user data directory: $TIERSTORAGE_DATA when set, otherwise
    /// %LOCALAPPDATA%\TierStorage on Windows and ~/.local/share/TierStorage on Linux and macOS.</summary>
    public static string DataDirectory
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(DataVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
            var localAppData = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            // A service account or a stripped container can have no LocalApplicationData; the home directory is the safest fallback.
            if (string.IsNullOrEmpty(localAppData))
                localAppData = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(localAppData, "TierStorage");
        }
    }

    /// <summary>Expands ${VAR}, %VAR%, a leading ~ and TIERSTORAGE_DATA, then makes the result absolute against
    /// <paramref name="baseDirectory"/> (the policy file's directory). Unset variables are left as written.</summary>
    public static string Expand(string path, string baseDirectory) => Expand(path, baseDirectory, unsetVariables: null);

    /// <summary>As <see cref="Expand(string, string)"/>, collecting the names of variables that are not set so the
    /// loader can report them instead of creating a directory literally named ${FOO}.</summary>
    internal static string Expand(string path, string baseDirectory, ICollection<string>? unsetVariables)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(baseDirectory);

        string Lookup(Match match)
        {
            var name = match.Groups["name"].Value;
            var value = string.Equals(name, DataVariable, StringComparison.OrdinalIgnoreCase)
                ? DataDirectory
                : Environment.GetEnvironmentVariable(name);
            if (value is not null) return value;
            unsetVariables?.Add(name);
            return match.Value;
        }

        // Most paths name no variable; skipping the regex then spares a short-lived process (a hook call) its start-up.
        var expanded = path.AsSpan().IndexOfAny('$', '%') < 0 ? path : VariablePattern().Replace(path, Lookup);
        if (expanded == "~" || expanded.StartsWith("~/", StringComparison.Ordinal) || expanded.StartsWith("~\\", StringComparison.Ordinal))
            expanded = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + expanded[1..];
        return Path.GetFullPath(Path.IsPathRooted(expanded) ? expanded : Path.Combine(baseDirectory, expanded));
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}|%(?<name>[A-Za-z_][A-Za-z0-9_]*)%", RegexOptions.CultureInvariant)]
    private static partial Regex VariablePattern();
}
