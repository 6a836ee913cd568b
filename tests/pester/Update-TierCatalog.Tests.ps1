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

    It 'after the whole workspace was lost, names the namespace the tier holds and -Namespace brings its sessions back' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        $lost = (Get-Content -Raw "$ws/workspace.json" | ConvertFrom-Json).namespace
        $policy = Get-Content -Raw "$ws/tierstorage.yaml"
        Remove-Item -Recurse -Force $ws
        Initialize-TierWorkspace -Path $ws -Confirm:$false | Out-Null
        $policy | Set-Content "$ws/tierstorage.yaml"

        Update-TierCatalog -FromTier backup -WorkspacePath $ws -Confirm:$false -WarningVariable told -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        "$told" | Should -Match ([regex]::Escape($lost))
        $rebuilt = Update-TierCatalog -FromTier backup -Namespace $lost -WorkspacePath $ws -Confirm:$false
        $rebuilt.SessionId | Should -Be 'session_20260101_090000'
        (Test-Backup -WorkspacePath $ws).Status | Should -Be 'Ok'
        { Update-TierCatalog -FromTier backup -Namespace 'not-there-00000000' -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ObjectNotFound,TierStorage.PowerShell.Commands.UpdateTierCatalogCommand'
    }
}
