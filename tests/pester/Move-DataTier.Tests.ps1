BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Move-DataTier' {
    BeforeEach {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid()) -LocalSessions 1 -WithArchive
        foreach ($phase in 0..3) {
            New-CompletedSession -WorkspacePath $ws -SessionId "session_2026010$($phase)_090000" -Phase $phase | Out-Null
        }
    }

    It '-WhatIf prints the plan and changes nothing' {
        $plan = Move-DataTier -WorkspacePath $ws -WhatIf
        $plan | Should -BeOfType ([TierStorage.Contracts.TierMove])
        $plan.State | Should -Not -Contain 'Done'
        ($plan | Where-Object Action -eq Copy).Count | Should -Be 4
        # Member enumeration reaches each step's Subject (a property named Item would return IList.Item instead).
        ($plan | Where-Object Action -eq Copy).Subject | Should -Be @(0..3 | ForEach-Object { "session_2026010$($_)_090000" })
        (Get-Session -WorkspacePath $ws).State | Should -Not -Contain 'BackedUp'
    }

    It 'runs the plan: sessions backed up, the two old phases archived' {
        $done = Move-DataTier -WorkspacePath $ws -Confirm:$false
        $done.State | Should -Not -Contain 'Failed'
        ($done | Where-Object Action -eq Archive).Subject | Should -Be @('Phase_0', 'Phase_1')
        Join-Path (Get-TierFolder -WorkspacePath $ws -Tier archive) 'Phase_0.tar.gz' | Should -Exist
        Move-DataTier -WorkspacePath $ws -Confirm:$false | Should -BeNullOrEmpty
    }

    It '-Verbose says which workspace and policy were opened and which rule asked for each move' {
        $verbose = Move-DataTier -WorkspacePath $ws -Confirm:$false -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $verbose | Should -Contain "Workspace '$ws' (given with -WorkspacePath (--workspace))."
        $verbose | Should -Contain "Policy '$(Join-Path $ws 'tierstorage.yaml')' (the workspace's policy)."
        $verbose | Should -Contain "Copy session 'session_20260100_090000' from 'local' to 'backup': asked for by rule 'completed session not yet on backup'."
        ($verbose | Where-Object { $_ -like "Archive phase 0 from 'backup' to 'archive': asked for by rule '*'." }) | Should -Not -BeNullOrEmpty
    }

    It 'debug output gives the catalog, its schema version and the tier roots (any workspace cmdlet)' {
        # -Debug on a compiled cmdlet asks before each message (Inquire); the preference variable is how a script collects them.
        $DebugPreference = 'Continue'
        $debug = Get-TierUsage -WorkspacePath $ws 5>&1 |
            Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object Message
        $debug | Should -Contain "Tier 'backup': level 2 (Backup), Folder, root '$(Get-TierFolder -WorkspacePath $ws)'."
        ($debug | Where-Object { $_ -like "Catalog '$(Join-Path $ws 'analytics/agent_metrics.db')', schema version *." }) | Should -Not -BeNullOrEmpty
    }
}
