namespace TierStorage.Engine.Catalog;

/// <summary>
/// Who records a row in a catalog that many machines share: the machine (TIERSTORAGE_MACHINE, else the host name) and the
/// user (TIERSTORAGE_USER, else the login name). The variables let a container, a CI runner or a test name itself; each
/// is bounded and reduced to printable characters, since it ends up in tables and output.
/// </summary>
public sealed record CatalogOrigin(string Machine, string User)
{
    public const string MachineVariable = "TIERSTORAGE_MACHINE";
    public const string UserVariable = "TIERSTORAGE_USER";
    private const int MaxLength = 128;

    /// <summary>This process's origin, read from the environment each time it is asked.</summary>
    public static CatalogOrigin Current => new(
        Clean(Environment.GetEnvironmentVariable(MachineVariable)) ?? Clean(Environment.MachineName) ?? "unknown",
        Clean(Environment.GetEnvironmentVariable(UserVariable)) ?? Clean(Environment.UserName) ?? "unknown");

    private static string? Clean(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var text = new string(value.Trim().Where(c => !char.IsControl(c)).Take(MaxLength).ToArray());
        return text.Length == 0 ? null : text;
    }
}
