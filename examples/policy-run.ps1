#Requires -Version 7.4
<#
.SYNOPSIS
    The README's main job in PowerShell: the nightly policy run on the embedded default policy over a sample project.
.DESCRIPTION
    Builds a sample project (./tierstorage-sample-project, or -ProjectPath) whose workspace is the default
    ./.tierstorage: eight sessions in four phases (0 "setup" .. 3 "polish") recorded with the cmdlets from the files in
    examples/, completed without their backups. Invoke-TierPolicy, the scheduled job, then backs every session up
    (packaged, uploaded, verified), archives the two phases older than retention.backup_phases (2) into one tar.gz each,
    removes what the policy no longer keeps on each tier (only once another tier holds a verified copy) and reports
    usage. The script then checks the backups, reviews phase 1 and runs the policy a second time, which finds nothing
    to do. The tiers are folders under $env:TIERSTORAGE_DATA (default ~/.local/share/TierStorage, or
    %LOCALAPPDATA%\TierStorage on Windows): no cloud account is needed.

    Exits 0 when both runs succeeded and every backup checks out, 1 otherwise.
.EXAMPLE
    dotnet tool restore; dotnet pwsh examples/policy-run.ps1

    Run from the repository: builds the module when out/TierStorage is missing, then the sample and the runs.
.EXAMPLE
    dotnet pwsh -NoProfile -WorkingDirectory ~/scratch -File examples/policy-run.ps1

    The same with the sample project under ~/scratch.
#>
[CmdletBinding()]
param(
    # The sample project folder; its workspace is <ProjectPath>/.tierstorage.
    [string] $ProjectPath = 'tierstorage-sample-project'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repo = Split-Path -Parent $PSScriptRoot
$manifest = Join-Path $repo 'out/TierStorage/TierStorage.psd1'
if (-not (Test-Path $manifest)) {
    Write-Host "Building the module into $(Split-Path $manifest) ..."
    dotnet build (Join-Path $repo 'src/TierStorage.PowerShell') -c Release -nologo -v q | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "dotnet build failed (exit code $LASTEXITCODE)." }
    dotnet msbuild (Join-Path $repo 'build/TierStorage.Module.proj') -p:Configuration=Release -nologo -v:q | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "Assembling the module failed (exit code $LASTEXITCODE)." }
}
Import-Module $manifest

New-Item -ItemType Directory -Force -Path $ProjectPath | Out-Null
Push-Location $ProjectPath
try {
    # Every cmdlet below works on ./.tierstorage, resolved against this location.
    if (-not (Test-Path .tierstorage/tierstorage.yaml)) {
        Initialize-TierWorkspace | Out-Null
        $names = 'setup', 'build', 'review', 'polish'
        foreach ($phase in 0..3) {
            Start-Phase $phase -Name $names[$phase] -Confirm:$false | Out-Null
            foreach ($hour in '09', '14') {
                Start-Session -SessionId "session_2026110$($phase)_$($hour)0000" | Out-Null
                Get-Content (Join-Path $PSScriptRoot 'sample-events.jsonl') | Add-SessionEvent
                Save-SessionSnapshot -Path (Join-Path $PSScriptRoot 'sample-snapshot.json') | Out-Null
                Complete-Session -NoBackup | Out-Null
            }
            Write-Host "sample: phase $phase ($($names[$phase])): 2 sessions recorded"
        }
    }

    Write-Host '== Invoke-TierPolicy'
    $run = Invoke-TierPolicy -Confirm:$false
    $run | Format-List Status, Duration, Alerts | Out-Host
    $run.Moves | Format-Table | Out-Host

    Write-Host '== Get-Session'
    Get-Session | Format-Table | Out-Host

    Write-Host '== Get-TierUsage | Where-Object Status -ne Healthy (nothing listed: every tier is healthy)'
    Get-TierUsage | Where-Object Status -ne Healthy | Format-Table | Out-Host

    Write-Host '== Test-Backup | Where-Object Status -ne Ok | Backup-Session (mends whatever is missing; nothing here)'
    $problems = @(Test-Backup | Where-Object Status -ne Ok)
    $problems | Backup-Session -Confirm:$false | Format-Table | Out-Host

    Write-Host '== Get-Phase 1 | Invoke-PhaseReview (archived by the run; its events are still in the catalog)'
    $review = Get-Phase 1 | Invoke-PhaseReview -Confirm:$false
    $review | Format-List Phase, PhaseName, Sessions, EventCount, ExecutiveSummary | Out-Host
    $review | Select-Object -ExpandProperty Recommendations | Out-Host

    Write-Host '== a second run has nothing left to do'
    $second = Invoke-TierPolicy -Confirm:$false
    "Status $($second.Status): $(@($second.Backups).Count) backups, $(@($second.Moves).Count) moves"

    $ok = $run.Status -eq 'Succeeded' -and $second.Status -eq 'Succeeded' -and $problems.Count -eq 0
    if (-not $ok) { Write-Warning 'The nightly run did not succeed: see the alerts above.' }
    exit ([int](-not $ok))
}
finally {
    Pop-Location
}
