#requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester tests against the assembled module (out/TierStorage), assembling it first when missing.
.DESCRIPTION
    Pester is the version pinned in build/Pester.proj, restored from NuGet and staged under artifacts/modules,
    which goes first on PSModulePath for this process: nothing is installed into the user's module folders.
    The last line is machine-readable for .ci/run: "PESTER <passed> <failed> <skipped>".
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Run only the test files whose name matches (for example 'Session*').
    [string[]] $Path = @('*'),

    # Pester's output verbosity.
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Verbosity = 'Normal'
)

$ErrorActionPreference = 'Stop'
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$manifest = Join-Path $repoRoot 'out/TierStorage/TierStorage.psd1'
if (-not (Test-Path $manifest)) {
    dotnet msbuild (Join-Path $repoRoot 'build/TierStorage.Module.proj') "-p:Configuration=$Configuration" -nologo -v:m
    if ($LASTEXITCODE -ne 0) { throw "Assembling the module failed (exit code $LASTEXITCODE)." }
}

$pesterVersion = ([xml](Get-Content -Raw (Join-Path $repoRoot 'build/Pester.proj'))).Project.PropertyGroup.PesterVersion | Where-Object { $_ } | Select-Object -First 1
$modules = Join-Path $repoRoot 'artifacts/modules'
if (-not (Test-Path (Join-Path $modules "Pester/$pesterVersion/Pester.psd1"))) {
    dotnet msbuild (Join-Path $repoRoot 'build/Pester.proj') -restore -t:StagePester -nologo -v:q
    if ($LASTEXITCODE -ne 0) { throw "Restoring Pester $pesterVersion from NuGet failed (exit code $LASTEXITCODE)." }
}
$env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath

# Plain text everywhere, children included: escape sequences in a failure message are not valid in the XML report.
$PSStyle.OutputRendering = 'PlainText'
$env:NO_COLOR = '1'

Import-Module Pester -RequiredVersion $pesterVersion -ErrorAction Stop
$config = New-PesterConfiguration
# `pwsh -File` passes "A,B" as one string: split it here.
$files = @(foreach ($pattern in $Path -split ',') { Get-ChildItem -Path $PSScriptRoot -Filter "$($pattern.Trim()).Tests.ps1" | ForEach-Object FullName })
if ($files.Count -eq 0) { throw "No Pester file matches $($Path -join ', ') in $PSScriptRoot." }
$config.Run.Path = $files
$config.Run.PassThru = $true
$config.Output.Verbosity = $Verbosity
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = Join-Path $repoRoot 'artifacts/pester-results.xml'
$result = Invoke-Pester -Configuration $config
"PESTER $($result.PassedCount) $($result.FailedCount) $($result.SkippedCount)"
exit ([int]($result.FailedCount -gt 0 -or $result.PassedCount -eq 0))
