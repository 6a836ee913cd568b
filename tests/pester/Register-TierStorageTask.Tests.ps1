BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
    $script:RegisterScript = Join-Path $PSScriptRoot '../../examples/Register-TierStorageTask.ps1'

    # Runs the scheduled task's action as Task Scheduler would: the program with the argument line, in a new process.
    function Invoke-TaskAction {
        param($Action)
        $start = [System.Diagnostics.ProcessStartInfo]::new($Action.Execute, $Action.Argument)
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($start)
        $stderr = $process.StandardError.ReadToEndAsync()
        $null = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Stderr = $stderr.Result }
    }
}

# examples/Register-TierStorageTask.ps1: the registered action must hand the run's exit code to Task Scheduler.
Describe 'Register-TierStorageTask.ps1' {
    It 'returns the action with -ActionOnly, computing the exit code when the task runs, not when it is registered' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $action = & $RegisterScript -WorkspacePath $ws -ModulePath $ModuleManifest -ActionOnly
        $action.Execute | Should -Exist
        $action.Argument | Should -BeLike '-NoProfile -NonInteractive -Command "*"'
        $action.Command | Should -Match ([regex]::Escape('$run.Status'))
        $action.Command | Should -Not -Match '"'
    }

    It 'exits 0 when the run succeeds' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $run = Invoke-TaskAction (& $RegisterScript -WorkspacePath $ws -ModulePath $ModuleManifest -ActionOnly)
        $run.ExitCode | Should -Be 0 -Because $run.Stderr
    }

    It 'exits 1 when a backup of the run fails' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Phase 0 -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' -Phase 0 | Out-Null
        $folder = Get-TierFolder -WorkspacePath $ws
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        Set-Content -Path "$folder/Phase_0" -Value 'a file where the phase folder belongs'
        $run = Invoke-TaskAction (& $RegisterScript -WorkspacePath $ws -ModulePath $ModuleManifest -ActionOnly)
        $run.ExitCode | Should -Be 1
    }

    It 'exits 5 when the run queued a backup because the tier is not connected' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Set-Content -Path (Join-Path $TestDrive 'unmounted') -Value 'a file where the mount point should be'
        (Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw) -replace [regex]::Escape("$ws-backup"), (Join-Path $TestDrive 'unmounted/tier') |
            Set-Content (Join-Path $ws 'tierstorage.yaml')
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $run = Invoke-TaskAction (& $RegisterScript -WorkspacePath $ws -ModulePath $ModuleManifest -ActionOnly)
        $run.ExitCode | Should -Be 5
    }

    It 'exits 1 when the run cannot start (an invalid policy)' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Set-Content -Path (Join-Path $ws 'tierstorage.yaml') -Value 'version: [not a policy'
        $run = Invoke-TaskAction (& $RegisterScript -WorkspacePath $ws -ModulePath $ModuleManifest -ActionOnly)
        $run.ExitCode | Should -Be 1
        $run.Stderr | Should -Not -BeNullOrEmpty
    }
}
