using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Tiers;

namespace TierStorage.PowerShell.Commands;

/// <summary>Restores a session from the tier that holds it, verified against its manifest.</summary>
/// <remarks>
/// <para>Restore-Session downloads the session from the tier the catalog shows holding it (or -Tier), verifies MD5 and SHA-256 against its manifest and unpacks it into the workspace, or with -Destination into another directory, never outside it.</para>
/// <para>With -Destination, one session is unpacked straight into it, and several sessions (piped in) each into &lt;Destination&gt;/&lt;session id&gt;, as Restore-Phase lays them out, since their files have the same names: the sessions are gathered first and restored when the input ends.</para>
/// <para>A session in a cold archive is priced (Standard about 12 h, Bulk about 48 h and cheaper), the thaw is requested once and the result says when to come back; -Wait polls and restores.</para>
/// </remarks>
/// <example>
/// <code>Restore-Session session_20260101_090000 -Destination ./restored</code>
/// <para>Restores one session as plain files into ./restored.</para>
/// </example>
/// <example>
/// <code>Get-Session -Phase 1 | Restore-Session -Force</code>
/// <para>Restores every session of phase 1 into the workspace, replacing local files.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "Session", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RestoreResult))]
public sealed class RestoreSessionCommand : WorkspaceCmdlet
{
    public const string ByIdSet = "ById";
    public const string InputObjectSet = "InputObject";
    private const int ActivityId = 33;

    /// <summary>Session to restore; binds SessionId from Get-Session output.</summary>
    [Parameter(ParameterSetName = ByIdSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Sessions to restore, as SessionInfo objects from Get-Session.</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public SessionInfo? InputObject { get; set; }

    /// <summary>Tier to restore from; default the tier the catalog (or the tiers' manifests) show holding it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    /// <summary>Restore as plain files into this directory; the workspace and its catalog are left alone.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Replace the session's local files when they exist.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>For a session in a cold archive: Standard (about 12 h) or Bulk (about 48 h, cheaper).</summary>
    /// <value>Standard</value>
    [Parameter]
    public ArchiveRetrievalTier Retrieval { get; set; } = ArchiveRetrievalTier.Standard;

    /// <summary>For a session in a cold archive: wait for the thaw, polling, and restore.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    // With -Destination, the session ids in input order (once each): the layout depends on how many there are.
    private readonly List<string> _pending = [];

    protected override void ProcessRecord()
    {
        var sessionId = ParameterSetName == InputObjectSet ? InputObject!.SessionId : SessionId!;
        if (Destination is null)
        {
            Restore(sessionId, null);
        }
        else if (!_pending.Contains(sessionId, StringComparer.Ordinal))
        {
            _pending.Add(sessionId);
        }
    }

    protected override void EndProcessing()
    {
        if (_pending.Count > 0)
        {
            var destination = ResolvePath(Destination)!;
            foreach (var sessionId in _pending)
            {
                Restore(sessionId, _pending.Count == 1 ? destination : System.IO.Path.Combine(destination, sessionId));
            }
        }

        base.EndProcessing();
    }

    private void Restore(string sessionId, string? destination)
    {
        if (!ShouldProcess(sessionId, $"Restore into '{destination ?? "the workspace"}'"))
        {
            return;
        }

        var progress = BackupProgressBar(ActivityId, "Restoring");
        ProcessItem(sessionId, () => WriteObject(Await(Workspace.Backups.RestoreAsync(
            new RestoreRequest { SessionId = sessionId, Tier = Tier, Destination = destination, Force = Force, Retrieval = Retrieval, Wait = Wait }, progress, CancellationToken))));
        CompleteProgress(ActivityId, "Restore-Session");
    }
}
