BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Get-SessionSnapshot' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $script:session = Start-Session -Phase 1 -WorkspacePath $ws
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

    It 'reads the latest snapshot of the session Get-Session pipes in, after another session started' {
        Save-SessionSnapshot -Json '{"of":"first"}' -WorkspacePath $ws | Out-Null
        $second = Start-Session -Phase 1 -CompleteActive -WorkspacePath $ws
        Save-SessionSnapshot -Json '{"of":"second"}' -WorkspacePath $ws | Out-Null
        (Get-Session -SessionId $session.SessionId -WorkspacePath $ws | Get-SessionSnapshot -Latest -WorkspacePath $ws).Json |
            ConvertFrom-Json | ForEach-Object of | Should -Be 'first'
        (Get-SessionSnapshot -WorkspacePath $ws).SessionId | Should -Be $second.SessionId
    }

    It 'reports a session that does not exist per item' {
        Get-SessionSnapshot -SessionId session_20200101_000000 -WorkspacePath $ws -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
