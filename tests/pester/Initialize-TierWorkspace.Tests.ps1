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

    Context 'relative paths resolve against the PowerShell location, not the process directory' {
        BeforeEach {
            $script:project = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
            $script:savedWorkspace = $env:TIERSTORAGE_WORKSPACE
            $script:savedPolicy = $env:TIERSTORAGE_POLICY
            $env:TIERSTORAGE_WORKSPACE = $null
            $env:TIERSTORAGE_POLICY = $null
            Push-Location $project
        }
        AfterEach {
            Pop-Location
            $env:TIERSTORAGE_WORKSPACE = $savedWorkspace
            $env:TIERSTORAGE_POLICY = $savedPolicy
        }

        It 'creates the default ./.tierstorage in the current location' {
            (Initialize-TierWorkspace -Confirm:$false).Path | Should -Be (Join-Path $project.FullName '.tierstorage')
            Join-Path $project '.tierstorage/tierstorage.yaml' | Should -Exist
            Start-Session -Phase 0 | Out-Null
            (Get-Session).State | Should -Be 'Active'
        }

        It 'resolves a relative $env:TIERSTORAGE_WORKSPACE and $env:TIERSTORAGE_POLICY against the current location' {
            $env:TIERSTORAGE_WORKSPACE = 'from-env'
            (Initialize-TierWorkspace -Confirm:$false).Path | Should -Be (Join-Path $project.FullName 'from-env')
            "version: 1`nretention:`n  local_sessions: 7`n" | Set-Content -Path (Join-Path $project 'mine.yaml')
            $env:TIERSTORAGE_POLICY = 'mine.yaml'
            (Get-TierPolicy).Retention.LocalSessions | Should -Be 7
            Test-TierPolicy | Where-Object Severity -eq Error | Should -BeNullOrEmpty
        }
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
