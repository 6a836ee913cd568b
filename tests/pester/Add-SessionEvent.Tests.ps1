BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Add-SessionEvent' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $script:session = Start-Session -Phase 1 -WorkspacePath $ws
    }

    It 'appends 1000 events from the pipeline by property name' {
        1..1000 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call'; Tool = 'Read'; DurationMs = $_ } } |
            Add-SessionEvent -WorkspacePath $ws
        (Get-SessionEvent -SessionId $session.SessionId -Type tool_call -WorkspacePath $ws).Count | Should -Be 1000
    }

    It 'binds snake_case and alias property names' {
        $stored = [pscustomobject]@{ Type = 'llm_call'; duration_ms = 12; InputTokens = 10; OutputTokens = 5; Model = 'claude' } |
            Add-SessionEvent -WorkspacePath $ws -PassThru
        $stored.DurationMs | Should -Be 12
        $stored.Tokens.Total | Should -Be 15
    }

    It 'keeps nested data' {
        $stored = Add-SessionEvent -Type decision -Data @{ choice = 'sqlite'; options = @('sqlite', 'json'); why = @{ speed = 1 } } -WorkspacePath $ws -PassThru
        $stored.Data['choice'] | Should -Be 'sqlite'
        $stored.Data['options'].Count | Should -Be 2
        $stored.Data['why']['speed'] | Should -Be 1
    }

    It 'appends JSON lines' {
        $line = '{"timestamp":"2026-01-01T09:00:00Z","type":"tool_call","tool":"Edit"}'
        ($line | Add-SessionEvent -WorkspacePath $ws -PassThru).Tool | Should -Be 'Edit'
    }

    It 'reports a bad event per item, naming the field, and keeps going' {
        $lines = '{"type":"tool_call","tool":"Read"}', 'not json', '{"timestamp":"2026-01-01T09:00:00Z","type":"tool_call"}'
        $stored = $lines | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue
        $stored.Count | Should -Be 1
        $failures.Count | Should -Be 2
        $failures.FullyQualifiedErrorId | Should -Be @('InvalidEvent,TierStorage.PowerShell.Commands.AddSessionEventCommand') * 2
        $failures[0].Exception.Message | Should -Match 'timestamp'
    }

    It 'rejects an unknown type' {
        [pscustomobject]@{ Type = 'nonsense' } | Add-SessionEvent -WorkspacePath $ws -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidEvent,TierStorage.PowerShell.Commands.AddSessionEventCommand'
    }

    It 'redacts secrets before they are stored' {
        $stored = Add-SessionEvent -Type tool_call -Data @{ cmd = 'curl -H "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789"' } -WorkspacePath $ws -PassThru
        $stored.Data['cmd'] | Should -Not -Match 'abcdefghijklmnopqrstuvwxyz0123456789'
    }

    It 're-appends events piped from Get-SessionEvent by value' {
        Add-SessionEvent -Type decision -Task 'a' -WorkspacePath $ws
        $copied = Get-SessionEvent -WorkspacePath $ws | Add-SessionEvent -WorkspacePath $ws -PassThru
        $copied.Task | Should -Be 'a'
    }

    It '-WhatIf changes nothing' {
        1..10 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call' } } | Add-SessionEvent -WorkspacePath $ws -WhatIf
        Get-SessionEvent -Type tool_call -WorkspacePath $ws | Should -BeNullOrEmpty
    }

    It 'appends 100,000 piped events in bulk' {
        $events = 1..100000 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call'; Tool = 'Read'; DurationMs = $_ } }
        $elapsed = Measure-Command { $events | Add-SessionEvent -WorkspacePath $ws }
        # PowerShell's own parameter binding costs microseconds per object; bench/ measures the engine's 100,000/s,
        # this bound only catches a cmdlet that stops batching (one transaction per event).
        $elapsed.TotalSeconds | Should -BeLessThan 5
        (Get-Session -SessionId $session.SessionId -WorkspacePath $ws).EventCount | Should -BeGreaterOrEqual 100000
    }
}
