#requires -Version 7.4
<#
.SYNOPSIS
    Builds TierStorage, assembles the PowerShell module folder (out/TierStorage) and runs every test: xUnit and Pester.
.DESCRIPTION
    The README's test command: `dotnet tool restore && dotnet pwsh ./build.ps1`. It needs only the .NET SDK: PowerShell
    is the dotnet tool pinned in .config/dotnet-tools.json and Pester the NuGet package pinned in build/Pester.proj.

    1. dotnet build TierStorage.sln (the test project's post-build assembles out/TierStorage through
       build/TierStorage.Module.proj, the one mechanism every route uses: the manifest, the cmdlet assembly and the
       contracts at the root, the engine and every third-party dll under Dependencies/, the help (MAML from
       build/HelpGen, about topics) under en-US/).
       Then the native Claude Code hook (src/TierStorage.Hook, NativeAOT) is published to out/hook/tierstorage-hook, and
       the native tierstorage command (src/TierStorage.Cli.Native, NativeAOT) to out/native/tierstorage.
    2. dotnet test TierStorage.sln: the engine, the CLI, the static cmdlet contract and the module layout (the S3 tests
       start the pinned s3rver from tests/s3rver, the Drive tests an in-process Drive v3 fake, the PostgreSQL catalog
       tests a private PostgreSQL 15 server from initdb and pg_ctl in a temporary directory).
    3. The Pester suite in tests/pester, in a separate PowerShell process (a binary module cannot be unloaded, so the
       tests never share a session with an older build).

    The last line counts both: "N passed, N failed[, N skipped]". The exit code is 0 only when nothing failed and
    both suites ran tests.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1

    Build, then run the xUnit and Pester tests.
.EXAMPLE
    dotnet pwsh ./build.ps1 -SkipXunit -PesterPath Add-SessionEvent, Get-Session

    Build, then run two Pester files only.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Package

    Build, run the tests, then pack the module into out/packages/TierStorage.<version>.nupkg for Publish-PSResource.
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Build and assemble only.
    [switch] $SkipTests,

    # Leave out the xUnit tests.
    [switch] $SkipXunit,

    # Leave out the Pester tests.
    [switch] $SkipPester,

    # Pester files to run (names of tests/pester/<Name>.Tests.ps1, wildcards allowed); default all.
    [string[]] $PesterPath,

    # Also pack the assembled module as a .nupkg (out/packages) that PSResourceGet can publish and install.
    [switch] $Package
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repoRoot = $PSScriptRoot

# A plain function: an advanced one would bind dotnet's "-v:m" to its own -Verbose.
function Invoke-Dotnet {
    Write-Host "dotnet $args" -ForegroundColor Cyan
    & dotnet @args
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($args[0]) failed with exit code $LASTEXITCODE."
    }
}

# This PowerShell again, as a new process: pwsh itself, or `dotnet pwsh.dll` when run as the dotnet tool.
function Get-PowerShellCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return $process, (Join-Path $PSHOME 'pwsh.dll') }
    return , $process
}

Invoke-Dotnet build (Join-Path $repoRoot 'TierStorage.sln') -c $Configuration -nologo
Invoke-Dotnet msbuild (Join-Path $repoRoot 'build/TierStorage.Module.proj') "-p:Configuration=$Configuration" -nologo '-v:m'
# The Claude Code hook compiled ahead of time for this machine (out/hook/tierstorage-hook). NativeAOT needs the platform's
# C toolchain besides the SDK (clang or gcc on Linux, the C++ build tools on Windows); without one the hook stays the
# managed `tierstorage hook`, which every route still serves, so that is a warning here and a skipped test, not a failure.
$hookDir = Join-Path $repoRoot 'out/hook'
Write-Host "dotnet publish src/TierStorage.Hook -c $Configuration -o $hookDir" -ForegroundColor Cyan
& dotnet publish (Join-Path $repoRoot 'src/TierStorage.Hook/TierStorage.Hook.csproj') -c $Configuration -o $hookDir -nologo '-v:m'
if ($LASTEXITCODE -ne 0) {
    Write-Warning "The native hook was not built (dotnet publish exited $LASTEXITCODE, output above); Claude Code hooks keep running 'tierstorage hook'."
}
# The tierstorage command compiled ahead of time (out/native/tierstorage): the same sources as the managed CLI, started in
# milliseconds with no JIT. Where NativeAOT cannot build, `dotnet out/cli/tierstorage.dll` remains the command.
$nativeDir = Join-Path $repoRoot 'out/native'
Write-Host "dotnet publish src/TierStorage.Cli.Native -c $Configuration -o $nativeDir" -ForegroundColor Cyan
& dotnet publish (Join-Path $repoRoot 'src/TierStorage.Cli.Native/TierStorage.Cli.Native.csproj') -c $Configuration -o $nativeDir -nologo '-v:m'
if ($LASTEXITCODE -ne 0) {
    Write-Warning "The native tierstorage command was not built (dotnet publish exited $LASTEXITCODE, output above); the managed build (dotnet tierstorage.dll) serves every command."
}
if ($Package) {
    $nupkg = & (Join-Path $repoRoot 'build/New-ModulePackage.ps1') -DestinationPath (Join-Path $repoRoot 'out/packages')
    Write-Host "Module package: $nupkg"
}

