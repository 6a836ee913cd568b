#requires -Version 7.4
<#
.SYNOPSIS
    Builds TierStorage, assembles the PowerShell module folder (out/TierStorage) and runs the tests.
.DESCRIPTION
    The module folder is assembled by build/TierStorage.Module.proj, the same target `dotnet test` and .ci/run use,
    so every route produces the same layout: the manifest, the cmdlet assembly and the contracts at the root,
    the engine and every third-party dll under Dependencies/, the help (MAML from build/HelpGen, about topics) under en-US/.
.EXAMPLE
    ./build.ps1 -Pester
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Build and assemble only.
    [switch] $SkipTests,

    # Also run the Pester 5 tests in tests/pester.
    [switch] $Pester
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repoRoot = $PSScriptRoot

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    Write-Host "dotnet $Arguments" -ForegroundColor Cyan
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($Arguments[0]) failed with exit code $LASTEXITCODE."
    }
}

Invoke-Dotnet build (Join-Path $repoRoot 'TierStorage.sln') -c $Configuration -nologo
Invoke-Dotnet msbuild (Join-Path $repoRoot 'build/TierStorage.Module.proj') "-p:Configuration=$Configuration" -nologo -v:m

if ($SkipTests) {
    Write-Host 'Tests skipped (-SkipTests).'
    return
}

Invoke-Dotnet test (Join-Path $repoRoot 'TierStorage.sln') -c $Configuration --no-build --nologo

if (-not $Pester) {
    Write-Host 'Pester tests skipped: run ./build.ps1 -Pester to include them.'
    return
}

$pesterModule = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
if (-not $pesterModule) {
    Write-Warning 'Pester tests skipped: Pester 5 is not installed (Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser).'
    return
}

# A separate pwsh: the binary module cannot be unloaded, so tests must not share a session with an older build.
& (Get-Process -Id $PID).Path -NoProfile -Command "Import-Module Pester -RequiredVersion $($pesterModule.Version); & '$(Join-Path $repoRoot 'tests/pester/Invoke-Pester.ps1')' -Configuration $Configuration"
if ($LASTEXITCODE -ne 0) {
    throw "Pester reported failures (exit code $LASTEXITCODE)."
}
