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
}
