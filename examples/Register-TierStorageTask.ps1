#Requires -Version 7.4
<#
.SYNOPSIS
    Registers the nightly policy run (Invoke-TierPolicy) as a Windows scheduled task for the current user.
.DESCRIPTION
    The task starts PowerShell 7 without a profile, imports the TierStorage module and runs Invoke-TierPolicy on the
    workspace; its exit code (0 ok, 1 a step failed or a tier is critical, 5 a tier was unreachable or another run was
    still going) shows as the task's "Last Run Result". Runs never overlap: Invoke-TierPolicy takes a per-workspace lock.
.EXAMPLE
    ./Register-TierStorageTask.ps1 -WorkspacePath C:\src\myproject\.tierstorage -At 02:30
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $WorkspacePath,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TierStorage/TierStorage.psd1'),
    [datetime] $At = '02:30',
    [string] $TaskName = 'TierStorage policy run'
)

$workspace = (Resolve-Path $WorkspacePath).Path
$module = (Resolve-Path $ModulePath).Path
$pwsh = (Get-Process -Id $PID).Path
$command = "Import-Module '$($module -replace "'", "''")'; " +
           "`$r = Invoke-TierPolicy -WorkspacePath '$($workspace -replace "'", "''")' -Confirm:`$false; " +
           "exit $(if (`$r.Status -eq 'Succeeded') { 0 } elseif (`$r.Status -eq 'Failed') { 1 } else { 5 })"
$action = New-ScheduledTaskAction -Execute $pwsh -Argument "-NoProfile -NonInteractive -Command `"$command`""
$trigger = New-ScheduledTaskTrigger -Daily -At $At
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Hours 4)
if ($PSCmdlet.ShouldProcess($TaskName, "Register a daily run at $($At.ToString('HH:mm')) for $workspace")) {
    Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings -Force
}
