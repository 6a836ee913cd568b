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
