BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

# No network here: with no client secrets file the token cannot be revoked, and Disconnect-TierDrive must still forget it.
Describe 'Disconnect-TierDrive' {
    BeforeEach {
        $script:ws = Join-Path $TestDrive ([guid]::NewGuid())
        Initialize-TierWorkspace -Path $ws -Confirm:$false | Out-Null
        @'
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
  - name: drive
    level: 2
    kind: google-drive
    root_folder: TierStorage
    price_per_gb_month: 0
'@ | Set-Content (Join-Path $ws 'tierstorage.yaml')
    }

    It 'says clearly when the policy has no google-drive tier' {
        $plain = New-TestWorkspace -Name ([guid]::NewGuid())
        { Disconnect-TierDrive -WorkspacePath $plain -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TierNotFound,TierStorage.PowerShell.Commands.DisconnectTierDriveCommand'
    }

    It 'deletes the stored token even when it cannot be revoked, and never prints it' {
        $first = Disconnect-TierDrive -WorkspacePath $ws -Confirm:$false
        $first.Connected | Should -BeFalse
        $first.TokenFile | Should -BeLike (Join-Path $ws 'credentials*')
        New-Item -ItemType Directory -Force -Path (Split-Path $first.TokenFile) | Out-Null
        '{"access_token":"ya29.secret-access","refresh_token":"1//secret-refresh-token-0123456789","token_type":"Bearer"}' |
            Set-Content $first.TokenFile

        $result = Disconnect-TierDrive drive -WorkspacePath $ws -Confirm:$false

        $result.Tier | Should -Be 'drive'
        $result.Revoked | Should -BeFalse -Because 'there is no client secrets file to revoke with'
        $first.TokenFile | Should -Not -Exist
        ($result | Format-List * | Out-String) | Should -Not -Match 'secret-access|secret-refresh'
    }

    It '-WhatIf keeps the token' {
        $token = (Disconnect-TierDrive -WorkspacePath $ws -Confirm:$false).TokenFile
        New-Item -ItemType Directory -Force -Path (Split-Path $token) | Out-Null
        '{"access_token":"ya29.x","token_type":"Bearer"}' | Set-Content $token
        Disconnect-TierDrive -WorkspacePath $ws -WhatIf
        $token | Should -Exist
    }
}
