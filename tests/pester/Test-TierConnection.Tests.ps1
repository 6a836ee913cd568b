BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Test-TierConnection' {
    It 'runs every step against a folder tier' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $steps = Test-TierConnection -WorkspacePath $ws
        $steps.Step | Should -Be @('Reach', 'Upload', 'Verify', 'Download', 'CleanUp')
        $steps.Succeeded | Should -Not -Contain $false
    }
}
