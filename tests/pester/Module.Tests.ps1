BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'TierStorage module' {
    It 'exports exactly the cmdlets of the manifest' {
        $manifest = Import-PowerShellDataFile $ModuleManifest
        (Get-Command -Module TierStorage).Name | Sort-Object |
            Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'lets scripts name contract types as literals' {
        [TierStorage.Contracts.SessionState]::Completed | Should -Be 'Completed'
    }

    It 'keeps the contracts in the default load context' {
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([TierStorage.Contracts.SessionInfo].Assembly).Name |
            Should -Be 'Default'
    }

    It 'loads the engine in its own load context, from Dependencies' {
        # The engine loads on the first cmdlet call that needs it.
        Get-TierPolicy -WorkspacePath (Join-Path $TestDrive 'none') | Out-Null
        $engine = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'TierStorage.Engine' }
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name | Should -Be 'TierStorage.Dependencies'
        $engine.Location | Should -BeLike '*Dependencies*'
    }

    It 'does not put its SQLite in the default context' {
        $sqlite = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Microsoft.Data.Sqlite' }
        foreach ($assembly in $sqlite) {
            if ($assembly.Location -like '*TierStorage*') {
                [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name | Should -Be 'TierStorage.Dependencies'
            }
        }
    }

    It 'has a default view for every output type' {
        foreach ($command in Get-Command -Module TierStorage) {
            foreach ($type in $command.OutputType.Type) {
                Get-FormatData -TypeName $type.FullName | Should -Not -BeNullOrEmpty -Because "$($command.Name) writes $($type.FullName)"
            }
        }
    }

    It 'has a table view within 80 columns for every output type' {
        # TierPolicy is one document per workspace: a list, not a row.
        $types = (Get-Command -Module TierStorage).OutputType.Type | Where-Object Name -ne 'TierPolicy' | Sort-Object FullName -Unique
        foreach ($type in $types) {
            $table = (Get-FormatData -TypeName $type.FullName).FormatViewDefinition |
                Where-Object { $_.Control -is [System.Management.Automation.TableControl] } | Select-Object -First 1
            $table | Should -Not -BeNullOrEmpty -Because "$($type.Name) needs a table view"
            $headers = $table.Control.Headers
            $table.Control.Rows[0].Columns.Count | Should -Be $headers.Count -Because "$($type.Name) has one item per header"
            # Fixed widths for every column but the last, which takes the rest of the line: at least its label's width.
            $fixed = $headers | Select-Object -SkipLast 1
            $fixed | Where-Object Width -le 0 | Should -BeNullOrEmpty -Because "$($type.Name) gives every column but the last a width"
            $last = $headers[-1]
            $lastWidth = if ($last.Width -gt 0) { $last.Width } else { $last.Label.Length }
            ($fixed | Measure-Object Width -Sum).Sum + $headers.Count - 1 + $lastWidth | Should -BeLessOrEqual 80 -Because "$($type.Name) fits 80 columns"
        }
    }

    It 'names no record property after a member PowerShell puts on arrays or dictionaries' {
        # Member enumeration loses to these: ($moves | Where-Object ...).Item would be IList.Item, not the items' values.
        $shadowed = 'Item', 'Count', 'Length', 'Keys', 'Values', 'Rank', 'SyncRoot'
        $types = [TierStorage.Contracts.SessionInfo].Assembly.GetExportedTypes() | Where-Object { $_.IsClass -and -not $_.IsGenericType -and $_.Namespace -eq 'TierStorage.Contracts' -and -not [Exception].IsAssignableFrom($_) -and -not [System.Collections.IEnumerable].IsAssignableFrom($_) }
        $clashes = foreach ($type in $types) {
            $type.GetProperties() | Where-Object Name -in $shadowed | ForEach-Object { "$($type.Name).$($_.Name)" }
        }
        $clashes | Should -BeNullOrEmpty
    }
}
