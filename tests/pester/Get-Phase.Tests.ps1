BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Get-Phase' {
    BeforeAll {
        $script:ws = New-TestWorkspace -Name 'get-phase'
        Start-Phase 1 -Name setup -WorkspacePath $ws -Confirm:$false | Out-Null
    }

    It 'returns the phase asked for' {
        (Get-Phase 1 -WorkspacePath $ws).Name | Should -Be 'setup'
    }

    It 'reports a phase that does not exist as PhaseNotFound, so -ErrorAction Stop catches a typo' {
        { Get-Phase 99 -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'PhaseNotFound,TierStorage.PowerShell.Commands.GetPhaseCommand'
    }

    It 'writes the not-found error as a non-terminating error targeted at the phase' {
        $phases = Get-Phase 99 -WorkspacePath $ws -ErrorVariable errors -ErrorAction SilentlyContinue
        $phases | Should -BeNullOrEmpty
        $errors | Should -HaveCount 1
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be 99
    }
}
