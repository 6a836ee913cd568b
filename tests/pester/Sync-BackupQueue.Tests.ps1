BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Sync-BackupQueue' {
    It 'drains what was queued while the tier was unreachable' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Rename-Item -Path "$ws-backup" -NewName 'unplugged'
        $policy = Join-Path $ws 'tierstorage.yaml'
        (Get-Content $policy -Raw) -replace [regex]::Escape("$ws-backup"), "$ws-backup/missing/share" | Set-Content $policy
        (Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false).Status | Should -Be 'Queued'
        New-Item -ItemType Directory -Path "$ws-backup/missing" -Force | Out-Null
        $drained = Sync-BackupQueue -WorkspacePath $ws -Confirm:$false
        $drained.SessionId | Should -Be 'session_20260101_090000'
        $drained.Status | Should -Be 'Succeeded'
    }
}
