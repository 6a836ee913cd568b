BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Save-SessionSnapshot' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $script:session = Start-Session -Phase 1 -WorkspacePath $ws
    }

    It 'saves JSON and reads the latest back' {
        '{"step":1}' | Save-SessionSnapshot -WorkspacePath $ws | Out-Null
        $saved = Save-SessionSnapshot -Json '{"step":2}' -WorkspacePath $ws
        $saved | Should -BeOfType ([TierStorage.Contracts.SnapshotInfo])
        $saved.Path | Should -Exist
        (Get-SessionSnapshot -WorkspacePath $ws).Json | ConvertFrom-Json | Select-Object -ExpandProperty step | Should -Be 2
    }

    It 'saves from a file' {
        $file = Join-Path $TestDrive 'state.json'
        Set-Content $file '{"from":"file"}'
        (Save-SessionSnapshot -Path $file -WorkspacePath $ws).SessionId | Should -Be $session.SessionId
    }

    It 'binds the session from Start-Session' {
        $saved = Start-Session -Phase 1 -CompleteActive -WorkspacePath $ws |
            Save-SessionSnapshot -Json '{"a":1}' -WorkspacePath $ws
        $saved.SessionId | Should -Not -Be $session.SessionId
    }

    It 'rejects text that is not JSON and writes nothing' {
        { Save-SessionSnapshot -Json 'not json' -WorkspacePath $ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSnapshot,TierStorage.PowerShell.Commands.SaveSessionSnapshotCommand'
        Get-SessionSnapshot -List -WorkspacePath $ws | Should -BeNullOrEmpty
    }

    It '-WhatIf changes nothing' {
        Save-SessionSnapshot -Json '{"a":1}' -WorkspacePath $ws -WhatIf
        Get-SessionSnapshot -List -WorkspacePath $ws | Should -BeNullOrEmpty
    }
}
