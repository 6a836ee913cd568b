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

    It 'round-trips through ConvertTo-Json -EnumsAsStrings into Add-SessionEvent, stored in the log spelling' {
        $copy = New-TestWorkspace -Name 'events-copy'
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $copy | Out-Null
        $original = Get-SessionEvent -Type tool_call -First 3 -WorkspacePath $ws
        $json = $original | ConvertTo-Json -EnumsAsStrings
        $json | Should -Match '"Type": "ToolCall"'
        $json | ConvertFrom-Json | Add-SessionEvent -WorkspacePath $copy -Confirm:$false
        $stored = Get-SessionEvent -Type tool_call -WorkspacePath $copy
        $stored.Count | Should -Be 3
        foreach ($i in 0..2) {
            $stored[$i].Type | Should -Be $original[$i].Type
            $stored[$i].Tool | Should -Be $original[$i].Tool
            $stored[$i].DurationMs | Should -Be $original[$i].DurationMs
            $stored[$i].Timestamp | Should -Be $original[$i].Timestamp
        }
        $log = Get-Content (Join-Path $copy 'logs/session_current.jsonl') | Where-Object { $_ -match '"tool":' }
        $log | Should -HaveCount 3
        $log | ForEach-Object { $_ | Should -Match '"type":"tool_call"' }
    }

    It 'shows event types as the log and -Type spell them' {
        Get-SessionEvent -Type tool_call -First 1 -WorkspacePath $ws | Format-Table | Out-String -Width 80 | Should -Match '\btool_call\b'
    }

    It 'exports to CSV as text: tokens and data read as values, not type names or record dumps' {
        Add-SessionEvent -Type llm_call -Model 'claude-sonnet-4-5' -DurationMs 900 -InputTokens 1200 -OutputTokens 340 -Success $true `
            -Data @{ stop_reason = 'end_turn'; blocks = @('text', 'tool_use') } -WorkspacePath $ws -Confirm:$false | Out-Null
        $csv = Join-Path $TestDrive 'events.csv'
        Get-SessionEvent -WorkspacePath $ws | Export-Csv -Path $csv
        $text = Get-Content -Raw $csv
        $text | Should -Not -Match 'System\.Collections'
        $text | Should -Not -BeLike '* { *'
        $row = Import-Csv $csv | Where-Object Model -eq 'claude-sonnet-4-5'
        $row.Tokens | Should -Be 'in 1200 / out 340 / cache r 0 w 0'
        $row.Data | ConvertFrom-Json | ForEach-Object stop_reason | Should -Be 'end_turn'
    }

    It 'reports a session that does not exist as SessionNotFound, not as a session without events' {
        { Get-SessionEvent -SessionId nope -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'SessionNotFound,TierStorage.PowerShell.Commands.GetSessionEventCommand'
    }
}
