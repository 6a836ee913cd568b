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
}
