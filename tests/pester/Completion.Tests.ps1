BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # What TabExpansion2 offers with the cursor at the end of the line.
    function script:Complete([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

BeforeDiscovery {
    $sessionIdCases = 'Get-Session', 'Get-SessionEvent', 'Add-SessionEvent', 'Complete-Session', 'Backup-Session',
        'Restore-Session', 'Test-Backup', 'Save-SessionSnapshot', 'Get-SessionSnapshot' | ForEach-Object { @{ Command = $_ } }
    $phaseCases = 'Get-Session', 'Get-SessionEvent', 'Get-Phase', 'Invoke-PhaseReview', 'Restore-Phase', 'Start-Session',
        'Import-ClaudeSession' | ForEach-Object { @{ Command = $_ } }
    $tierCases = 'Backup-Session', 'Restore-Session', 'Test-Backup', 'Sync-BackupQueue', 'Test-TierConnection', 'Get-TierUsage',
        'Connect-TierDrive', 'Disconnect-TierDrive' | ForEach-Object { @{ Command = $_; Parameter = '-Tier' } }
    $tierCases += @{ Command = 'Update-TierCatalog'; Parameter = '-FromTier' }
    $policyPathCases = @(
        @{ Line = 'Get-TierPolicy -PolicyPath ' }, @{ Line = 'Get-Session -PolicyPath ' },
        @{ Line = 'Test-TierPolicy -Path ' }, @{ Line = 'Initialize-TierWorkspace -PolicyTemplate ' }
    )
}

Describe 'Argument completion' {
    BeforeAll {
        $script:ws = New-TestWorkspace -Name 'completion'
        Start-Session -Phase 0 -SessionId 'session_20260101_090000' -WorkspacePath $ws | Out-Null
        Start-Session -Phase 2 -SessionId 'session_20260102_090000' -CompleteActive -WorkspacePath $ws | Out-Null
    }

    Context '-SessionId' {
        It '<Command> completes the ids of the workspace named on the line, newest first' -ForEach $sessionIdCases {
            (Complete "$Command -WorkspacePath '$ws' -SessionId ").CompletionText |
                Should -Be 'session_20260102_090000', 'session_20260101_090000'
        }

        It 'keeps the ids that start with what was typed' {
            (Complete "Get-Session -WorkspacePath '$ws' -SessionId session_20260102").CompletionText |
                Should -Be 'session_20260102_090000'
        }

        It 'reads the default workspace of the current location' {
            $project = Join-Path $TestDrive 'project'
            New-TestWorkspace -Name 'project/.tierstorage' | Out-Null
            Start-Session -Phase 0 -SessionId 'session_20260301_090000' -WorkspacePath (Join-Path $project '.tierstorage') | Out-Null
            Push-Location $project
            try {
                (Complete 'Get-Session -SessionId ').CompletionText | Should -Be 'session_20260301_090000'
            }
            finally {
                Pop-Location
            }
        }

        It 'offers nothing for a workspace that does not exist, and does not create it' {
            $missing = Join-Path $TestDrive 'nowhere'
            Complete "Get-Session -WorkspacePath '$missing' -SessionId " | Should -BeNullOrEmpty
            $missing | Should -Not -Exist
        }

        It 'offers nothing, and no error, when the catalog is not a database' {
            $broken = New-TestWorkspace -Name 'broken'
            Set-Content -Path (Join-Path $broken 'analytics/agent_metrics.db') -Value 'not a database'
            $Error.Clear()
            Complete "Get-Session -WorkspacePath '$broken' -SessionId " | Should -BeNullOrEmpty
            $Error | Should -BeNullOrEmpty
        }
    }

    Context '-Phase' {
        It '<Command> completes the phase numbers of the catalog' -ForEach $phaseCases {
            (Complete "$Command -WorkspacePath '$ws' -Phase ").CompletionText | Should -Be '0', '2'
        }
    }

    Context '-Tier' {
        It '<Command> <Parameter> completes the tier names of the policy' -ForEach $tierCases {
            (Complete "$Command -WorkspacePath '$ws' $Parameter ").CompletionText | Should -Be 'local', 'backup'
        }

        It 'reads the tiers of the -PolicyPath typed on the line' {
            $policy = Join-Path $TestDrive 'other.yaml'
            @"
version: 1
tiers:
  - { name: disk, level: 1, kind: folder }
  - { name: nas, level: 2, kind: folder, path: '$(Join-Path $TestDrive 'nas')' }
"@ | Set-Content -Path $policy
            (Complete "Backup-Session -WorkspacePath '$ws' -PolicyPath '$policy' -Tier n").CompletionText | Should -Be 'nas'
        }
    }

    Context 'event -Type' {
        It 'completes every event type in its log spelling' {
            $types = (Complete 'Add-SessionEvent -Type ').CompletionText
            foreach ($type in 'tool_call', 'llm_call', 'agent_invocation', 'file_operation', 'error', 'decision', 'session_start', 'session_end') {
                $types | Should -Contain $type
            }
        }

        It 'keeps the types that start with what was typed' {
            (Complete 'Get-SessionEvent -Type ll').CompletionText | Should -Be 'llm_call'
        }

        It 'still accepts the enum spelling' {
            Add-SessionEvent -Type ToolCall -Tool Read -SessionId 'session_20260102_090000' -WorkspacePath $ws -Confirm:$false | Out-Null
            (Get-SessionEvent -Type ToolCall -SessionId 'session_20260102_090000' -WorkspacePath $ws).Tool | Should -Contain 'Read'
        }
    }

    Context 'policy files' {
        BeforeAll {
            $script:policies = Join-Path $TestDrive 'policies'
            New-Item -ItemType Directory -Path (Join-Path $policies 'sub') | Out-Null
            'version: 1' | Set-Content (Join-Path $policies 'a.yaml')
            'version: 1' | Set-Content (Join-Path $policies 'b.yml')
            'text' | Set-Content (Join-Path $policies 'c.txt')
        }

        It '<Line> offers *.yaml, *.yml and folders only' -ForEach $policyPathCases {
            Push-Location $policies
            try {
                $offered = (Complete $Line).ListItemText
            }
            finally {
                Pop-Location
            }
            $offered | Should -Contain 'a.yaml'
            $offered | Should -Contain 'b.yml'
            $offered | Should -Contain 'sub'
            $offered | Should -Not -Contain 'c.txt'
        }
    }
}
