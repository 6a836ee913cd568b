#Requires -Version 7.4
<#
.SYNOPSIS
    Registers the nightly policy run (Invoke-TierPolicy) as a Windows scheduled task for the current user.
.DESCRIPTION
    The task starts PowerShell 7 without a profile, imports the TierStorage module and runs Invoke-TierPolicy on the
    workspace; its exit code shows as the task's "Last Run Result":
      0  the run succeeded (alerts that queued nothing included)
      1  a step failed, a tier is critical, or the run could not start (module, workspace or policy missing or invalid)
      5  a tier was unreachable (work queued) or another run was still going
    The exit code is computed when the task runs, from that run's result. Runs never overlap: Invoke-TierPolicy takes a
    per-workspace lock.
    -ActionOnly returns the action (program, arguments and the PowerShell command) without registering anything, to
    review it or to run it by hand on any platform.
.EXAMPLE
    ./Register-TierStorageTask.ps1 -WorkspacePath C:\src\myproject\.tierstorage -At 02:30
.EXAMPLE
    ./Register-TierStorageTask.ps1 -WorkspacePath ./.tierstorage -ActionOnly | Format-List
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $WorkspacePath,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TierStorage/TierStorage.psd1'),
    [datetime] $At = '02:30',
    [string] $TaskName = 'TierStorage policy run',
    # Return the task's action (Execute, Argument, Command) instead of registering the task.
    [switch] $ActionOnly
)

# The command runs in the task's own PowerShell, so every $ in it is evaluated then, never here: it is a single-quoted
# template whose only substitutions are the two quoted paths. It holds no double quote, so it survives the
# -Command "..." quoting of the task's argument line.
function New-TierStorageTaskAction {
    param([string] $Workspace, [string] $Module)
    $quote = { param($text) "'" + ($text -replace "'", "''") + "'" }
    $command = ('try { Import-Module {module} -ErrorAction Stop; ' +
        '$run = Invoke-TierPolicy -WorkspacePath {workspace} -Confirm:$false -ErrorVariable failures | Select-Object -Last 1 } ' +
        'catch { [Console]::Error.WriteLine($_.ToString()); if ($_.FullyQualifiedErrorId -like ''PolicyRunInProgress,*'') { exit 5 }; exit 1 }; ' +
        'if ($null -eq $run -or $run.Status -eq ''Failed'' -or $failures) { exit 1 }; ' +
        'if ($run.Status -eq ''AlreadyRunning'' -or @($run.Backups | Where-Object Status -eq ''Queued'').Count -gt 0) { exit 5 }; ' +
        'exit 0').Replace('{module}', (& $quote $Module)).Replace('{workspace}', (& $quote $Workspace))
    # The PowerShell that runs this script (pwsh.exe from an installed PowerShell, the apphost of the dotnet tool);
    # the process itself may be 'dotnet' when PowerShell runs as a dotnet tool.
    $pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
    if (-not (Test-Path $pwsh)) { $pwsh = (Get-Process -Id $PID).Path }
    [pscustomobject]@{
        Execute  = $pwsh
        Argument = "-NoProfile -NonInteractive -Command `"$command`""
        Command  = $command
    }
}

$workspace = (Resolve-Path $WorkspacePath).Path
$module = (Resolve-Path $ModulePath).Path
$taskAction = New-TierStorageTaskAction -Workspace $workspace -Module $module
if ($ActionOnly) {
    return $taskAction
}

$action = New-ScheduledTaskAction -Execute $taskAction.Execute -Argument $taskAction.Argument
$trigger = New-ScheduledTaskTrigger -Daily -At $At
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Hours 4)
if ($PSCmdlet.ShouldProcess($TaskName, "Register a daily run at $($At.ToString('HH:mm')) for $workspace")) {
    Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings -Force
}
