using System.Diagnostics;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers.GoogleDrive;

namespace TierStorage.Engine.Backup;

public sealed partial class BackupOperations
{
    /// <summary>Connect-TierDrive: the installed-app OAuth flow for a google-drive tier (the named one, else the policy's
    /// first), scope drive.file only; the token is stored under credentials/. <paramref name="openBrowser"/> gets the
    /// authorization URL (default: the system browser) and must return at once.</summary>
    public async Task<DriveAuthorizationInfo> ConnectDriveAsync(string? tierName, Func<Uri, bool>? openBrowser, CancellationToken cancellationToken)
    {
        var tier = ResolveDriveTier(tierName);
        var credentials = _workspace.Layout.CredentialsDirectory;
        var connection = await DriveAuthorization.ConnectAsync(credentials, DriveAuthorization.ClientSecretsPath(tier, credentials),
            DriveEndpoints.FromTier(tier), openBrowser ?? OpenSystemBrowser, cancellationToken).ConfigureAwait(false);
        return new DriveAuthorizationInfo { Tier = tier.Name, Account = connection.Account, Scope = connection.Scope, TokenFile = connection.TokenFile, Connected = true };
    }

    /// <summary>Disconnect-TierDrive: revokes the token where the server can be reached and deletes it in every case.</summary>
    public async Task<DriveAuthorizationInfo> DisconnectDriveAsync(string? tierName, CancellationToken cancellationToken)
    {
        var tier = ResolveDriveTier(tierName);
        var credentials = _workspace.Layout.CredentialsDirectory;
        var result = await DriveAuthorization.DisconnectAsync(credentials, DriveAuthorization.ClientSecretsPath(tier, credentials),
            DriveEndpoints.FromTier(tier), cancellationToken).ConfigureAwait(false);
        return new DriveAuthorizationInfo { Tier = tier.Name, Scope = DriveAuthorization.Scope, TokenFile = result.TokenFile, Connected = false, Revoked = result.Revoked };
    }

    private TierDefinition ResolveDriveTier(string? tierName)
    {
        var tier = tierName is null ? _workspace.Policy.Tiers.FirstOrDefault(t => t.Kind == TierKind.GoogleDrive) : ResolveTier(tierName);
        if (tier is null || tier.Kind != TierKind.GoogleDrive)
            throw new TierStorageException(ErrorIds.TierNotFound, TierErrorKind.ObjectNotFound,
                tierName is null ? $"The policy '{_workspace.Policy.Source}' has no google-drive tier." : $"Tier '{tierName}' is not a google-drive tier.",
                tierName);
        return tier;
    }

    /// <summary>Starts the user's browser on the URL; false when none could be started (the front then shows the URL).</summary>
    public static bool OpenSystemBrowser(Uri url)
    {
        try
        {
            var start = OperatingSystem.IsWindows() ? new ProcessStartInfo(url.AbsoluteUri) { UseShellExecute = true }
                : OperatingSystem.IsMacOS() ? new ProcessStartInfo("open", url.AbsoluteUri)
                : new ProcessStartInfo("xdg-open", url.AbsoluteUri);
            using var process = Process.Start(start);
            return process is not null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }
}
