using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;

namespace TierStorage.PowerShell.Commands;

/// <summary>Rotates the key-encryption key of the encrypted tiers without re-uploading any data.</summary>
/// <remarks>
/// <para>Update-TierEncryptionKey re-wraps the data key of every object on each tier the policy's encryption section covers (and each tier's name key) under a new key-encryption key, and writes a KeyRotationResult per tier. The encrypted data itself is not read, changed or sent again, so a rotation costs one small write per object.</para>
/// <para>With a key file (key_source: key_file), the new random key is written beside the old one as credentials/tier_encryption.key.next and replaces it once every tier is done: a rotation cut off by an unreachable tier leaves the data readable and is finished by running the cmdlet again. With a passphrase (key_source: passphrase), -NewPassphraseVariable names the environment variable holding the new passphrase; afterwards set the policy's variable to it. Either way the old key no longer opens the tiers: back up the new key file.</para>
/// </remarks>
/// <example>
/// <code>Update-TierEncryptionKey -WhatIf</code>
/// <para>Names the tiers whose data keys would be re-wrapped.</para>
/// </example>
/// <example>
/// <code>Update-TierEncryptionKey -Confirm:$false</code>
/// <para>Rotates the key file of the workspace and re-wraps every tier's data keys under it.</para>
/// </example>
/// <example>
/// <code>$env:TIERSTORAGE_NEW_PASSPHRASE = Read-Host -MaskInput; Update-TierEncryptionKey -NewPassphraseVariable TIERSTORAGE_NEW_PASSPHRASE</code>
/// <para>Moves a passphrase policy to a new passphrase.</para>
/// </example>
[Cmdlet(VerbsData.Update, "TierEncryptionKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KeyRotationResult))]
public sealed class UpdateTierEncryptionKeyCommand : WorkspaceCmdlet
{
    /// <summary>Passphrase policies: the environment variable holding the new passphrase (never the passphrase itself).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewPassphraseVariable { get; set; }

    protected override void ProcessRecord()
    {
        var request = new KeyRotationRequest { NewPassphraseVariable = NewPassphraseVariable };
        var tiers = RunTerminating("encryption key", () => Workspace.Encryption.PlanRotation(request));
        // One decision for all tiers: a key file replaced after only some of them were re-wrapped would lock the others out.
        var target = $"encryption key of tier{(tiers.Count == 1 ? "" : "s")} {string.Join(", ", tiers.Select(t => $"'{t.Name}'"))}";
        if (!ShouldProcess(target, "Re-wrap every data key under a new key (the old key stops working)"))
        {
            return;
        }

        ProcessItem(target, () => WriteStream(Workspace.Encryption.RotateAsync(request, CancellationToken)));
    }
}
