BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Update-TierCatalog' {
    It 'rebuilds the catalog from the tier after the analytics database is lost' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        Remove-Item (Join-Path $ws 'analytics/*') -Force
        $rebuilt = Update-TierCatalog -FromTier backup -WorkspacePath $ws -Confirm:$false
        $rebuilt.SessionId | Should -Be 'session_20260101_090000'
        $rebuilt.Action | Should -Be 'Added'
    }
}
