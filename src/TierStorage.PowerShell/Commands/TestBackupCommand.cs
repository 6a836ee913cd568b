using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;

namespace TierStorage.PowerShell.Commands;

/// <summary>Checks that the backup tier holds what the catalog says it holds.</summary>
/// <remarks>
/// <para>Test-Backup compares the catalog with the objects on the tier and writes one BackupCheck per object: Ok, Missing, Corrupt, Orphan or Unverified. By default it trusts the checksums the tier reports; -ReadData downloads and hashes the data again (all of it, or -Sample percent); on an encrypted tier it decrypts, so each chunk's tag and the plaintext checksums are checked. -CiphertextOnly checks an encrypted tier without its key: each encrypted object against the size, MD5 and (with -ReadData) SHA-256 its envelope records, named by its tier key.</para>
/// <para>Pipe the findings into Backup-Session to mend what is missing or damaged.</para>
/// </remarks>
/// <example>
/// <code>Test-Backup -ReadData -Sample 10 | Where-Object Status -ne Ok | Backup-Session</code>
/// <para>Re-reads a 10% sample of the backups and backs up again every session with a problem.</para>
/// </example>
/// <example>
/// <code>Test-Backup -SessionId session_20260101_090000</code>
/// <para>Checks the backup of one session.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "Backup")]
[OutputType(typeof(BackupCheck))]
public sealed class TestBackupCommand : WorkspaceCmdlet
{
    /// <summary>Tier to check; default the policy's level-2 tier.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.TierNameCompleter))]
    public string? Tier { get; set; }

    /// <summary>Only the objects of this session.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.SessionIdCompleter))]
    public string? SessionId { get; set; }

    /// <summary>Download and re-hash the data instead of trusting the tier's checksums.</summary>
    [Parameter]
    public SwitchParameter ReadData { get; set; }

    /// <summary>With -ReadData: the percentage of objects to read.</summary>
    /// <value>100</value>
    [Parameter]
    [ValidateRange(1, 100)]
    public int Sample { get; set; } = 100;

    /// <summary>Encrypted tiers: check the encrypted objects against their envelopes without the key (with -ReadData, their SHA-256 too); objects are named by their tier keys.</summary>
    [Parameter]
    public SwitchParameter CiphertextOnly { get; set; }

    protected override void ProcessRecord() =>
        ProcessItem(SessionId ?? Tier, () => WriteStream(Workspace.Backups.CheckAsync(
            new BackupCheckRequest { Tier = Tier, SessionId = SessionId, ReadData = ReadData, SamplePercent = Sample, CiphertextOnly = CiphertextOnly }, CancellationToken)));
}
