BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # A workspace of New-TestWorkspace whose policy also keeps the folder $TestDrive/<name>-configs as collection 'configs'.
    function New-CollectionWorkspace {
        param([string] $Schedule = 'daily', [string] $Extra = '')
        $name = [guid]::NewGuid().ToString('N')
        $ws = New-TestWorkspace -Name $name
        $source = Join-Path $TestDrive "$name-configs"
        New-Item -ItemType Directory -Path (Join-Path $source 'agents'), (Join-Path $source 'node_modules/pkg') -Force | Out-Null
        Set-Content -Path (Join-Path $source 'settings.json') -Value '{"theme":"dark"}'
        Set-Content -Path (Join-Path $source 'agents/reviewer.md') -Value '# reviewer'
        Set-Content -Path (Join-Path $source 'node_modules/pkg/index.js') -Value 'module.exports = 1'
        Add-Content -Path (Join-Path $ws 'tierstorage.yaml') -Value @"
collections:
  - name: configs
    path: '$source'
    schedule: '$Schedule'
$Extra
"@
        [pscustomobject]@{ Workspace = $ws; Source = $source }
    }
}

Describe 'Collections' {
    It 'backs up a due collection, then only a manifest when nothing changed, and lists both versions' {
        $c = New-CollectionWorkspace
        $first = Backup-Collection -WorkspacePath $c.Workspace
        $first.Status | Should -Be 'Succeeded'
        $first.FileCount | Should -Be 2
        $first.ContentsUploaded | Should -Be 2

        Backup-Collection -WorkspacePath $c.Workspace | Should -BeNullOrEmpty -Because 'the daily collection is not due again today'
        $second = Backup-Collection configs -WorkspacePath $c.Workspace
        $second.ContentsUploaded | Should -Be 0
        $second.FilesHashed | Should -Be 0

        $versions = Get-CollectionVersion -WorkspacePath $c.Workspace
        $versions.Count | Should -Be 2
        $versions.VersionId | Should -Be @($first.VersionId, $second.VersionId)
        (Get-CollectionVersion -Latest -WorkspacePath $c.Workspace).VersionId | Should -Be $second.VersionId
    }

    It 'takes collection names from the pipeline by property name and -WhatIf backs up nothing' {
        $c = New-CollectionWorkspace
        [pscustomobject]@{ Collection = 'configs' } | Backup-Collection -WhatIf -WorkspacePath $c.Workspace | Should -BeNullOrEmpty
        Get-CollectionVersion -WorkspacePath $c.Workspace | Should -BeNullOrEmpty
        [pscustomobject]@{ Collection = 'configs' } | Backup-Collection -WorkspacePath $c.Workspace | Select-Object -ExpandProperty Collection | Should -Be 'configs'
    }

    It 'reports an unknown name by name and still backs up the others' {
        $c = New-CollectionWorkspace
        $results = Backup-Collection nope, configs -WorkspacePath $c.Workspace -ErrorVariable errors -ErrorAction SilentlyContinue
        $results.Collection | Should -Be 'configs'
        $errors[0].FullyQualifiedErrorId | Should -Be 'CollectionNotFound,TierStorage.PowerShell.Commands.BackupCollectionCommand'
        $errors[0].TargetObject | Should -Be 'nope'
    }

    It 'compares the folder with its newest version, and two versions piped from Get-CollectionVersion' {
        $c = New-CollectionWorkspace
        Backup-Collection -WorkspacePath $c.Workspace | Out-Null
        Set-Content -Path (Join-Path $c.Source 'settings.json') -Value '{"theme":"light"}'
        Set-Content -Path (Join-Path $c.Source 'new.txt') -Value 'new'
        Remove-Item (Join-Path $c.Source 'agents/reviewer.md')

        $changes = Compare-CollectionVersion configs -WorkspacePath $c.Workspace
        $changes | ForEach-Object { "$($_.Change) $($_.Path)" } | Should -Be @('Removed agents/reviewer.md', 'Added new.txt', 'Changed settings.json')

        Backup-Collection configs -WorkspacePath $c.Workspace | Out-Null
        $between = Get-CollectionVersion configs -WorkspacePath $c.Workspace | Select-Object -First 1 |
            Compare-CollectionVersion -DifferenceVersion latest -WorkspacePath $c.Workspace
        $between.Count | Should -Be 3
    }

    It 'restores byte for byte into -Destination relative to the current location, and again as Identical' {
        $c = New-CollectionWorkspace
        Backup-Collection -WorkspacePath $c.Workspace | Out-Null
        Push-Location $TestDrive
        try {
            $restored = Restore-Collection configs -Destination 'restored-here' -WorkspacePath $c.Workspace
            $restored.Action | Sort-Object -Unique | Should -Be 'Restored'
            Get-FileHash (Join-Path $TestDrive 'restored-here/settings.json') | Select-Object -ExpandProperty Hash |
                Should -Be (Get-FileHash (Join-Path $c.Source 'settings.json')).Hash
            Test-Path (Join-Path $TestDrive 'restored-here/node_modules') | Should -BeFalse
            (Restore-Collection configs -Destination 'restored-here' -WorkspacePath $c.Workspace).Action | Sort-Object -Unique | Should -Be 'Identical'
        }
        finally { Pop-Location }
    }

    It 'keeps a newer local file unless -Force, and restores only the files matching -Path' {
        $c = New-CollectionWorkspace
        Backup-Collection -WorkspacePath $c.Workspace | Out-Null
        Set-Content -Path (Join-Path $c.Source 'settings.json') -Value 'edited later'

        $kept = Restore-Collection configs -Path 'settings.json' -WorkspacePath $c.Workspace
        $kept.Action | Should -Be 'SkippedNewer'
        Get-Content (Join-Path $c.Source 'settings.json') | Should -Be 'edited later'

        $forced = Restore-Collection configs -Path '*.json' -Force -Confirm:$false -WorkspacePath $c.Workspace
        @($forced).Count | Should -Be 1
        Get-Content (Join-Path $c.Source 'settings.json') | Should -Be '{"theme":"dark"}'
    }

    It 'reports an unknown collection as CollectionNotFound and a missing version as CollectionVersionNotFound' {
        $c = New-CollectionWorkspace
        { Restore-Collection nope -WorkspacePath $c.Workspace -ErrorAction Stop } |
            Should -Throw -ErrorId 'CollectionNotFound,TierStorage.PowerShell.Commands.RestoreCollectionCommand'
        { Restore-Collection configs -WorkspacePath $c.Workspace -ErrorAction Stop } |
            Should -Throw -ErrorId 'CollectionVersionNotFound,TierStorage.PowerShell.Commands.RestoreCollectionCommand'
        Backup-Collection -WorkspacePath $c.Workspace | Out-Null
        { Restore-Collection configs -VersionId 19990101 -WorkspacePath $c.Workspace -ErrorAction Stop } |
            Should -Throw -ErrorId 'CollectionVersionNotFound,TierStorage.PowerShell.Commands.RestoreCollectionCommand'
    }

    It 'puts the keep rules into Move-DataTier: -WhatIf lists the versions, -Confirm:$false deletes them and their contents' {
        $c = New-CollectionWorkspace
        (Get-Content -Raw (Join-Path $c.Workspace 'tierstorage.yaml')) -replace "schedule: 'daily'", "schedule: 'daily'`n    keep: { last: 1 }" |
            Set-Content (Join-Path $c.Workspace 'tierstorage.yaml')
        1..3 | ForEach-Object {
            Set-Content -Path (Join-Path $c.Source 'settings.json') -Value "{`"n`":$_}"
            Backup-Collection configs -WorkspacePath $c.Workspace | Out-Null
        }
        $newest = (Get-CollectionVersion -Latest -WorkspacePath $c.Workspace).VersionId

        $plan = Move-DataTier -WhatIf -WorkspacePath $c.Workspace | Where-Object Subject -like 'configs@*'
        $plan.Count | Should -Be 2
        $plan.State | Sort-Object -Unique | Should -Be 'Planned'
        (Get-CollectionVersion -WorkspacePath $c.Workspace).Count | Should -Be 3

        $done = Move-DataTier -Confirm:$false -WorkspacePath $c.Workspace
        ($done | Where-Object { $_.Subject -like 'configs@*' -and $_.State -eq 'Done' }).Count | Should -Be 2
        ($done | Where-Object Subject -like 'collections/contents/*').State | Should -Be 'Done'
        (Get-CollectionVersion -WorkspacePath $c.Workspace).VersionId | Should -Be $newest
        $restored = Restore-Collection configs -Destination (Join-Path $TestDrive "$([guid]::NewGuid())") -WorkspacePath $c.Workspace
        $restored.Action | Sort-Object -Unique | Should -Be 'Restored'
    }

    It 'shows folder sizes, the largest files and what the excludes leave out' {
        $c = New-CollectionWorkspace
        Set-Content -Path (Join-Path $c.Source 'agents/big.md') -Value ('x' * 5000)
        $usage = Get-CollectionUsage configs -Depth 1 -Largest 1 -WorkspacePath $c.Workspace
        ($usage | Where-Object { $_.Kind -eq 'Folder' -and $_.Path -eq '.' }).FileCount | Should -Be 3
        ($usage | Where-Object { $_.Kind -eq 'Folder' -and $_.Path -eq 'agents' }).FileCount | Should -Be 2
        ($usage | Where-Object Kind -eq 'LargestFile').Path | Should -Be 'agents/big.md'
        ($usage | Where-Object Kind -eq 'Excluded').Path | Should -Be 'node_modules'
        $usage | Out-String -Width 80 | Should -Match 'Excluded\s+\d+ B\s+1 node_modules'
    }

    It 'completes collection names from the policy' {
        $c = New-CollectionWorkspace
        $line = "Backup-Collection -WorkspacePath '$($c.Workspace)' -Collection con"
        $completions = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completions.CompletionMatches.CompletionText | Should -Contain 'configs'
    }

    It 'shows versions in a table a narrow console can read' {
        $c = New-CollectionWorkspace
        Backup-Collection -WorkspacePath $c.Workspace | Out-Null
        $text = Get-CollectionVersion -WorkspacePath $c.Workspace | Out-String -Width 80
        $text | Should -Match 'Collection\s+VersionId\s+Created\s+Files\s+Size'
        $text | Should -Match 'configs\s+\d{8}T\d{9}Z-[0-9a-f]{8}'
    }

    It 'cleans up old files only once a version holds them: usage, Move-DataTier -WhatIf, then Invoke-TierPolicy' {
        $c = New-CollectionWorkspace -Extra @"
    cleanup:
      - { include: ['*.md'], older_than_days: 30 }
"@
        $old = Join-Path $c.Source 'agents/reviewer.md'
        (Get-Item $old).LastWriteTime = (Get-Date).AddDays(-45)

        $held = Get-CollectionUsage configs -WorkspacePath $c.Workspace | Where-Object Kind -eq 'CleanupHeld'
        $held.FileCount | Should -Be 1 -Because 'no version holds the file yet'
        Move-DataTier -WhatIf -WorkspacePath $c.Workspace | Should -BeNullOrEmpty

        $plan = Invoke-TierPolicy -WhatIf -WorkspacePath $c.Workspace
        ($plan | Where-Object Action -eq 'Copy').Subject | Should -Be 'configs'
        Test-Path $old | Should -BeTrue

        $run = Invoke-TierPolicy -WorkspacePath $c.Workspace -WarningAction SilentlyContinue
        $run.Status | Should -Be 'Succeeded'
        $run.Collections.Status | Should -Be 'Succeeded'
        ($run.Moves | Where-Object DataClass -eq 'cleanup').Subject | Should -Be 'configs:agents/reviewer.md'
        Test-Path $old | Should -BeFalse
        Test-Path (Join-Path $c.Source 'settings.json') | Should -BeTrue

        Restore-Collection configs -Path 'agents/*' -WorkspacePath $c.Workspace | Select-Object -ExpandProperty Action | Should -Be 'Restored'
        Get-Content $old | Should -Be '# reviewer'
    }

    It 'asks before each clean-up delete and -WhatIf deletes nothing' {
        $c = New-CollectionWorkspace -Extra @"
    cleanup:
      - { include: ['node_modules/**'], older_than_days: 1, require_backup: false }
"@
        $cache = Join-Path $c.Source 'node_modules/pkg/index.js'
        (Get-Item $cache).LastWriteTime = (Get-Date).AddDays(-3)
        $usage = Get-CollectionUsage configs -WorkspacePath $c.Workspace | Where-Object Kind -eq 'Cleanup'
        $usage.FileCount | Should -Be 1
        $usage | Out-String -Width 80 | Should -Match 'Cleanup\s+\d+ B\s+1 cleanup\[0\]'

        $planned = Move-DataTier -WhatIf -WorkspacePath $c.Workspace
        $planned.State | Should -Be 'Planned'
        $planned.Subject | Should -Be 'configs:node_modules/pkg/index.js'
        Test-Path $cache | Should -BeTrue
        $done = Move-DataTier -Confirm:$false -WorkspacePath $c.Workspace
        $done.State | Should -Be 'Done'
        Test-Path $cache | Should -BeFalse
    }

    It 'refuses a time limit that is not longer than zero' {
        $c = New-CollectionWorkspace
        { Invoke-TierPolicy -TimeLimit 0 -WorkspacePath $c.Workspace -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTimeLimit,TierStorage.PowerShell.Commands.InvokeTierPolicyCommand'
    }
}
