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

    It 'gives sessions started within the same second unique ids that sort in start order' {
        $ids = 1..3 | ForEach-Object { (Start-Session -Phase 1 -CompleteActive -WorkspacePath $ws -ErrorAction Stop).SessionId }
        $ids | Select-Object -Unique | Should -HaveCount 3
        [string[]] $sorted = $ids | Sort-Object -CaseSensitive
        $sorted | Should -Be $ids
        $ids | ForEach-Object { $_ | Should -Match '^session_\d{8}_\d{6}(_\d{3})?$' }
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
