BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

# The pipelines README.md and ARCHITECTURE.md promise, typed as a user types them: inside the project folder, on the
# default workspace ./.tierstorage, no -WorkspacePath anywhere.
Describe 'README pipelines' {
    BeforeAll {
        $script:Project = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'project')
        New-TestWorkspace -Name 'project/.tierstorage' -LocalSessions 2 -WithArchive | Out-Null
        Push-Location $Project
        $script:Samples = Join-Path $PSScriptRoot '../../examples'
    }

    AfterAll {
        Pop-Location
    }

    It 'records a session: Import-Csv, ConvertFrom-Json and JSON lines all pipe into Add-SessionEvent' {
        Start-Session -Phase 0 -SessionId session_20260100_090000 | Out-Null
        @'
Type,Tool,DurationMs,Success,InputTokens
tool_call,CsvRead,12,True,
tool_call,CsvEdit,,False,
llm_call,CsvModel,900,true,1200
'@ | Set-Content calls.csv
        Import-Csv calls.csv | Add-SessionEvent
        Get-Content (Join-Path $Samples 'sample-events.jsonl') | Select-Object -First 5 | ConvertFrom-Json | Add-SessionEvent
        Get-Content (Join-Path $Samples 'sample-events.jsonl') | Select-Object -Skip 5 | Add-SessionEvent

        $events = Get-SessionEvent -SessionId session_20260100_090000 | Where-Object Type -ne SessionStart
        $events.Count | Should -Be (3 + 60)
        $fromCsv = $events | Where-Object Tool -like 'Csv*'
        $fromCsv.Success | Should -Be @($true, $false, $true)
        $fromCsv[1].DurationMs | Should -BeNullOrEmpty -Because 'a blank CSV cell is no value, not 0'
        $fromCsv[2].Tokens.Input | Should -Be 1200
        ($events | Where-Object { $_.Tokens.CacheRead -eq 31329 }) | Should -HaveCount 1 -Because 'nested tokens survive ConvertFrom-Json'
        $withTokens = @(Get-Content (Join-Path $Samples 'sample-events.jsonl') | Select-String '"tokens"').Count
        @($events | Where-Object Tokens).Count | Should -Be ($withTokens + 1) -Because 'every sample line with tokens, and the CSV row with InputTokens'
    }

    It '$state | ConvertTo-Json -Depth 20 | Save-SessionSnapshot, and Get-SessionSnapshot -Latest gives it back' {
        $state = @{ tasks = @('parse', @{ name = 'nested'; done = $true }); step = 3 }
        $state | ConvertTo-Json -Depth 20 | Save-SessionSnapshot | Out-Null
        $back = Get-SessionSnapshot -Latest | Select-Object -ExpandProperty Json | ConvertFrom-Json
        $back.step | Should -Be 3
        $back.tasks[1].name | Should -Be 'nested'
    }

    It 'Get-Session -Phase 0 | Complete-Session, then Get-Session -Phase 0 | Backup-Session' {
        Get-Session -Phase 0 | Complete-Session -NoBackup | Out-Null
        foreach ($phase in 1..3) {
            New-CompletedSession -WorkspacePath .tierstorage -SessionId "session_2026010$($phase)_090000" -Phase $phase | Out-Null
        }
        $results = Get-Session -Phase 0 | Backup-Session
        $results.SessionId | Should -Be 'session_20260100_090000'
        $results.Status | Should -Be 'Succeeded'
        $results.Verified | Should -BeTrue
    }

    It 'Test-Backup | Where-Object Status -ne Ok | Backup-Session mends a lost backup file' {
        # Every session backed up; retention keeps the two newest on the local tier, so those two can mend their backups.
        Get-Session -Finished | Backup-Session | Out-Null
        $lost = Get-ChildItem -Recurse -File -Path (Join-Path $Project '.tierstorage-backup') -Filter 'handoff.md' |
            Where-Object FullName -like '*session_20260103_090000*'
        $lost | Should -Not -BeNullOrEmpty
        Remove-Item $lost.FullName
        $mended = Test-Backup | Where-Object Status -ne Ok | Backup-Session
        $mended.SessionId | Should -Be 'session_20260103_090000'
        $mended.Status | Should -Be 'Succeeded'
        $lost.FullName | Should -Exist
        Test-Backup | Where-Object Status -ne Ok | Should -BeNullOrEmpty
    }

    It 'Get-Session -Finished | Get-SessionEvent -Type error reads the events of every session that ended, backed up or not' {
        $errors = Get-Session -Finished | Get-SessionEvent -Type error
        $errors | Should -Not -BeNullOrEmpty -Because 'the sample events recorded in phase 0 hold errors'
        $errors.SessionId | Sort-Object -Unique | Should -Be 'session_20260100_090000' -Because 'it is BackedUp now, and still finished'
        (Get-Session session_20260100_090000).State | Should -Be 'BackedUp'
        Get-Session -State Completed | Should -BeNullOrEmpty -Because '-State Completed misses what was backed up since'
    }

    It 'Get-Session | Get-SessionEvent -Type tool_call -Last 20' {
        $events = Get-Session | Get-SessionEvent -Type tool_call -Last 20
        $events.Count | Should -BeGreaterThan 20 -Because '-Last applies per session piped in'
        $events.Type | Sort-Object -Unique | Should -Be 'ToolCall'
    }

    It 'Move-DataTier -WhatIf prints the plan as TierMove objects and changes nothing' {
        $before = Get-Session | ForEach-Object { "$($_.SessionId) $($_.State)" }
        $plan = Move-DataTier -WhatIf
        $plan | Should -BeOfType ([TierStorage.Contracts.TierMove])
        $plan.Action | Should -Contain 'Archive'
        Get-Session | ForEach-Object { "$($_.SessionId) $($_.State)" } | Should -Be $before
        Join-Path $Project '.tierstorage-archive' | Should -Not -Exist
    }

    It 'Get-TierUsage | Where-Object Status -ne Healthy lists nothing on healthy tiers' {
        Get-TierUsage | Should -Not -BeNullOrEmpty
        Get-TierUsage | Where-Object Status -ne Healthy | Should -BeNullOrEmpty
    }

    It 'Get-Phase 0 | Invoke-PhaseReview | Select-Object -ExpandProperty Recommendations' {
        $recommendations = Get-Phase 0 | Invoke-PhaseReview -Confirm:$false | Select-Object -ExpandProperty Recommendations
        $recommendations | Should -Not -BeNullOrEmpty
        "$($recommendations[0])" | Should -Not -BeLike '*{*' -Because 'a recommendation reads as text, not a record dump'
    }

    It 'Get-Phase | Where-Object { -not $_.Reviewed } names the phases still to review' {
        (Get-Phase | Where-Object { -not $_.Reviewed }).Phase | Should -Be @(1, 2, 3)
    }

    It 'Test-TierPolicy ./tierstorage.yaml | Where-Object Severity -eq Error finds nothing in a valid policy' {
        Push-Location .tierstorage
        try { Test-TierPolicy ./tierstorage.yaml | Where-Object Severity -eq Error | Should -BeNullOrEmpty }
        finally { Pop-Location }
    }

    It '-Verbose says the default workspace was found in the PowerShell location, not the process directory' {
        $said = Get-Session -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $said | Should -Contain "Workspace '$(Join-Path $Project '.tierstorage')' (the default: .tierstorage in the current directory '$Project')."
    }

    It '(Get-TierPolicy).Tiers names the three tiers' {
        (Get-TierPolicy).Tiers.Name | Should -Be @('local', 'backup', 'archive')
    }
}
