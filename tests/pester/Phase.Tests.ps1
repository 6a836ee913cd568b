BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Start-Phase and Get-Phase' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
    }

    It 'starts a phase that new sessions belong to, and lists it' {
        $phase = Start-Phase 2 -Name build -WorkspacePath $ws -Confirm:$false
        $phase | Should -BeOfType ([TierStorage.Contracts.PhaseInfo])
        $phase.Folder | Should -Be 'Phase_2_build'
        (Start-Session -WorkspacePath $ws).Phase | Should -Be 2
        (Get-Phase -WorkspacePath $ws | Where-Object IsCurrent).Phase | Should -Be 2
        Join-Path $ws 'current_phase.json' | Should -Exist
    }

    It 'refuses a negative phase number at binding' {
        { Start-Phase -1 -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } | Should -Throw
    }

    It '-WhatIf changes nothing' {
        Start-Phase 3 -WorkspacePath $ws -WhatIf
        Join-Path $ws 'current_phase.json' | Should -Not -Exist
    }
}

Describe 'Invoke-PhaseReview' {
    It 'reviews a phase piped from Get-Phase and its recommendations expand' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Phase 1 -Name setup -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $review = Get-Phase 1 -WorkspacePath $ws | Invoke-PhaseReview -WorkspacePath $ws -Confirm:$false
        $review | Should -BeOfType ([TierStorage.Contracts.PhaseReview])
        $review.ReportPaths | ForEach-Object { $_ | Should -Exist }
        { $review | Select-Object -ExpandProperty Recommendations } | Should -Not -Throw
        (Get-Phase 1 -WorkspacePath $ws).Reviewed | Should -BeTrue
        $review.ReportPaths | Split-Path -Leaf | Should -Contain 'phase_analytics.db'
    }

    It 'takes -Full and -Retrieval for an archived phase' {
        $command = Get-Command Invoke-PhaseReview
        $command.Parameters['Full'].ParameterType | Should -Be ([switch])
        $command.Parameters['Retrieval'].ParameterType | Should -Be ([TierStorage.Contracts.ArchiveRetrievalTier])
    }
}

Describe 'Import-ClaudeSession' {
    It 'imports a transcript once; a rerun reads nothing new' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $transcript = Join-Path $TestDrive 'c0ffee.jsonl'
        @(
            '{"type":"assistant","sessionId":"c0ffee","timestamp":"2026-01-01T09:00:00.000Z","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}'
        ) | Set-Content $transcript
        $first = Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false
        $first | Should -BeOfType ([TierStorage.Contracts.ClaudeImportResult])
        $first.EventsImported | Should -BeGreaterThan 0
        (Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false).EventsImported | Should -Be 0
        Get-Session -SessionId $first.SessionId -WorkspacePath $ws | Should -Not -BeNullOrEmpty
    }

    It 'completes a session that is not idle yet with -Complete: session_end and a handoff note' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $transcript = Join-Path $TestDrive 'c0ffee2.jsonl'
        $now = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ')
        @(
            '{"type":"assistant","sessionId":"c0ffee2","timestamp":"' + $now + '","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}'
        ) | Set-Content $transcript
        (Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false).SessionCompleted | Should -BeFalse
        $done = Import-ClaudeSession -Path $transcript -Complete -WorkspacePath $ws -Confirm:$false
        $done.SessionCompleted | Should -BeTrue
        (Get-Session -SessionId $done.SessionId -WorkspacePath $ws).HandoffPath | Should -Exist
        { Import-ClaudeSession -Path $transcript -IdleMinutes 0 -WorkspacePath $ws -Confirm:$false } | Should -Throw
    }
}
