BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Invoke-TierPolicy' {
    It 'does the whole nightly job and says Succeeded' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -WithArchive
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $run = Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false
        $run | Should -BeOfType ([TierStorage.Contracts.PolicyRunResult])
        $run.Status | Should -Be 'Succeeded'
        $run.Backups.Status | Should -Be 'Succeeded'
        $run.Usage.Tier | Should -Contain 'archive'
    }

    It '-WhatIf writes the plan and runs nothing' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid()) -WithArchive
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Invoke-TierPolicy -WorkspacePath $ws -WhatIf | Should -BeOfType ([TierStorage.Contracts.TierMove])
        (Get-Session -WorkspacePath $ws).State | Should -Be 'Completed'
    }

    It '-Verbose says which workspace it ran on and what it did with each session' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $verbose = Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $verbose | Should -Contain "Workspace '$ws' (given with -WorkspacePath (--workspace))."
        $verbose | Should -Contain "Backup of 'session_20260101_090000' to tier 'backup': Succeeded"
        $verbose | Should -Contain 'The policy asks for no move now.'
    }
}
