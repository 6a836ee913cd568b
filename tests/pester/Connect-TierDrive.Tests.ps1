BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Connect-TierDrive and Disconnect-TierDrive' {
    It 'say clearly when the policy has no google-drive tier' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        { Connect-TierDrive -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TierNotFound,TierStorage.PowerShell.Commands.ConnectTierDriveCommand'
        { Disconnect-TierDrive -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TierNotFound,TierStorage.PowerShell.Commands.DisconnectTierDriveCommand'
    }
}
