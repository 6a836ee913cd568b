using System.Text;
using System.Text.RegularExpressions;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Backup;

/// <summary>Where sessions live on a backup tier: &lt;root&gt;/Phase_&lt;n&gt;_&lt;name&gt;/sessions/&lt;session&gt;/ (ARCHITECTURE.md).</summary>
public static partial class BackupLayout
{
    public const string ManifestName = "manifest.json";

    /// <summary>Phase_1_setup, or Phase_1 for a phase without a name. Characters that are unsafe in Drive, Windows or S3
    /// names become '_', so the folder name is the same on every tier.</summary>
    public static string PhaseFolder(int phase, string? name)
    {
        var folder = new StringBuilder("Phase_").Append(phase);
        if (!string.IsNullOrWhiteSpace(name)) folder.Append('_').Append(UnsafeCharacters().Replace(name.Trim(), "_"));
        return folder.ToString();
    }

    /// <summary>The session folder's key prefix, ending in '/'.</summary>
    public static string SessionPrefix(int phase, string? phaseName, string sessionId) =>
        $"{PhaseFolder(phase, phaseName)}/sessions/{sessionId}/";

    /// <summary>The session a key belongs to, when it lies in a session folder.</summary>
    public static string? SessionOf(string key)
    {
        var match = SessionKey().Match(key);
        return match.Success && SessionIds.IsValid(match.Groups["session"].Value) ? match.Groups["session"].Value : null;
    }

    /// <summary>True for the manifest of a session folder.</summary>
    public static bool IsSessionManifest(string key) =>
        key.EndsWith("/" + ManifestName, StringComparison.Ordinal) && SessionOf(key) is not null;

    /// <summary>Files the workspace itself keeps on its backup tier beside the sessions: current_phase.json at the root and
    /// each phase's review (phase_insights.md/.html, phase_metadata.json, phase_analytics.db). Written by Start-Phase and
    /// Invoke-PhaseReview, so never orphans to Test-Backup.</summary>
    public static bool IsWorkspaceFile(string key) => key == "current_phase.json" || PhaseReviewFile().IsMatch(key);

    [GeneratedRegex(@"^Phase_[^/]+/phase_(insights\.md|insights\.html|metadata\.json|analytics\.db)$")]
    private static partial Regex PhaseReviewFile();

    [GeneratedRegex(@"[^A-Za-z0-9._\-]+")]
    private static partial Regex UnsafeCharacters();

    [GeneratedRegex(@"^Phase_[^/]+/sessions/(?<session>[A-Za-z0-9][A-Za-z0-9_.\-]*)/[^/]+$")]
    private static partial Regex SessionKey();
}
