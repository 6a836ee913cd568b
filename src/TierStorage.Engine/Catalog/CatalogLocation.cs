using Npgsql;
using TierStorage.Contracts;

namespace TierStorage.Engine.Catalog;

/// <summary>Which database engine holds a catalog.</summary>
public enum CatalogProviderKind
{
    /// <summary>The workspace's own analytics/agent_metrics.db (the default; nothing to set up).</summary>
    Sqlite,
    /// <summary>A PostgreSQL database shared by every machine of a team.</summary>
    Postgres,
}

/// <summary>
/// Where a catalog is: an SQLite file, or a PostgreSQL database named by an Npgsql connection string that never holds
/// the password (invariant 4). The password comes from the environment variable <see cref="PasswordEnv"/>, else from
/// what Npgsql itself reads: PGPASSWORD, or the user's password file (~/.pgpass, %APPDATA%\postgresql\pgpass.conf,
/// or the one PGPASSFILE names).
/// </summary>
public sealed record CatalogLocation
{
    /// <summary>Connection-string keys that carry a secret: refused in the policy and on the command line.</summary>
    private static readonly string[] SecretKeys = ["password", "pwd", "passfile"];

    public CatalogProviderKind Provider { get; init; }
    /// <summary>SQLite: the full path of the file. PostgreSQL: the connection string, without a password.</summary>
    public string Target { get; init; } = "";
    /// <summary>PostgreSQL: the environment variable holding the password; null to let Npgsql find it.</summary>
    public string? PasswordEnv { get; init; }

    public static CatalogLocation Sqlite(string path) =>
        new() { Provider = CatalogProviderKind.Sqlite, Target = Path.GetFullPath(path) };

    /// <summary>ErrorIds.InvalidArgument when the string does not parse or holds a password.</summary>
    public static CatalogLocation Postgres(string connectionString, string? passwordEnv = null)
    {
        ThrowIfInvalidPostgres(connectionString);
        return new() { Provider = CatalogProviderKind.Postgres, Target = connectionString, PasswordEnv = passwordEnv };
    }

    /// <summary>A target as a user types it: a connection string (it has '=') is PostgreSQL, anything else an SQLite file path.</summary>
    public static CatalogLocation Parse(string text, string? passwordEnv = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        return LooksLikeConnectionString(text) ? Postgres(text, passwordEnv) : Sqlite(text);
    }

    public static bool LooksLikeConnectionString(string text) =>
        text.Contains('=', StringComparison.Ordinal) && !File.Exists(text);

    /// <summary>The message saying why <paramref name="connectionString"/> is not usable, or null when it is.
    /// Never echoes the string (it may hold a password).</summary>
    public static string? Problem(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            return $"it is not an Npgsql connection string ({ex.Message.Split('\'')[0].Trim()}); write it as Host=...;Port=5432;Database=...;Username=...";
        }
        foreach (var key in SecretKeys)
        {
            if (builder.ContainsKey(key) && builder[key] is { } value && value.ToString()!.Length > 0)
                return $"it holds a {key}, which never goes in a policy or on a command line: name an environment variable with password_env (-PasswordEnv), or put it in your ~/.pgpass";
        }
        if (string.IsNullOrWhiteSpace(builder.Host)) return "it names no Host";
        if (string.IsNullOrWhiteSpace(builder.Database)) return "it names no Database";
        return null;
    }

    private static void ThrowIfInvalidPostgres(string connectionString)
    {
        if (Problem(connectionString) is { } problem)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"The PostgreSQL catalog connection is not usable: {problem}.");
    }

    /// <summary>The full connection string to open with: the password from <see cref="PasswordEnv"/> added, the
    /// application name set, keepalives on (a dead machine's advisory locks are freed within a minute).
    /// ErrorIds.InvalidArgument when the variable is named but empty.</summary>
    internal string OpenString()
    {
        if (Provider != CatalogProviderKind.Postgres) throw new InvalidOperationException("Only a PostgreSQL catalog has a connection string.");
        var builder = new NpgsqlConnectionStringBuilder(Target);
        if (PasswordEnv is { Length: > 0 } variable)
        {
            var password = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(password))
            {
                throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument,
                    $"The environment variable {variable} (password_env of the PostgreSQL catalog) is not set. Set it to the password of {builder.Username ?? "the catalog's user"} on {builder.Host}, then run the command again.");
            }
            builder.Password = password;
        }
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "tierstorage";
        if (builder.KeepAlive == 0) builder.KeepAlive = 30;
        return builder.ConnectionString;
    }

    /// <summary>For messages and output: the file, or user@host:port/database (no password, no other options).</summary>
    public string Describe()
    {
        if (Provider == CatalogProviderKind.Sqlite) return Target;
        var builder = new NpgsqlConnectionStringBuilder(Target);
        var user = string.IsNullOrEmpty(builder.Username) ? "" : builder.Username + "@";
        return $"postgres://{user}{builder.Host}:{builder.Port}/{builder.Database}";
    }

    public override string ToString() => Describe();
}
