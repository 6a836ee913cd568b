BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Backup-Session' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid()) -LocalSessions 1
    }

    It 'backs up what Get-Session pipes in, verified, with the files and their checksums' {
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $result = Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws | Backup-Session -WorkspacePath $ws -Confirm:$false
        $result | Should -BeOfType ([TierStorage.Contracts.BackupResult])
        $result.Status | Should -Be ([TierStorage.Contracts.BackupStatus]::Succeeded)
        $result.Verified | Should -BeTrue
        $result.Files.Name | Should -Contain 'activity.jsonl.gz'
        (Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws).State | Should -Be 'BackedUp'
    }

    It 'sends nothing the second time' {
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        (Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false).BytesSent | Should -Be 0
    }

    It 'prunes older local sessions only once they are verified elsewhere' {
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_100000' | Out-Null
        (Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws).LogPath | Should -Not -BeNullOrEmpty
        $results = Backup-Session -WorkspacePath $ws -Confirm:$false
        $results.PrunedSessions | Should -Contain 'session_20260101_090000'
        (Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws).LogPath | Should -BeNullOrEmpty
    }

    It 'refuses an active session with a stable error id and goes on' {
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'SessionStillActive,TierStorage.PowerShell.Commands.BackupSessionCommand'
    }

    It '-WhatIf changes nothing' {
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -WhatIf | Out-Null
        (Get-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws).State | Should -Be 'Completed'
        Get-ChildItem -Path "$ws-backup" -Recurse -File | Should -BeNullOrEmpty
    }

    It 'mends what Test-Backup finds missing' {
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Test-Backup -WorkspacePath $ws | Where-Object Status -ne Ok | Backup-Session -WorkspacePath $ws -Confirm:$false | Out-Null
        (Test-Backup -WorkspacePath $ws).Status | Should -Be 'Ok'
    }
}

Describe 'Complete-Session -Wait' {
    It 'runs the policy backup inline and writes its result' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Session -Phase 1 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        $out = Complete-Session -Wait -WorkspacePath $ws -Confirm:$false
        ($out | Where-Object { $_ -is [TierStorage.Contracts.BackupResult] }).Status | Should -Be 'Succeeded'
    }
}

Describe 'Sync-BackupQueue' {
    It 'drains what was queued while the tier was unreachable' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Rename-Item -Path "$ws-backup" -NewName 'unplugged'
        $policy = Join-Path $ws 'tierstorage.yaml'
        (Get-Content $policy -Raw) -replace [regex]::Escape("$ws-backup"), "$ws-backup/missing/share" | Set-Content $policy
        (Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false).Status | Should -Be 'Queued'
        New-Item -ItemType Directory -Path "$ws-backup/missing" -Force | Out-Null
        $drained = Sync-BackupQueue -WorkspacePath $ws -Confirm:$false
        $drained.SessionId | Should -Be 'session_20260101_090000'
        $drained.Status | Should -Be 'Succeeded'
    }
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

    It 'does not overwrite the local session without -Force' {
        { Restore-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RestoreTargetExists,TierStorage.PowerShell.Commands.RestoreSessionCommand'
    }

    It '-WhatIf changes nothing' {
        Restore-Session -SessionId 'session_20260101_090000' -Destination (Join-Path $TestDrive 'whatif') -WorkspacePath $ws -WhatIf
        Join-Path $TestDrive 'whatif' | Should -Not -Exist
    }
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

Describe 'Test-TierConnection' {
    It 'runs every step against a folder tier' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $steps = Test-TierConnection -WorkspacePath $ws
        $steps.Step | Should -Be @('Reach', 'Upload', 'Verify', 'Download', 'CleanUp')
        $steps.Succeeded | Should -Not -Contain $false
    }
}

Describe 'Update-TierCatalog' {
    It 'rebuilds the catalog from the tier after the analytics database is lost' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        Remove-Item (Join-Path $ws 'analytics/*') -Force
        $rebuilt = Update-TierCatalog -FromTier backup -WorkspacePath $ws -Confirm:$false
        $rebuilt.SessionId | Should -Be 'session_20260101_090000'
        $rebuilt.Action | Should -Be 'Added'
    }
}

Describe 'Connect-TierDrive and Disconnect-TierDrive' {
    It 'say clearly when the policy has no google-drive tier' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        { Connect-TierDrive -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TierNotFound,TierStorage.PowerShell.Commands.ConnectTierDriveCommand'
        { Disconnect-TierDrive -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TierNotFound,TierStorage.PowerShell.Commands.DisconnectTierDriveCommand'
    }
}
