BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Save-SessionSnapshot and Get-SessionSnapshot' {
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

    It 'lists snapshots and reads each by sequence through the pipeline' {
        1..3 | ForEach-Object { Save-SessionSnapshot -Json "{`"n`":$_}" -WorkspacePath $ws } | Out-Null
        $list = Get-SessionSnapshot -List -WorkspacePath $ws
        $list.Count | Should -Be 3
        $list | ForEach-Object { $_.Json | Should -BeNullOrEmpty -Because "a listing does not read the snapshots" }
        ($list | Get-SessionSnapshot -WorkspacePath $ws).Json.Count | Should -Be 3
    }

    It 'recovers from a corrupt latest snapshot with a warning' {
        Save-SessionSnapshot -Json '{"good":true}' -WorkspacePath $ws | Out-Null
        $bad = Save-SessionSnapshot -Json '{"good":false}' -WorkspacePath $ws
        Set-Content -Path $bad.Path -Value 'garbage'
        $recovered = Get-SessionSnapshot -Latest -WorkspacePath $ws -WarningVariable warnings -WarningAction SilentlyContinue
        ($recovered.Json | ConvertFrom-Json).good | Should -BeTrue
        $warnings | Should -Not -BeNullOrEmpty
    }

    It 'fails per item for a missing sequence' {
        Get-SessionSnapshot -Sequence 99 -WorkspacePath $ws -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'SnapshotNotFound,TierStorage.PowerShell.Commands.GetSessionSnapshotCommand'
    }

    It '-WhatIf changes nothing' {
        Save-SessionSnapshot -Json '{"a":1}' -WorkspacePath $ws -WhatIf
        Get-SessionSnapshot -List -WorkspacePath $ws | Should -BeNullOrEmpty
    }
}
