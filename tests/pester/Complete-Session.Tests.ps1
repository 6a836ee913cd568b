BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Complete-Session -Wait' {
    It 'runs the policy backup inline and writes its result' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        $out = Complete-Session -Wait -WorkspacePath $ws -Confirm:$false
        ($out | Where-Object { $_ -is [TierStorage.Contracts.BackupResult] }).Status | Should -Be 'Succeeded'
    }

    It 'writes the session once, as it is after the backup, then the backup result' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        $out = @(Complete-Session -Wait -WorkspacePath $ws -Confirm:$false)
        $out.Count | Should -Be 2
        $out[0] | Should -BeOfType ([TierStorage.Contracts.SessionInfo])
        $out[1] | Should -BeOfType ([TierStorage.Contracts.BackupResult])
        $now = Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws
        $out[0].State | Should -Be $now.State
        $out[0].State | Should -Be 'BackedUp'
        $out[0].Verified | Should -Be $now.Verified
    }
}

Describe 'Complete-Session' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
    }

    It 'completes the active session and writes the handoff' {
        Start-Session -Phase 0 -WorkspacePath $ws | Out-Null
        $done = Complete-Session -NoBackup -WorkspacePath $ws -Confirm:$false
        $done.State | Should -Be 'Completed'
        $done.HandoffPath | Should -Exist
    }

    It 'completes what Get-Session pipes in' {
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        $done = Get-Session -Phase 1 -WorkspacePath $ws | Complete-Session -NoBackup -WorkspacePath $ws -Confirm:$false
        $done.SessionId | Should -Be 'session_20260101_090000'
        $done.State | Should -Be 'Completed'
    }

    It 'reports an unknown session per item and goes on' {
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        $done = 'session_19990101_000000', 'session_20260101_090000' |
            ForEach-Object { [pscustomobject]@{ SessionId = $_ } } |
            Complete-Session -NoBackup -WorkspacePath $ws -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        $done.SessionId | Should -Be 'session_20260101_090000'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'SessionNotFound,TierStorage.PowerShell.Commands.CompleteSessionCommand'
        $failures[0].TargetObject | Should -Be 'session_19990101_000000'
    }

    It '-WhatIf changes nothing' {
        Start-Session -Phase 1 -WorkspacePath $ws | Out-Null
        Complete-Session -WorkspacePath $ws -WhatIf
        (Get-Session -WorkspacePath $ws).State | Should -Be 'Active'
    }
}
