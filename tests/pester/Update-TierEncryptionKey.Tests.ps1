BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # A workspace made with -Encrypt whose policy (rewritten by New-TestWorkspace's layout) keeps the encryption section.
    function New-EncryptedWorkspace {
        param([string] $Name)
        $ws = New-TestWorkspace -Name $Name
        Add-Content -Path (Join-Path $ws 'tierstorage.yaml') -Value "encryption:`n  enabled: true`n  chunk_size: 64KB"
        # On an existing workspace -Encrypt adds the key and keeps the policy.
        $key = Initialize-TierWorkspace -Path $ws -Encrypt -Confirm:$false -WarningAction SilentlyContinue
        $key.GetType().Name | Should -Be 'EncryptionKeyInfo'
        $key.PolicyUpdated | Should -BeFalse
        $ws
    }
}

Describe 'Initialize-TierWorkspace -Encrypt' {
    It 'writes a private key file, turns encryption on in a new policy and warns to keep a copy' {
        $path = Join-Path $TestDrive 'fresh'
        $output = Initialize-TierWorkspace -Path $path -Encrypt -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $output[0].GetType().Name | Should -Be 'WorkspaceInfo'
        $key = $output[1]
        $key.GetType().Name | Should -Be 'EncryptionKeyInfo'
        $key.KeyFile | Should -Be (Join-Path $path 'credentials/tier_encryption.key')
        $key.KeyId | Should -Match '^[0-9a-f]{16}$'
        $key.PolicyUpdated | Should -BeTrue
        (Get-TierPolicy -WorkspacePath $path).Encryption.Enabled | Should -BeTrue
        $warnings | Should -Match 'Keep a copy'
        if (-not $IsWindows) { (Get-Item $key.KeyFile).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite') }
        ($key | Format-Table | Out-String) | Should -Match 'KeyId'
    }

    It 'never replaces an existing key file' {
        $path = Join-Path $TestDrive 'twice'
        Initialize-TierWorkspace -Path $path -Encrypt -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        $before = Get-Content (Join-Path $path 'credentials/tier_encryption.key') -Raw
        { Initialize-TierWorkspace -Path $path -Encrypt -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'FileExists,TierStorage.PowerShell.Commands.InitializeTierWorkspaceCommand'
        Get-Content (Join-Path $path 'credentials/tier_encryption.key') -Raw | Should -Be $before
    }
}

Describe 'Update-TierEncryptionKey' {
    It 'is exported with SupportsShouldProcess and a High impact' {
        $command = Get-Command Update-TierEncryptionKey
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $command.Parameters.Keys | Should -Contain 'NewPassphraseVariable'
        $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false).ConfirmImpact | Should -Be 'High'
        $command.OutputType.Name | Should -Contain 'TierStorage.Contracts.KeyRotationResult'
    }

    It 're-wraps the data keys without touching the encrypted data, and the old key stops working' {
        $ws = New-EncryptedWorkspace -Name 'rotate'
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        (Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false).Status | Should -Be 'Succeeded'
        $tier = "$ws-backup"
        Get-ChildItem $tier -Recurse -File | Where-Object { $_.FullName -match 'session_2026|Phase_1_' } | Should -BeNullOrEmpty
        $data = Get-ChildItem $tier -Recurse -File -Filter '*.bin' | Get-FileHash -Algorithm MD5
        $keyFile = Join-Path $ws 'credentials/tier_encryption.key'
        $oldKey = Get-Content $keyFile -Raw

        Update-TierEncryptionKey -WorkspacePath $ws -WhatIf | Should -BeNullOrEmpty
        Get-Content $keyFile -Raw | Should -Be $oldKey

        $result = Update-TierEncryptionKey -WorkspacePath $ws -Confirm:$false
        $result.Tier | Should -Be 'backup'
        $result.ObjectsRewrapped | Should -BeGreaterThan 0
        $result.NewKeyId | Should -Not -Be $result.OldKeyId
        (Get-ChildItem $tier -Recurse -File -Filter '*.bin' | Get-FileHash -Algorithm MD5).Hash | Should -Be $data.Hash
        (Test-Backup -WorkspacePath $ws -ReadData).Status | Should -Be 'Ok'

        Set-Content -Path $keyFile -Value $oldKey -NoNewline
        { Test-Backup -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'EncryptionKeyMismatch,TierStorage.PowerShell.Commands.TestBackupCommand'
    }

    It 'says clearly when the key file is gone' {
        $ws = New-EncryptedWorkspace -Name 'lost'
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        Remove-Item (Join-Path $ws 'credentials/tier_encryption.key')
        { Update-TierEncryptionKey -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'EncryptionKeyNotFound,TierStorage.PowerShell.Commands.UpdateTierEncryptionKeyCommand'
        { Restore-Session -SessionId 'session_20260101_090000' -Destination (Join-Path $TestDrive 'r') -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'EncryptionKeyNotFound,TierStorage.PowerShell.Commands.RestoreSessionCommand'
    }

    It 'leaves Test-Backup -CiphertextOnly able to verify the tier without the key' {
        $ws = New-EncryptedWorkspace -Name 'nokey'
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        Remove-Item (Join-Path $ws 'credentials/tier_encryption.key')
        $checks = Test-Backup -WorkspacePath $ws -CiphertextOnly -ReadData
        $checks.Count | Should -BeGreaterThan 3
        $checks.Status | Sort-Object -Unique | Should -Be 'Ok'
        $checks.Key | Should -Match '^(Phase_1|workspace)/[0-9a-f]{40}\.bin$'
    }

    It 'refuses a policy that encrypts nothing' {
        $ws = New-TestWorkspace -Name 'plain'
        { Update-TierEncryptionKey -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidArgument,TierStorage.PowerShell.Commands.UpdateTierEncryptionKeyCommand'
    }
}
