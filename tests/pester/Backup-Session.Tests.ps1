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

    It 'queues the backup when the folder tier is not connected, and creates nothing there' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Set-Content -Path (Join-Path $TestDrive 'unmounted') -Value 'a file where the mount point should be'
        (Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw) -replace [regex]::Escape("$ws-backup"), (Join-Path $TestDrive 'unmounted/tier') |
            Set-Content (Join-Path $ws 'tierstorage.yaml')
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null

        $result = Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -ErrorAction Stop
        $result.Status | Should -Be ([TierStorage.Contracts.BackupStatus]::Queued)
        $result.Message | Should -Match 'cannot be reached'
        Test-Path (Join-Path $TestDrive 'unmounted') -PathType Leaf | Should -BeTrue
    }

    It 'reports a file-system failure on the tier as an IOError record targeted at the session, not a bare .NET exception' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Phase 0 -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' -Phase 0 | Out-Null
        $folder = Get-TierFolder -WorkspacePath $ws
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        Set-Content -Path "$folder/Phase_0" -Value 'a file where the phase folder belongs'

        { Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'IOError,TierStorage.PowerShell.Commands.BackupSessionCommand'
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $errors[0].CategoryInfo.Category | Should -Be 'WriteError'
        $errors[0].TargetObject | Should -Be 'session_20260101_090000'
        $errors[0].Exception | Should -BeOfType ([TierStorage.Contracts.TierStorageException])
        $errors[0].Exception.Message | Should -Match 'run the command again'
    }

    It '-Verbose says what was skipped and why' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        $verbose = Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $verbose | Should -Contain "Backup of 'session_20260101_090000' to tier 'backup': Skipped: Tier 'backup' already holds a verified copy of every file."
    }
}
