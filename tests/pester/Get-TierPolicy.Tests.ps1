BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
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
