BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Get-TierUsage' {
    It 'reports every tier with a status, and pipes a tier into Test-TierConnection' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -WithArchive
        $usage = Get-TierUsage -WorkspacePath $ws
        $usage | Should -BeOfType ([TierStorage.Contracts.TierUsage])
        $usage.Tier | Should -Be @('local', 'backup', 'archive')
        $usage.Status | Should -Not -Contain ([TierStorage.Contracts.TierHealth]::Critical)
        (Get-TierUsage -Tier backup -WorkspacePath $ws | Test-TierConnection -WorkspacePath $ws).Succeeded | Should -Not -Contain $false
    }
}

Describe 'Move-DataTier' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid()) -LocalSessions 1 -WithArchive
        foreach ($phase in 0..3) {
            New-CompletedSession -WorkspacePath $ws -SessionId "session_2026010$($phase)_090000" -Phase $phase | Out-Null
        }
    }

    It '-WhatIf prints the plan and changes nothing' {
        $plan = Move-DataTier -WorkspacePath $ws -WhatIf
        $plan | Should -BeOfType ([TierStorage.Contracts.TierMove])
        $plan.State | Should -Not -Contain 'Done'
        ($plan | Where-Object Action -eq Copy).Count | Should -Be 4
        (Get-Session -WorkspacePath $ws).State | Should -Not -Contain 'BackedUp'
    }

    It 'runs the plan: sessions backed up, the two old phases archived' {
        $done = Move-DataTier -WorkspacePath $ws -Confirm:$false
        $done.State | Should -Not -Contain 'Failed'
        ($done | Where-Object Action -eq Archive).Item | Should -Be @('Phase_0', 'Phase_1')
        Join-Path $TestDrive "$(Split-Path $ws -Leaf)-archive/Phase_0.tar.gz" | Should -Exist
        Move-DataTier -WorkspacePath $ws -Confirm:$false | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-TierPolicy' {
    It 'does the whole nightly job and says Succeeded' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -WithArchive
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $run = Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false
        $run | Should -BeOfType ([TierStorage.Contracts.PolicyRunResult])
        $run.Status | Should -Be 'Succeeded'
        $run.Backups.Status | Should -Be 'Succeeded'
        $run.Usage.Tier | Should -Contain 'archive'
    }

    It '-WhatIf writes the plan and runs nothing' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -WithArchive
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Invoke-TierPolicy -WorkspacePath $ws -WhatIf | Should -BeOfType ([TierStorage.Contracts.TierMove])
        (Get-Session -WorkspacePath $ws).State | Should -Be 'Completed'
    }
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
}
