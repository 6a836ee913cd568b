BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Connect-TierDrive' {
    It 'says clearly when the policy has no google-drive tier' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        { Connect-TierDrive -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TierNotFound,TierStorage.PowerShell.Commands.ConnectTierDriveCommand'
    }
}
