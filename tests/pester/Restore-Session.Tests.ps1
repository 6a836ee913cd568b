BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Restore-Session' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
    }

    It 'restores byte for byte into another directory' {
        $log = (Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws).LogPath
        $result = Restore-Session -SessionId 'session_20260101_090000' -Destination (Join-Path $TestDrive 'elsewhere') -WorkspacePath $ws -Confirm:$false
        $result | Should -BeOfType ([TierStorage.Contracts.RestoreResult])
        $result.Verified | Should -BeTrue
        (Get-FileHash (Join-Path $TestDrive 'elsewhere/activity.jsonl')).Hash | Should -Be (Get-FileHash $log).Hash
    }

    It 'restores several piped sessions into one -Destination, each in a folder named after it' {
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_100000' | Out-Null
        Backup-Session -SessionId 'session_20260101_100000' -WorkspacePath $ws -Confirm:$false | Out-Null
        $destination = Join-Path $TestDrive ([guid]::NewGuid())
        Push-Location $TestDrive
        try {
            $results = Get-Session -WorkspacePath $ws | Where-Object Phase -eq 1 |
                Restore-Session -Destination (Split-Path $destination -Leaf) -WorkspacePath $ws -Confirm:$false -ErrorAction Stop
        }
        finally { Pop-Location }
        $results.Count | Should -Be 2
        foreach ($id in 'session_20260101_090000', 'session_20260101_100000') {
            ($results | Where-Object SessionId -eq $id).Destination | Should -Be (Join-Path $destination $id)
            $log = (Get-Session -SessionId $id -WorkspacePath $ws).LogPath
            (Get-FileHash (Join-Path $destination "$id/activity.jsonl")).Hash | Should -Be (Get-FileHash $log).Hash
        }
    }

    It 'does not overwrite the local session without -Force' {
        { Restore-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RestoreTargetExists,TierStorage.PowerShell.Commands.RestoreSessionCommand'
    }

    It '-WhatIf changes nothing' {
        Restore-Session -SessionId 'session_20260101_090000' -Destination (Join-Path $TestDrive 'whatif') -WorkspacePath $ws -WhatIf
        Join-Path $TestDrive 'whatif' | Should -Not -Exist
    }
}
