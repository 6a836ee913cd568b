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
