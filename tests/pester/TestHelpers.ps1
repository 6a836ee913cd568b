# Dot-sourced from each test file's BeforeAll. The module folder is assembled by
# `dotnet msbuild build/TierStorage.Module.proj` (build.ps1 and `dotnet test` both do it).
$script:ModuleManifest = if ($env:TIERSTORAGE_MODULE) { $env:TIERSTORAGE_MODULE }
                         else { Join-Path $PSScriptRoot '../../out/TierStorage/TierStorage.psd1' }

function New-TestWorkspace {
    param([string] $Name = 'ws')
    $path = Join-Path $TestDrive $Name
    Initialize-TierWorkspace -Path $path -Confirm:$false | Out-Null
    $path
}
