using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;

namespace TierStorage.PowerShell.Commands;

/// <summary>Compares the catalog with what the tier holds: Ok, Missing, Corrupt, Orphan, Unverified. Pipe the findings into
/// Backup-Session to mend what is missing.</summary>
[Cmdlet(VerbsDiagnostic.Test, "Backup")]
[OutputType(typeof(BackupCheck))]
public sealed class TestBackupCommand : WorkspaceCmdlet
{
    /// <summary>Tier to check; default the policy's level-2 tier.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Tier { get; set; }

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SessionId { get; set; }

    /// <summary>Download and re-hash the data instead of trusting the tier's checksums.</summary>
    [Parameter]
    public SwitchParameter ReadData { get; set; }

    /// <summary>With -ReadData: the percentage of objects to read.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int Sample { get; set; } = 100;

    protected override void ProcessRecord() =>
        ProcessItem(SessionId ?? Tier, () => WriteStream(Workspace.Backups.CheckAsync(
            new BackupCheckRequest { Tier = Tier, SessionId = SessionId, ReadData = ReadData, SamplePercent = Sample }, CancellationToken)));
}
