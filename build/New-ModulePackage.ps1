#requires -Version 7.4
<#
.SYNOPSIS
    Packs the assembled module folder (out/TierStorage) into TierStorage.<version>.nupkg with PSResourceGet.
.DESCRIPTION
    Compress-PSResource validates the manifest and writes the package PSResourceGet's Publish-PSResource -NupkgPath and
    Install-PSResource expect (the nuspec from TierStorage.psd1: version, author, tags, the exported cmdlets).
    Writes the package's full path.
.EXAMPLE
    ./build/New-ModulePackage.ps1 -DestinationPath ./out/packages
#>
[CmdletBinding()]
param(
    # The assembled module folder (its name is the package id).
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TierStorage'),

    # Where the .nupkg goes; created when missing.
    [Parameter(Mandatory)]
    [string] $DestinationPath
)

$ErrorActionPreference = 'Stop'
$module = (Resolve-Path $ModulePath).Path
$manifest = Import-PowerShellDataFile (Join-Path $module 'TierStorage.psd1')
New-Item -ItemType Directory -Force -Path $DestinationPath | Out-Null
$destination = (Resolve-Path $DestinationPath).Path
$package = Join-Path $destination "TierStorage.$($manifest.ModuleVersion).nupkg"
Remove-Item -LiteralPath $package -ErrorAction Ignore
Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
Compress-PSResource -Path $module -DestinationPath $destination
if (-not (Test-Path -LiteralPath $package)) {
    throw "Compress-PSResource wrote no $package."
}
$package
