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
        $lines = '{"tool":"Read"}', 'not json', '{"timestamp":"2026-01-01T09:00:00Z","type":"tool_call"}'
        $stored = $lines | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue
        $stored.Count | Should -Be 1
        $failures.Count | Should -Be 2
        $failures | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'InvalidEvent,TierStorage.PowerShell.Commands.AddSessionEventCommand' }
        $failures[0].Exception.Message | Should -Match "'type'"
    }

    It 'binds a JSON line piped as a string to -Json, defaulting to now and the active session' {
        $stored = '{"type":"tool_call","tool":"Read"}' | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorAction Stop
        $stored.Tool | Should -Be 'Read'
        $stored.SessionId | Should -Be $session.SessionId
        $stored.Timestamp | Should -BeGreaterThan $session.StartedAt.AddSeconds(-1)
    }

    It 'appends -Json to the active session' {
        $stored = Add-SessionEvent -Json '{"type":"tool_call","tool":"Grep"}' -WorkspacePath $ws -PassThru -ErrorAction Stop
        $stored.SessionId | Should -Be $session.SessionId
        (Get-SessionEvent -Tool Grep -WorkspacePath $ws).Count | Should -Be 1
    }

    It '-PassThru writes each event with its catalog EventId' {
        $stored = @(
            Add-SessionEvent -Type decision -Task 'a' -WorkspacePath $ws -PassThru
            1..3 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call'; DurationMs = $_ } } | Add-SessionEvent -WorkspacePath $ws -PassThru
        )
        $stored.EventId | Should -Not -Contain 0
        $catalog = Get-SessionEvent -WorkspacePath $ws | Where-Object Type -ne SessionStart
        ($stored.EventId -join ',') | Should -Be ($catalog.EventId -join ',')
    }

    It 'converts the strings of Import-Csv: booleans, numbers, timestamps, blanks as absent' {
        $csv = Join-Path $TestDrive "$([guid]::NewGuid()).csv"
        @(
            'Type,Tool,Success,DurationMs,InputTokens,Timestamp,ErrorType'
            'tool_call,Edit,True,,,2026-01-01T09:00:00Z,'
            'tool_call,Edit,false,12,5,,Timeout'
            'tool_call,Edit,YES,0,,,'
            'tool_call,Edit,0,,,,'
        ) | Set-Content -Path $csv
        $stored = Import-Csv $csv | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorAction Stop
        ($stored.Success -join ',') | Should -Be 'True,False,True,False'
        $stored[0].DurationMs | Should -BeNullOrEmpty
        $stored[0].ErrorType | Should -BeNullOrEmpty
        $stored[0].Tokens | Should -BeNullOrEmpty
        $stored[0].Timestamp | Should -Be ([datetimeoffset]'2026-01-01T09:00:00Z')
        $stored[1].DurationMs | Should -Be 12
        $stored[1].Tokens.Input | Should -Be 5
        $stored[1].ErrorType | Should -Be 'Timeout'
        $stored[2].DurationMs | Should -Be 0
    }

    It 'fails a CSV row whose value does not convert, naming the field, and keeps the others' {
        $rows = [pscustomobject]@{ Type = 'tool_call'; Success = 'maybe' },
                [pscustomobject]@{ Type = 'tool_call'; DurationMs = '12ms' },
                [pscustomobject]@{ Type = 'tool_call'; Success = 'no' }
        # Binding errors are per item and non-terminating; -ErrorVariable does not see them (PowerShell writes them before the
        # cmdlet runs), the error stream does.
        $output = & { $ErrorActionPreference = 'Continue'; $rows | Add-SessionEvent -WorkspacePath $ws -PassThru 2>&1 }
        $failures = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $failures.Count | Should -Be 2
        $failures[0].Exception.Message | Should -Match "'success'"
        $failures[1].Exception.Message | Should -Match "'duration_ms'"
        $added = @($output | Where-Object { $_ -is [TierStorage.Contracts.SessionEvent] })
        $added.Count | Should -Be 1
        $added[0].Success | Should -BeFalse
    }

    It 'keeps nested tokens and data from ConvertFrom-Json, with snake_case names' {
        $log = Join-Path $TestDrive "$([guid]::NewGuid()).jsonl"
        '{"type":"llm_call","model":"m","tokens":{"input":5,"output":6,"cache_read":7,"cache_write":8},"data":{"a":1,"b":{"c":"x"},"l":[1,{"d":2}]},"error_type":"E","duration_ms":4}' |
            Set-Content -Path $log
        $stored = Get-Content $log | ConvertFrom-Json | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorAction Stop
        $stored.Tokens.Total | Should -Be 26
        $stored.Tokens.CacheWrite | Should -Be 8
        $stored.Data['b']['c'] | Should -Be 'x'
        $stored.Data['l'][1]['d'] | Should -Be 2
        $stored.ErrorType | Should -Be 'E'
        $stored.DurationMs | Should -Be 4
        $back = Get-SessionEvent -Type llm_call -WorkspacePath $ws
        $back.Tokens.Total | Should -Be 26
        $back.Data['b']['c'] | Should -Be 'x'
    }

    It 'reports an object without a type per item, naming the field, and appends the others' {
        $rows = [pscustomobject]@{ Type = 'tool_call'; Tool = 'First' }, [pscustomobject]@{ Tool = 'NoType' }, [pscustomobject]@{ Type = 'tool_call'; Tool = 'Last' }
        $rows | Add-SessionEvent -WorkspacePath $ws -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems | Should -HaveCount 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'InvalidEvent,TierStorage.PowerShell.Commands.AddSessionEventCommand'
        "$($problems[0])" | Should -BeLike "*'type'*required*"
        (Get-SessionEvent -Type tool_call -WorkspacePath $ws).Tool | Should -Be @('First', 'Last')
    }

    It 'rejects an unknown type' {
        [pscustomobject]@{ Type = 'nonsense' } | Add-SessionEvent -WorkspacePath $ws -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidEvent,TierStorage.PowerShell.Commands.AddSessionEventCommand'
    }

    It 'redacts secrets before they are stored' {
        $stored = Add-SessionEvent -Type tool_call -Data @{ cmd = 'curl -H "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789"' } -WorkspacePath $ws -PassThru
        $stored.Data['cmd'] | Should -Not -Match 'abcdefghijklmnopqrstuvwxyz0123456789'
    }

    It 'warns, naming the session, event and field, when a field too large to scan in time is redacted whole' {
        $huge = 'api key ' + ('-' * 20MB)
        $stored = Add-SessionEvent -Type tool_call -Tool Bash -Data @{ output = $huge } -WorkspacePath $ws -PassThru -WarningVariable warnings -WarningAction SilentlyContinue
        $stored.Data['output'] | Should -BeLike '`[REDACTED:*'
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike "*$($session.SessionId)*tool_call event*'data.output'*"
    }

    It 're-appends events piped from Get-SessionEvent by value, nulls included, as new events' {
        Add-SessionEvent -Type decision -Task 'a' -WorkspacePath $ws
        $original = Get-SessionEvent -Type decision -WorkspacePath $ws
        $original.DurationMs | Should -BeNullOrEmpty
        $copied = $original | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorAction Stop
        $copied.Task | Should -Be 'a'
        $copied.EventId | Should -BeGreaterThan $original.EventId
        (Get-SessionEvent -Type decision -WorkspacePath $ws).Count | Should -Be 2
    }

    It 'reports the session_start of a piped session per item and appends the rest' {
        Add-SessionEvent -Type decision -Task 'a' -WorkspacePath $ws
        $copied = Get-SessionEvent -WorkspacePath $ws | Add-SessionEvent -WorkspacePath $ws -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue
        $copied.Task | Should -Be 'a'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'InvalidEvent,TierStorage.PowerShell.Commands.AddSessionEventCommand'
    }

    It '-WhatIf changes nothing' {
        1..10 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call' } } | Add-SessionEvent -WorkspacePath $ws -WhatIf
        Get-SessionEvent -Type tool_call -WorkspacePath $ws | Should -BeNullOrEmpty
    }

    It 'appends 20,000 piped events in bulk, over several batches, every one in order' {
        # Speed belongs in bench/ (bench/RESULTS.md has the engine's events/s); this pins that a pipeline longer than one
        # batch (8,192 events) loses, duplicates and reorders nothing.
        $before = (Get-Session -SessionId $session.SessionId -WorkspacePath $ws).EventCount
        1..20000 | ForEach-Object { [pscustomobject]@{ Type = 'tool_call'; Tool = 'Bulk'; DurationMs = $_ } } | Add-SessionEvent -WorkspacePath $ws
        (Get-Session -SessionId $session.SessionId -WorkspacePath $ws).EventCount | Should -Be ($before + 20000)
        $durations = (Get-SessionEvent -SessionId $session.SessionId -Tool Bulk -WorkspacePath $ws).DurationMs
        $durations.Count | Should -Be 20000
        $durations[0] | Should -Be 1
        $durations[-1] | Should -Be 20000
        (Compare-Object $durations (1..20000) -SyncWindow 0) | Should -BeNullOrEmpty
    }

    It 'stores a file sent again only once, and warns how many events it skipped' {
        # Issue 11 #6: an import interrupted and run again duplicated every batch the first run had stored.
        $lines = 1..300 | ForEach-Object { '{"timestamp":"2026-01-01T09:00:00.' + ('{0:000}' -f $_) + 'Z","type":"tool_call","tool":"Import"}' }
        $verbose = $lines[0..99] | Add-SessionEvent -WorkspacePath $ws -WarningVariable firstWarnings -Verbose 4>&1
        $verbose | Where-Object { "$_" -eq "Stored 100 events in session '$($session.SessionId)'." } | Should -HaveCount 1
        $firstWarnings | Should -BeNullOrEmpty

        $lines | Add-SessionEvent -WorkspacePath $ws -WarningVariable warnings -WarningAction SilentlyContinue

        $warnings | Where-Object { "$_" -like 'Stored 200 events*skipped 100 already stored (same id)*' } | Should -HaveCount 1
        (Get-SessionEvent -SessionId $session.SessionId -Tool Import -WorkspacePath $ws).Count | Should -Be 300
        $logged = Get-Content (Join-Path $ws 'logs/session_current.jsonl') | ConvertFrom-Json | Where-Object tool -eq 'Import'
        $logged | Should -HaveCount 300
        ($logged.id | Sort-Object -Unique) | Should -HaveCount 300
    }

    It 'honours -Id, from a parameter or a CSV column, as the event''s identity in its session' {
        $rows = @(
            [pscustomobject]@{ Type = 'tool_call'; Tool = 'Read'; Id = 'call-1' }
            [pscustomobject]@{ Type = 'tool_call'; Tool = 'Read'; Id = 'call-2' }
        )
        $rows | Add-SessionEvent -WorkspacePath $ws
        $again = Add-SessionEvent -Type tool_call -Tool Read -Id 'call-2' -WorkspacePath $ws -PassThru -WarningAction SilentlyContinue
        $again | Should -BeNullOrEmpty
        (Get-SessionEvent -SessionId $session.SessionId -Tool Read -WorkspacePath $ws).Id | Should -Be @('call-1', 'call-2')
        # Events stamped on arrival have no id: each one sent is new.
        1..2 | ForEach-Object { Add-SessionEvent -Type tool_call -Tool Write -WorkspacePath $ws }
        (Get-SessionEvent -SessionId $session.SessionId -Tool Write -WorkspacePath $ws).Count | Should -Be 2
    }
}
