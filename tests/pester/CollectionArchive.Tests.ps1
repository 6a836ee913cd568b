BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # A workspace with a folder archive tier whose collection 'notes' ($TestDrive/<name>-notes) archives every version but
    # the newest (archive_after_days: 0), with three versions of it: agents/a.md differs in each, same.txt in none.
    function New-ArchivedCollectionWorkspace {
        $name = [guid]::NewGuid().ToString('N')
        $ws = New-TestWorkspace -Name $name -WithArchive
        $source = Join-Path $TestDrive "$name-notes"
        New-Item -ItemType Directory -Path (Join-Path $source 'agents') -Force | Out-Null
        Add-Content -Path (Join-Path $ws 'tierstorage.yaml') -Value @"
collections:
  - name: notes
    path: '$source'
    archive_after_days: 0
"@
        $versions = foreach ($n in 1..3) {
            Set-Content -Path (Join-Path $source 'agents/a.md') -Value "version $n"
            Set-Content -Path (Join-Path $source 'same.txt') -Value 'the same in every version'
            (Backup-Collection notes -WorkspacePath $ws).VersionId
        }
        [pscustomobject]@{ Workspace = $ws; Source = $source; Versions = $versions }
    }
}

Describe 'Collection versions archived to the archive tier' {
    It 'shows an Archive step per old version under -WhatIf and changes nothing' {
        $c = New-ArchivedCollectionWorkspace
        $plan = Move-DataTier -WhatIf -WorkspacePath $c.Workspace | Where-Object Subject -like 'notes@*'

        $plan.Subject | Should -Be ($c.Versions[0..1] | ForEach-Object { "notes@$_" })
        $plan.Action | Sort-Object -Unique | Should -Be 'Archive'
        $plan.State | Sort-Object -Unique | Should -Be 'Planned'
        $plan.To | Sort-Object -Unique | Should -Be 'archive'
        $plan.Rule | Sort-Object -Unique | Should -Be 'collections[notes].archive_after_days = 0'
        (Get-CollectionVersion notes -WorkspacePath $c.Workspace).Tier | Sort-Object -Unique | Should -Be 'backup'
        Test-Path (Join-Path (Get-TierFolder -WorkspacePath $c.Workspace -Tier archive) 'collections') | Should -BeFalse
    }

    It 'archives them into one bundle, shows the archive tier, and restores an archived version byte for byte' {
        $c = New-ArchivedCollectionWorkspace
        $original = Get-FileHash (Join-Path $c.Source 'same.txt')

        $done = Move-DataTier -Confirm:$false -WorkspacePath $c.Workspace
        ($done | Where-Object { $_.Action -eq 'Archive' -and $_.State -eq 'Done' }).Count | Should -Be 2
        ($done | Where-Object Subject -like 'collections/contents/*').State | Should -Be 'Done'
        $bundles = Join-Path (Get-TierFolder -WorkspacePath $c.Workspace -Tier archive) 'collections/bundles'
        @(Get-ChildItem $bundles -Filter '*.tar.gz').Count | Should -Be 1
        @(Get-ChildItem $bundles -Filter '*.json').Count | Should -Be 1

        $versions = Get-CollectionVersion notes -WorkspacePath $c.Workspace
        $versions.Tier | Should -Be @('archive', 'archive', 'backup')
        $versions.Archived | Should -Be @($true, $true, $false)
        $table = $versions | Format-Table | Out-String -Width 80
        $table | Should -Match '(?m)\sarchive\s*$' -Because 'the view shows the tier of each version'
        ($table -split '\r?\n' | Where-Object Length -gt 80) | Should -BeNullOrEmpty

        Push-Location $TestDrive
        try {
            $restored = $versions[0] | Restore-Collection -Destination 'first-version' -Confirm:$false -WorkspacePath $c.Workspace
            $restored.Action | Sort-Object -Unique | Should -Be 'Restored'
            Get-Content (Join-Path $TestDrive 'first-version/agents/a.md') | Should -Be 'version 1'
            (Get-FileHash (Join-Path $TestDrive 'first-version/same.txt')).Hash | Should -Be $original.Hash
        }
        finally { Pop-Location }

        Move-DataTier -WhatIf -WorkspacePath $c.Workspace | Where-Object Subject -like 'notes@*' | Should -BeNullOrEmpty -Because 'archived versions are not archived again'
    }

    It 'refuses a corrupt bundle with an error naming it and restores nothing' {
        $c = New-ArchivedCollectionWorkspace
        Move-DataTier -Confirm:$false -WorkspacePath $c.Workspace | Out-Null
        $bundle = Get-ChildItem (Join-Path (Get-TierFolder -WorkspacePath $c.Workspace -Tier archive) 'collections/bundles') -Filter '*.tar.gz'
        $bytes = [IO.File]::ReadAllBytes($bundle.FullName)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0x40
        [IO.File]::WriteAllBytes($bundle.FullName, $bytes)
        $destination = Join-Path $TestDrive ([guid]::NewGuid())

        { Restore-Collection notes -VersionId $c.Versions[0] -Destination $destination -Confirm:$false -WorkspacePath $c.Workspace -ErrorAction Stop } |
            Should -Throw -ErrorId 'ChecksumMismatch,TierStorage.PowerShell.Commands.RestoreCollectionCommand'
        Test-Path (Join-Path $destination 'agents/a.md') | Should -BeFalse
    }
}
