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

    It 'expands wildcards in -Path against the current location' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        'one', 'two' | ForEach-Object { Set-Content (Join-Path $folder "$_.yaml") "version: 1`nnot_a_key: true`n" }
        Push-Location $folder
        try { $findings = Test-TierPolicy ./*.yaml -ErrorAction Stop }
        finally { Pop-Location }
        $findings.File | Sort-Object -Unique | Should -Be @((Join-Path $folder 'one.yaml'), (Join-Path $folder 'two.yaml'))
    }

    It 'takes Get-ChildItem output by PSPath, and -LiteralPath as written' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $odd = Join-Path $folder 'odd[1].yaml'
        Set-Content -LiteralPath $odd "version: 1`nnot_a_key: true`n"
        (Get-ChildItem -LiteralPath $folder | Test-TierPolicy -ErrorAction Stop).File | Should -Contain $odd
        (Test-TierPolicy -LiteralPath $odd -ErrorAction Stop).Code | Should -Contain 'UnknownKey'
    }

    It 'reports a -Path that matches nothing as ObjectNotFound' {
        Test-TierPolicy -Path (Join-Path $TestDrive 'nothing-*.yaml') -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'PolicyNotFound,TierStorage.PowerShell.Commands.TestTierPolicyCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'finds no error in the embedded default' {
        Test-TierPolicy -WorkspacePath (Join-Path $TestDrive 'nothing-here') |
            Where-Object Severity -eq Error | Should -BeNullOrEmpty
    }
}
