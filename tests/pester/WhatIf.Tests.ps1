BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # Every file under the workspace and its tiers, with its content hash, plus what the catalog says. The catalog's
    # SQLite files are left out of the file list (opening a database may touch its -wal/-shm files); their content is
    # compared through the cmdlets instead.
    function Get-WorkspaceFingerprint([string] $Root, [string] $WorkspacePath) {
        $files = Get-ChildItem -Path $Root -Recurse -File -Force |
            Where-Object { $_.FullName -notmatch '[\\/]analytics[\\/]agent_metrics\.db' -and $_.Name -notlike '*.lock' } |
            ForEach-Object { '{0} {1}' -f $_.FullName.Substring($Root.Length), (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash }
        $sessions = Get-Session -WorkspacePath $WorkspacePath | ForEach-Object {
            '{0} {1} {2}' -f $_.SessionId, $_.State, @(Get-SessionEvent -SessionId $_.SessionId -WorkspacePath $WorkspacePath).Count
        }
        $phases = Get-Phase -WorkspacePath $WorkspacePath | ForEach-Object { '{0} {1}' -f $_.Phase, $_.Reviewed }
        @($files | Sort-Object) + @($sessions) + @($phases)
    }
}

# One case per state-changing cmdlet: -WhatIf writes what it would do and changes nothing on disk, on any tier, or in
# the catalog. The workspace has an active session, completed ones (one backed up) and an archived phase to act on.
Describe '<Command> -WhatIf changes nothing' -ForEach @(
    @{ Command = 'Initialize-TierWorkspace'; Arguments = @{ Path = 'new-workspace' }; NoWorkspace = $true }
    @{ Command = 'Start-Session'; Arguments = @{ Phase = 3; CompleteActive = $true } }
    @{ Command = 'Add-SessionEvent'; Arguments = @{ Type = 'tool_call'; Tool = 'Read' } }
    @{ Command = 'Save-SessionSnapshot'; Arguments = @{ Json = '{"step":1}' } }
    @{ Command = 'Complete-Session'; Arguments = @{ Wait = $true } }
    @{ Command = 'Backup-Session'; Arguments = @{} }
    @{ Command = 'Sync-BackupQueue'; Arguments = @{} }
    @{ Command = 'Restore-Session'; Arguments = @{ SessionId = 'session_20260102_090000'; Destination = 'restored' } }
    @{ Command = 'Restore-Phase'; Arguments = @{ Phase = 0; Destination = 'restored-phase' } }
    @{ Command = 'Update-TierCatalog'; Arguments = @{ FromTier = 'backup' } }
    @{ Command = 'Start-Phase'; Arguments = @{ Number = 4; Name = 'next' } }
    @{ Command = 'Invoke-PhaseReview'; Arguments = @{ Phase = 2 } }
    @{ Command = 'Move-DataTier'; Arguments = @{} }
    @{ Command = 'Invoke-TierPolicy'; Arguments = @{} }
    @{ Command = 'Import-ClaudeSession'; Arguments = @{ Path = 'transcript.jsonl'; Complete = $true } }
) {
    BeforeAll {
        $script:Root = Join-Path $TestDrive ([guid]::NewGuid())
        New-Item -ItemType Directory -Path $Root | Out-Null
        $script:ws = Join-Path $Root 'ws'
        New-TestWorkspace -Name "$(Split-Path $Root -Leaf)/ws" -LocalSessions 4 -WithArchive | Out-Null
        foreach ($phase in 0..2) {
            Start-Phase $phase -Name "p$phase" -WorkspacePath $ws -Confirm:$false | Out-Null
            New-CompletedSession -WorkspacePath $ws -SessionId "session_2026010$($phase)_090000" -Phase $phase | Out-Null
        }
        Start-Phase 3 -Name p3 -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260103_090000' -Phase 3 | Out-Null
        # Phases 0 and 1 archived (retention.backup_phases 2), phase 2 backed up, phase 3 completed, one session active.
        Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260103_100000' -Phase 3 | Out-Null
        Start-Session -Phase 3 -SessionId 'session_20260103_110000' -WorkspacePath $ws | Out-Null
        '{"type":"user","sessionId":"abc","timestamp":"2026-01-03T12:00:00Z","message":{"role":"user","content":"hi"}}' |
            Set-Content (Join-Path $Root 'transcript.jsonl')
    }

    It 'leaves every file on every tier and the catalog as they were' {
        Push-Location $Root
        try {
            $before = Get-WorkspaceFingerprint $Root $ws
            $arguments = $Arguments.Clone()
            if (-not $NoWorkspace) { $arguments.WorkspacePath = $ws }
            # PowerShell writes the "What if:" lines to the host, where a test cannot read them.
            & $Command @arguments -WhatIf | Out-Null
            Get-WorkspaceFingerprint $Root $ws | Should -Be $before
            if ($NoWorkspace) { Join-Path $Root $arguments.Path | Should -Not -Exist }
        }
        finally {
            Pop-Location
        }
    }
}
