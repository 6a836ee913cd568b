BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Get-TierUsage' {
    It 'reports every tier with a status, and pipes a tier into Test-TierConnection' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -WithArchive
        $usage = Get-TierUsage -WorkspacePath $ws
        $usage | Should -BeOfType ([TierStorage.Contracts.TierUsage])
        $usage.Tier | Should -Be @('local', 'backup', 'archive')
        $usage.Status | Should -Not -Contain ([TierStorage.Contracts.TierHealth]::Critical)
        (Get-TierUsage -Tier backup -WorkspacePath $ws | Test-TierConnection -WorkspacePath $ws).Succeeded | Should -Not -Contain $false
    }

    It 'reports a folder tier whose folder is gone (a share not connected) as Unavailable, and Test-TierConnection creates nothing' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Backup-Session -SessionId 'session_20260101_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
        Remove-Item -Recurse -Force "$ws-backup"

        $usage = Get-TierUsage -Tier backup -WorkspacePath $ws
        $usage.Status | Should -Be ([TierStorage.Contracts.TierHealth]::Unavailable)
        (Get-TierUsage -WorkspacePath $ws | Where-Object Status -ne Healthy).Tier | Should -Be 'backup'
        $steps = Get-TierUsage -Tier backup -WorkspacePath $ws | Test-TierConnection -WorkspacePath $ws
        $steps.Step | Should -Be 'Reach'
        $steps.Succeeded | Should -BeFalse
        "$ws-backup" | Should -Not -Exist
    }

    It 'reports a folder tier under a parent that is not there as Unavailable' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Set-Content -Path (Join-Path $TestDrive 'not-a-mount-point') -Value 'a file'
        (Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw) -replace [regex]::Escape("$ws-backup"), (Join-Path $TestDrive 'not-a-mount-point/tier') |
            Set-Content (Join-Path $ws 'tierstorage.yaml')
        (Get-TierUsage -Tier backup -WorkspacePath $ws).Status | Should -Be ([TierStorage.Contracts.TierHealth]::Unavailable)
    }
}
