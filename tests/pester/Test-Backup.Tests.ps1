BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Test-Backup' {
    It 'reports a completed session without a backup as Missing, and an unknown file as Orphan' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        New-Item -ItemType File -Path "$ws-backup/stray.bin" -Value 'x' | Out-Null
        $checks = Test-Backup -WorkspacePath $ws
        ($checks | Where-Object SessionId -eq 'session_20260101_090000').Status | Should -Be 'Missing'
        ($checks | Where-Object Key -eq 'stray.bin').Status | Should -Be 'Orphan'
    }
}
