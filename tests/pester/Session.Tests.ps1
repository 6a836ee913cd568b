BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Start-Session' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
    }

    It 'starts a session in a phase' {
        $session = Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws
        $session | Should -BeOfType ([TierStorage.Contracts.SessionInfo])
        $session.State | Should -Be ([TierStorage.Contracts.SessionState]::Active)
        $session.Phase | Should -Be 1
    }

    It 'refuses to start while a session is active' {
        Start-Session -Phase 1 -WorkspacePath $ws | Out-Null
        { Start-Session -Phase 1 -SessionId 'session_20260101_100000' -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'SessionStillActive,TierStorage.PowerShell.Commands.StartSessionCommand'
    }

    It 'completes the active session first with -CompleteActive' {
        $first = Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws
        Start-Session -Phase 1 -SessionId 'session_20260101_100000' -CompleteActive -WorkspacePath $ws | Out-Null
        (Get-Session -SessionId $first.SessionId -WorkspacePath $ws).State | Should -Be 'Completed'
    }

    It 'rejects a session id with path characters' {
        { Start-Session -SessionId '../evil' -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSessionId,TierStorage.PowerShell.Commands.StartSessionCommand'
    }

    It '-WhatIf changes nothing' {
        Start-Session -Phase 1 -WorkspacePath $ws -WhatIf
        Get-Session -WorkspacePath $ws | Should -BeNullOrEmpty
    }

    It 'fails terminating when the workspace does not exist' {
        { Start-Session -WorkspacePath (Join-Path $TestDrive 'missing') -ErrorAction Stop } |
            Should -Throw -ErrorId 'WorkspaceNotFound,TierStorage.PowerShell.Commands.StartSessionCommand'
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

Describe 'Get-Session' {
    BeforeAll {
        $script:ws = New-TestWorkspace -Name 'get-session'
        Start-Session -Phase 0 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        Start-Session -Phase 1 -SessionId 'session_20260102_090000' -CompleteActive -WorkspacePath $ws | Out-Null
    }

    It 'lists sessions oldest first' {
        (Get-Session -WorkspacePath $ws).SessionId | Should -Be 'session_20260101_090000', 'session_20260102_090000'
    }

    It 'filters by phase and state' {
        (Get-Session -Phase 1 -WorkspacePath $ws).SessionId | Should -Be 'session_20260102_090000'
        (Get-Session -State Completed -WorkspacePath $ws).SessionId | Should -Be 'session_20260101_090000'
    }
}
