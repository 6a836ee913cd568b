BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Test-TierPolicy' {
    BeforeAll {
        $script:bad = Join-Path $TestDrive 'unknown-key.yaml'
        Set-Content $bad "version: 1`nnot_a_key: true`n"
    }

    It 'returns findings for a bad file and never throws' {
        $findings = Test-TierPolicy -Path $bad -ErrorAction Stop
        $findings | Should -Not -BeNullOrEmpty
        $findings[0] | Should -BeOfType ([TierStorage.Contracts.PolicyFinding])
        $findings.Severity | Should -Contain ([TierStorage.Contracts.FindingSeverity]::Error)
        ($findings | Where-Object Code -eq 'UnknownKey').Line | Should -Be 2
    }

    It 'takes files from the pipeline by FullName' {
        $findings = Get-Item $bad | Test-TierPolicy
        $findings.File | Should -Contain $bad
    }

    It 'finds no error in the embedded default' {
        Test-TierPolicy -WorkspacePath (Join-Path $TestDrive 'nothing-here') |
            Where-Object Severity -eq Error | Should -BeNullOrEmpty
    }
}