if ($SkipTests) {
    Write-Host 'Tests skipped (-SkipTests).'
    return
}

$counts = [ordered]@{ passed = 0; failed = 0; skipped = 0 }
$problems = [Collections.Generic.List[string]]::new()

if (-not $SkipXunit) {
    Write-Host "dotnet test TierStorage.sln -c $Configuration --no-build" -ForegroundColor Cyan
    $xunitTotal = 0
    # One summary line per test assembly: "Passed!  - Failed: 0, Passed: 120, Skipped: 0, Total: 120, ..."
    & dotnet test (Join-Path $repoRoot 'TierStorage.sln') -c $Configuration --no-build --nologo 2>&1 | ForEach-Object {
        $line = "$_"
        Write-Host $line
        if ($line -match '(Passed|Failed)! +- Failed: +(\d+), Passed: +(\d+), Skipped: +(\d+)') {
            $counts.failed += [int]$Matches[2]; $counts.passed += [int]$Matches[3]; $counts.skipped += [int]$Matches[4]
            $xunitTotal += [int]$Matches[2] + [int]$Matches[3]
        }
    }
    if ($LASTEXITCODE -ne 0) { $problems.Add("dotnet test exited $LASTEXITCODE") }
    if ($xunitTotal -eq 0) { $problems.Add('dotnet test ran no test'); $counts.failed++ }
}

if (-not $SkipPester) {
    $powershell = @(Get-PowerShellCommand)
    $runner = Join-Path $repoRoot 'tests/pester/Invoke-Pester.ps1'
    $arguments = @('-NoProfile', '-NonInteractive', '-File', $runner, '-Configuration', $Configuration)
    # Only when given: on Unix PowerShell expands a bare * in a native command's arguments into the files of the directory.
    if ($PesterPath) { $arguments += '-Path', ($PesterPath -join ',') }
    Write-Host "Pester: $runner" -ForegroundColor Cyan
    $pesterCounts = $null
    & $powershell[0] @($powershell | Select-Object -Skip 1) @arguments 2>&1 | ForEach-Object {
        $line = "$_"
        Write-Host $line
        if ($line -match '^PESTER (\d+) (\d+) (\d+)$') { $pesterCounts = $Matches }
    }
    $pesterExit = $LASTEXITCODE
    if (-not $pesterCounts -or [int]$pesterCounts[1] -eq 0) {
        $problems.Add("the Pester suite did not run (exit code $pesterExit)"); $counts.failed++
    }
    else {
        $counts.passed += [int]$pesterCounts[1]; $counts.failed += [int]$pesterCounts[2]; $counts.skipped += [int]$pesterCounts[3]
        Write-Host "Pester: $($pesterCounts[1]) passed, $($pesterCounts[2]) failed, $($pesterCounts[3]) skipped"
        if ($pesterExit -ne 0) { $problems.Add("Pester exited $pesterExit") }
    }
}

foreach ($problem in $problems) { Write-Warning $problem }
$summary = "$($counts.passed) passed, $($counts.failed) failed"
if ($counts.skipped -gt 0) { $summary += ", $($counts.skipped) skipped" }
$summary
exit ([int]($counts.failed -gt 0 -or $problems.Count -gt 0))
