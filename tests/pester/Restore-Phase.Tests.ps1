BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Restore-Phase' {
    It 'restores every session of an archived phase into a directory, and -WhatIf changes nothing' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -LocalSessions 1 -WithArchive
        foreach ($phase in 0..3) {
            New-CompletedSession -WorkspacePath $ws -SessionId "session_2026010$($phase)_090000" -Phase $phase | Out-Null
        }
        Move-DataTier -WorkspacePath $ws -Confirm:$false | Out-Null
        Restore-Phase 0 -Destination (Join-Path $TestDrive 'whatif') -WorkspacePath $ws -WhatIf
        Join-Path $TestDrive 'whatif' | Should -Not -Exist
        $restored = Restore-Phase 0 -Destination (Join-Path $TestDrive 'phase0') -WorkspacePath $ws -Confirm:$false
        $restored.SessionId | Should -Be 'session_20260100_090000'
        $restored.Verified | Should -BeTrue
        Join-Path $TestDrive 'phase0/session_20260100_090000/activity.jsonl' | Should -Exist
    }

    It 'counts the bytes of every restored session, not only the first' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -LocalSessions 1 -WithArchive
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260100_090000' -Phase 0 | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260100_100000' -Phase 0 | Out-Null
        foreach ($phase in 1..3) {
            New-CompletedSession -WorkspacePath $ws -SessionId "session_2026010$($phase)_090000" -Phase $phase | Out-Null
        }
        Move-DataTier -WorkspacePath $ws -Confirm:$false | Out-Null
        $restored = Restore-Phase 0 -Destination (Join-Path $TestDrive ([guid]::NewGuid())) -WorkspacePath $ws -Confirm:$false -ErrorAction Stop
        $restored.Count | Should -Be 2
        $restored | ForEach-Object { $_.BytesReceived | Should -BeGreaterThan 0 }
    }
}
