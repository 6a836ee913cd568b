@{
    RootModule           = 'TierStorage.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '3f6b2a8e-9c41-4d7a-b5e2-6a1f0c9d8e47'
    Author               = 'TierStorage'
    CompanyName          = 'TierStorage'
    Copyright            = '(c) TierStorage. All rights reserved.'
    Description          = 'Keeps AI coding-agent session data (activity logs, snapshots, analytics, handoffs) in three storage tiers: local disk, a backup tier and an archive, moved between them by YAML lifecycle policies.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'

    # Loaded into the default context so scripts can name its types ([TierStorage.Contracts.SessionState]::Completed).
    RequiredAssemblies   = @('TierStorage.Contracts.dll')
    FormatsToProcess     = @('TierStorage.format.ps1xml')

    CmdletsToExport      = @(
        'Initialize-TierWorkspace'
        'Get-TierPolicy'
        'Test-TierPolicy'
        'Start-Session'
        'Complete-Session'
        'Get-Session'
        'Add-SessionEvent'
        'Get-SessionEvent'
        'Save-SessionSnapshot'
        'Get-SessionSnapshot'
        'Backup-Session'
        'Sync-BackupQueue'
        'Backup-Collection'
        'Get-CollectionVersion'
        'Compare-CollectionVersion'
        'Restore-Collection'
        'Get-CollectionUsage'
        'Restore-Session'
        'Test-Backup'
        'Test-TierConnection'
        'Update-TierCatalog'
        'Copy-TierCatalog'
        'Test-TierCatalog'
        'Connect-TierDrive'
        'Disconnect-TierDrive'
        'Get-TierUsage'
        'Get-TierAlert'
        'Send-TierAlert'
        'Move-DataTier'
        'Invoke-TierPolicy'
        'Restore-Phase'
        'Start-Phase'
        'Get-Phase'
        'Invoke-PhaseReview'
        'Import-ClaudeSession'
        'Update-TierEncryptionKey'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()

    PrivateData          = @{
        PSData = @{
            Tags = @('AI', 'Agents', 'Sessions', 'Storage', 'Backup', 'Archive', 'SQLite', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
        }
    }
}
