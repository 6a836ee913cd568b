BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Get-SessionEvent' {
    BeforeAll {
        $script:ws = New-TestWorkspace -Name 'events'
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        1..20 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call'; Tool = ('Read', 'Edit')[$_ % 2]; DurationMs = $_ } } |
            Add-SessionEvent -WorkspacePath $ws
        Add-SessionEvent -Type error -ErrorType 'Timeout' -Success $false -WorkspacePath $ws
    }

    It 'streams events of what Get-Session pipes in' {
        $events = Get-Session -WorkspacePath $ws | Get-SessionEvent -Type tool_call -WorkspacePath $ws
        $events.Count | Should -Be 20
        $events[0] | Should -BeOfType ([TierStorage.Contracts.SessionEvent])
    }

    It 'filters by tool and success' {
        (Get-SessionEvent -Tool Edit -WorkspacePath $ws).Count | Should -Be 10
        (Get-SessionEvent -Success $false -WorkspacePath $ws).Type | Should -Be ([TierStorage.Contracts.SessionEventType]::Error)
    }

    It 'returns the newest N with -Last, newest first' {
        $last = Get-SessionEvent -Type tool_call -Last 3 -WorkspacePath $ws
        $last.DurationMs | Should -Be 20, 19, 18
    }

    It 'returns the oldest N with -First' {
        (Get-SessionEvent -Type tool_call -First 2 -WorkspacePath $ws).DurationMs | Should -Be 1, 2
    }

    It 'rejects an unknown type' {
        { Get-SessionEvent -Type nonsense -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidEvent,TierStorage.PowerShell.Commands.GetSessionEventCommand'
    }

    It 'reports a session that does not exist as SessionNotFound, not as a session without events' {
        { Get-SessionEvent -SessionId nope -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'SessionNotFound,TierStorage.PowerShell.Commands.GetSessionEventCommand'
    }
}
