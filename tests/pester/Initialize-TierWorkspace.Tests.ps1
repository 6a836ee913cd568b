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

    It 'gives each project its own namespace, named after the project folder, shown in the output' {
        $project = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'my project')
        Push-Location $project
        try {
            $info = Initialize-TierWorkspace -Confirm:$false
        }
        finally {
            Pop-Location
        }
        $info.Namespace | Should -Match '^my_project-[0-9a-f]{8}$'
        (Get-Content -Raw (Join-Path $info.Path 'workspace.json') | ConvertFrom-Json).namespace | Should -Be $info.Namespace
        ($info | Format-Table | Out-String -Width 80) | Should -Match ([regex]::Escape($info.Namespace))
    }

    It 'a copy warns, refuses to back up into the original''s namespace, and -NewIdentity makes it a project of its own' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        $before = Get-ChildItem "$ws-backup" -Recurse -File | Get-FileHash | Select-Object -ExpandProperty Hash
        $copy = "$ws-copy"
        Copy-Item -Recurse -Path $ws -Destination $copy

        $sessions = Get-Session -WorkspacePath $copy -WarningVariable warned -WarningAction SilentlyContinue
        $sessions.SessionId | Should -Be 'session_20260101_090000'
        "$warned" | Should -Match 'is a copy of'
        { Get-Session -WorkspacePath $copy -WarningAction SilentlyContinue | Backup-Session -WorkspacePath $copy -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'WorkspaceCopied,TierStorage.PowerShell.Commands.BackupSessionCommand'

        Initialize-TierWorkspace -Path $copy -NewIdentity -WhatIf
        (Get-Content -Raw "$copy/workspace.json" | ConvertFrom-Json).namespace | Should -Be (Get-Content -Raw "$ws/workspace.json" | ConvertFrom-Json).namespace
        $change = Initialize-TierWorkspace -Path $copy -NewIdentity -Confirm:$false -WarningVariable again
        $again | Should -BeNullOrEmpty
        $change | Should -BeOfType ([TierStorage.Contracts.WorkspaceIdentityChange])
        $change.Namespace | Should -Not -Be $change.PreviousNamespace
        $change.SessionsToBackUp | Should -Be @('session_20260101_090000')
        (Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $copy -Confirm:$false -WarningVariable none).Verified | Should -BeTrue
        $none | Should -BeNullOrEmpty
        Join-Path "$ws-backup" $change.Namespace | Should -Exist
        Get-ChildItem (Join-Path "$ws-backup" $change.PreviousNamespace) -Recurse -File | Get-FileHash | Select-Object -ExpandProperty Hash | Should -Be $before
    }

    It '-NewIdentity cannot be combined with -Force or -PolicyTemplate' {
        { Initialize-TierWorkspace -NewIdentity -Force -Confirm:$false } | Should -Throw -ErrorId 'AmbiguousParameterSet,TierStorage.PowerShell.Commands.InitializeTierWorkspaceCommand'
    }
}
