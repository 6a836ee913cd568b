BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Get-Session' {
    BeforeAll {
        $script:ws = New-TestWorkspace -Name 'get-session'
        Start-Session -Phase 0 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        Start-Session -Phase 1 -SessionId 'session_20260102_090000' -CompleteActive -WorkspacePath $ws | Out-Null
    }

    It 'lists sessions oldest first' {
        (Get-Session -WorkspacePath $ws).SessionId | Should -Be 'session_20260101_090000', 'session_20260102_090000'
    }

    It 'filters by phase and state' {
        (Get-Session -Phase 1 -WorkspacePath $ws).SessionId | Should -Be 'session_20260102_090000'
        (Get-Session -State Completed -WorkspacePath $ws).SessionId | Should -Be 'session_20260101_090000'
    }

    It 'reports a literal id that does not exist as a non-terminating SessionNotFound targeted at the id' {
        { Get-Session -SessionId nope -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'SessionNotFound,TierStorage.PowerShell.Commands.GetSessionCommand'
        $found = [pscustomobject]@{ SessionId = 'nope' }, [pscustomobject]@{ SessionId = 'session_20260101_090000' } |
            Get-Session -WorkspacePath $ws -ErrorVariable errors -ErrorAction SilentlyContinue
        $found.SessionId | Should -Be 'session_20260101_090000'
        $errors | Should -HaveCount 1
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be 'nope'
    }

    It 'selects sessions by wildcard, and a wildcard that matches nothing is not an error' {
        (Get-Session 'session_202601*' -WorkspacePath $ws).SessionId | Should -Be 'session_20260101_090000', 'session_20260102_090000'
        (Get-Session 'session_2026010[2]*' -WorkspacePath $ws).SessionId | Should -Be 'session_20260102_090000'
        Get-Session 'zzz*' -WorkspacePath $ws -ErrorVariable errors | Should -BeNullOrEmpty
        $errors | Should -BeNullOrEmpty
    }
}

Describe 'Get-Session -Finished' {
    It 'keeps a session that was backed up, which -State Completed no longer matches' {
        $ws = New-TestWorkspace -Name 'get-session-finished'
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260102_090000' | Out-Null
        Start-Session -SessionId 'session_20260103_090000' -WorkspacePath $ws | Out-Null

        (Get-Session -State Completed -WorkspacePath $ws).SessionId | Should -Be 'session_20260102_090000'
        (Get-Session -Finished -WorkspacePath $ws).SessionId | Should -Be 'session_20260101_090000', 'session_20260102_090000'
        { Get-Session -Finished -State Active -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,TierStorage.PowerShell.Commands.GetSessionCommand'
    }

    It '-Verbose says where the default workspace came from' {
        $ws = New-TestWorkspace -Name 'get-session-verbose'
        $env:TIERSTORAGE_WORKSPACE = $ws
        try {
            $verbose = Get-Session -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        }
        finally {
            Remove-Item Env:TIERSTORAGE_WORKSPACE
        }
        $verbose | Should -Contain "Workspace '$ws' (from `$TIERSTORAGE_WORKSPACE)."
    }
}
