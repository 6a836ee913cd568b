#requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester 5 tests against the assembled module (out/TierStorage), assembling it first when missing.
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
$repoRoot = Resolve-Path (Join-Path $PSScriptRoot '../..')
$manifest = Join-Path $repoRoot 'out/TierStorage/TierStorage.psd1'
if (-not (Test-Path $manifest)) {
    dotnet msbuild (Join-Path $repoRoot 'build/TierStorage.Module.proj') "-p:Configuration=$Configuration" -nologo -v:m
    if ($LASTEXITCODE -ne 0) { throw "Assembling the module failed (exit code $LASTEXITCODE)." }
}

Import-Module Pester -MinimumVersion 5.0 -ErrorAction Stop
$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $config
# One machine-readable line for .ci/run, which adds these counts to the xunit ones.
"PESTER $($result.PassedCount) $($result.FailedCount) $($result.SkippedCount)"
exit ([int]($result.FailedCount -gt 0))
