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
