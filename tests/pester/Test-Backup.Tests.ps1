BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Test-Backup' {
    It 'reports a completed session without a backup as Missing, and an unknown file as Orphan' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        New-Item -ItemType File -Path "$(Get-TierFolder -WorkspacePath $ws)/stray.bin" -Value 'x' -Force | Out-Null
        $checks = Test-Backup -WorkspacePath $ws
        ($checks | Where-Object SessionId -eq 'session_20260101_090000').Status | Should -Be 'Missing'
        ($checks | Where-Object Key -eq 'stray.bin').Status | Should -Be 'Orphan'
    }

    It 'reports a session that does not exist as SessionNotFound targeted at the id' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        { Test-Backup -SessionId nope -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'SessionNotFound,TierStorage.PowerShell.Commands.TestBackupCommand'
        Test-Backup -SessionId nope -WorkspacePath $ws -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].TargetObject | Should -Be 'nope'
    }
}
