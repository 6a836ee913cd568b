BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Initialize-TierWorkspace' {
    It 'creates the layout and a policy' {
        $path = Join-Path $TestDrive 'init'
        $info = Initialize-TierWorkspace -Path $path -Confirm:$false
        $info | Should -BeOfType ([TierStorage.Contracts.WorkspaceInfo])
        $info.PolicyWritten | Should -BeTrue
        foreach ($folder in 'logs', 'state', 'analytics', 'handoffs', 'credentials') {
            Join-Path $path $folder | Should -Exist
        }
        $info.PolicyPath | Should -Exist
    }

    It 'refuses to overwrite a policy without -Force' {
        $path = New-TestWorkspace -Name 'twice'
        { Initialize-TierWorkspace -Path $path -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PolicyExists,TierStorage.PowerShell.Commands.InitializeTierWorkspaceCommand'
    }

    It 'overwrites the policy with -Force' {
        $path = New-TestWorkspace -Name 'forced'
        (Initialize-TierWorkspace -Path $path -Force -Confirm:$false).PolicyWritten | Should -BeTrue
    }

    It '-WhatIf changes nothing' {
        $path = Join-Path $TestDrive 'whatif'
        Initialize-TierWorkspace -Path $path -WhatIf
        $path | Should -Not -Exist
    }
}

Describe 'Get-TierPolicy' {
    It 'returns the embedded default before any workspace exists' {
        $policy = Get-TierPolicy -WorkspacePath (Join-Path $TestDrive 'nothing-here')
        $policy | Should -BeOfType ([TierStorage.Contracts.TierPolicy])
        $policy.Tiers.Count | Should -Be 3
        $policy.Retention.LocalSessions | Should -Be 2
    }

    It 'fails with PolicyInvalid on a bad policy, naming the line' {
        $bad = Join-Path $TestDrive 'bad.yaml'
        Set-Content $bad "version: 1`nretention:`n  local_sessions: -1`n"
        { Get-TierPolicy -PolicyPath $bad -ErrorAction Stop } |
            Should -Throw -ErrorId 'PolicyInvalid,TierStorage.PowerShell.Commands.GetTierPolicyCommand'
    }
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
