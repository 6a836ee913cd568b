using TierStorage.Contracts;

namespace TierStorage.Cli;

/// <summary>The process exit codes of <c>tierstorage</c>; scripts rely on them, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The operation failed (including some lines of a bulk input, or a policy with error findings).</summary>
    public const int Failed = 1;
    /// <summary>Bad command line: unknown command or option, a value that does not parse, options that exclude each other.</summary>
    public const int Usage = 2;
    /// <summary>Workspace, session, policy file or snapshot not found.</summary>
    public const int NotFound = 3;
    /// <summary>Invalid policy or data (events, snapshots, catalog).</summary>
    public const int InvalidData = 4;
    /// <summary>Unavailable, permission denied, disk full or another I/O failure.</summary>
    public const int Unavailable = 5;
    /// <summary>Cancelled with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;

    /// <summary>The block appended to <c>--help</c>; kept next to the constants so the two cannot drift.</summary>
    public const string HelpText =
        "Exit codes: 0 ok, 1 operation failed, 2 usage or invalid argument, 3 not found, " +
        "4 invalid policy or data, 5 unavailable/permission/disk, 130 cancelled.";

    public static int FromErrorKind(TierErrorKind kind) => kind switch
    {
        TierErrorKind.InvalidArgument => Usage,
        TierErrorKind.ObjectNotFound => NotFound,
        TierErrorKind.InvalidData => InvalidData,
        TierErrorKind.ResourceUnavailable or TierErrorKind.PermissionDenied or TierErrorKind.WriteError
            or TierErrorKind.ReadError or TierErrorKind.ConnectionError => Unavailable,
        TierErrorKind.OperationStopped => Cancelled,
        _ => Failed,
    };
}
