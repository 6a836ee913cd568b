BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
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
        # Member enumeration reaches each step's Subject (a property named Item would return IList.Item instead).
        ($plan | Where-Object Action -eq Copy).Subject | Should -Be @(0..3 | ForEach-Object { "session_2026010$($_)_090000" })
        (Get-Session -WorkspacePath $ws).State | Should -Not -Contain 'BackedUp'
    }

    It 'runs the plan: sessions backed up, the two old phases archived' {
        $done = Move-DataTier -WorkspacePath $ws -Confirm:$false
        $done.State | Should -Not -Contain 'Failed'
        ($done | Where-Object Action -eq Archive).Subject | Should -Be @('Phase_0', 'Phase_1')
        Join-Path $TestDrive "$(Split-Path $ws -Leaf)-archive/Phase_0.tar.gz" | Should -Exist
        Move-DataTier -WorkspacePath $ws -Confirm:$false | Should -BeNullOrEmpty
    }
}
