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

    It 'rebuilds a deleted catalog from the local logs without a tier, and Get-SessionEvent sees the events again' {
        # Issue 11 #7: a deleted catalog read as "no sessions" while the logs sat in logs/.
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_100000' | Out-Null
        $before = (Get-SessionEvent -SessionId 'session_20260101_100000' -WorkspacePath $ws).Count
        Remove-Item (Join-Path $ws 'analytics/agent_metrics.db*') -Force
        Get-Session -WorkspacePath $ws -WarningAction SilentlyContinue | Should -BeNullOrEmpty

        $rebuilt = Update-TierCatalog -WorkspacePath $ws -Confirm:$false

        $rebuilt.SessionId | Should -Be 'session_20260101_100000'
        $rebuilt.Tier | Should -Be 'local'
        $rebuilt.Action | Should -Be 'Added'
        $rebuilt.EventCount | Should -Be $before
        (Get-Session -WorkspacePath $ws).State | Should -Be 'Completed'
        (Get-SessionEvent -SessionId 'session_20260101_100000' -WorkspacePath $ws).Count | Should -Be $before
    }

    It 'moves a damaged catalog aside, says so, and brings back local and backed-up sessions with their events' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -LocalSessions 1
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_110000' | Out-Null
        Backup-Session -SessionId 'session_20260101_110000' -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_120000' | Out-Null
        $before = @{}
        foreach ($id in 'session_20260101_110000', 'session_20260101_120000') { $before[$id] = (Get-SessionEvent -SessionId $id -WorkspacePath $ws).Count }
        Remove-Item (Join-Path $ws 'analytics/agent_metrics.db-*') -Force -ErrorAction SilentlyContinue
        [IO.File]::WriteAllBytes((Join-Path $ws 'analytics/agent_metrics.db'), [byte[]]::new(4096) + [Text.Encoding]::ASCII.GetBytes('garbage'))
        { Get-Session -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'CatalogCorrupt,TierStorage.PowerShell.Commands.GetSessionCommand'

        $rebuilt = Update-TierCatalog -FromTier backup -WorkspacePath $ws -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue

        "$warnings" | Should -BeLike '*agent_metrics.db.corrupt-*'
        Get-ChildItem (Join-Path $ws 'analytics') -Filter 'agent_metrics.db.corrupt-*' | Should -HaveCount 1
        ($rebuilt | Sort-Object SessionId).SessionId | Should -Be @('session_20260101_110000', 'session_20260101_120000')
        foreach ($id in $before.Keys) {
            (Get-SessionEvent -SessionId $id -WorkspacePath $ws).Count | Should -Be $before[$id]
            ($rebuilt | Where-Object SessionId -eq $id).EventCount | Should -Be $before[$id]
        }
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
