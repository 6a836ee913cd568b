BeforeDiscovery {
    # Every record a cmdlet writes, plus the rows of a review that Select-Object -ExpandProperty shows.
    $script:ViewTypes = @(
        'SessionInfo', 'SessionEvent', 'SnapshotInfo', 'WorkspaceInfo', 'PolicyFinding', 'TierPolicy', 'BackupResult',
        'RestoreResult', 'BackupCheck', 'TierConnectionStep', 'CatalogRebuildResult', 'TierUsage', 'TierMove',
        'PolicyRunResult', 'PhaseInfo', 'PhaseReview', 'ClaudeImportResult', 'TierDefinition', 'LatencyRow', 'ModelCostRow',
        'AgentRow', 'ToolRow', 'ErrorRow'
    )
    $script:TableTypes = $ViewTypes | Where-Object { $_ -ne 'TierPolicy' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # Real output of each cmdlet on a workspace with realistic names: long session ids, a long phase name, an agent,
    # tokens, a failed edit with data, sizes in kilobytes.
    $script:Outputs = @{}
    function Add-Output([object[]] $Objects) {
        foreach ($object in $Objects) {
            $name = $object.GetType().Name
            if (-not $Outputs.ContainsKey($name)) { $Outputs[$name] = [System.Collections.Generic.List[object]]::new() }
            $Outputs[$name].Add($object)
        }
    }

    $ws = New-TestWorkspace -Name 'views' -LocalSessions 1 -WithArchive
    $session = 'session_20261203_085132'
    Add-Output (Start-Phase 1 -Name 'storage-foundation' -WorkspacePath $ws -Confirm:$false)
    Add-Output (Start-Session -Phase 1 -SessionId $session -WorkspacePath $ws)
    Add-SessionEvent -Type agent_invocation -Agent 'code-reviewer' -Task 'review tier planner' -DurationMs 184230 -InputTokens 120345 `
        -OutputTokens 8450 -Model 'claude-sonnet-4-5' -Success $true -WorkspacePath $ws -Confirm:$false | Out-Null
    Add-SessionEvent -Type tool_call -Tool 'Edit' -File 'src/TierStorage.Engine/Lifecycle/LifecyclePlanner.cs' -DurationMs 1200 -Success $false `
        -ErrorType 'edit_conflict' -Data @{ lines = 12; hunks = @(1, 2) } -WorkspacePath $ws -Confirm:$false | Out-Null
    Add-Output (Save-SessionSnapshot -Json '{"tasks":["backup","review"]}' -WorkspacePath $ws -Confirm:$false)
    Add-Output (Complete-Session -NoBackup -WorkspacePath $ws -Confirm:$false)
    Add-Output (Backup-Session -SessionId $session -WorkspacePath $ws -Confirm:$false)
    Add-Output (Test-Backup -WorkspacePath $ws)
    Add-Output (Get-TierUsage -WorkspacePath $ws)
    $policy = Get-TierPolicy -WorkspacePath $ws
    Add-Output $policy
    Add-Output $policy.Tiers
    Add-Output (Test-TierPolicy -WorkspacePath $ws)
    Add-Output (Test-TierConnection -Tier backup -WorkspacePath $ws)
    $review = Invoke-PhaseReview -Phase 1 -WorkspacePath $ws -Confirm:$false
    Add-Output $review
    Add-Output $review.Latency
    Add-Output $review.Tokens
    Add-Output $review.Agents
    Add-Output $review.Tools
    Add-Output $review.Errors
    Add-Output (Restore-Session -SessionId $session -Destination (Join-Path $TestDrive 'restored') -WorkspacePath $ws -Confirm:$false)
    Start-Phase 2 -Name 'lifecycle' -WorkspacePath $ws -Confirm:$false | Out-Null
    New-CompletedSession -WorkspacePath $ws -SessionId 'session_20261204_101500' -Phase 2 | Out-Null
    Add-Output (Move-DataTier -WorkspacePath $ws -WhatIf)
    Add-Output (Get-SessionEvent -WorkspacePath $ws)
    Add-Output (Initialize-TierWorkspace -Path (Join-Path $TestDrive 'second') -Confirm:$false)
    Add-Output (Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false)
    Add-Output (Update-TierCatalog -WorkspacePath $ws -FromTier backup -Confirm:$false)
    $transcript = Join-Path $TestDrive '7c0ffee1-5e55-4a1d-9b1e-2f0c0ffee123.jsonl'
    '{"type":"assistant","sessionId":"7c0ffee1","timestamp":"2026-12-03T09:00:00.000Z","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}' |
        Set-Content $transcript
    Add-Output (Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false)

    function Get-TableHeader([string] $TypeName) {
        (Get-FormatData -TypeName "TierStorage.Contracts.$TypeName").FormatViewDefinition.Control |
            Where-Object { $_ -is [System.Management.Automation.TableControl] } | Select-Object -First 1 | ForEach-Object Headers
    }
}

Describe 'Default views' {
    Context '<_>' -ForEach $TableTypes {
        It 'shows every column within 80 columns, cutting nothing but the last column' {
            $objects = $Outputs[$_]
            $objects | Should -Not -BeNullOrEmpty -Because "the fixture writes a $_"
            $lines = ($objects | Format-Table | Out-String -Width 80) -split '\r?\n' | Where-Object { $_.Trim() }
            $lines | Where-Object Length -gt 80 | Should -BeNullOrEmpty
            $labels = (Get-TableHeader $_).Label
            foreach ($label in $labels) { $lines[0] | Should -Match "(^|\s)$([regex]::Escape($label))(\s|$)" }
            # The dashes under the headers mark each column's span; only the last may end in an ellipsis.
            $lastColumn = ([regex]::Matches($lines[1], '-+') | Select-Object -Last 1).Index
            foreach ($line in $lines | Select-Object -Skip 2) {
                $cut = $line.IndexOf([char]0x2026)
                if ($cut -ge 0) { $cut | Should -BeGreaterOrEqual $lastColumn -Because "'$line' is cut in a middle column" }
            }
        }
    }

    Context '<_>' -ForEach $ViewTypes {
        It 'reads as text in Format-List and Export-Csv, with no record or collection dumps' {
            $objects = $Outputs[$_]
            $list = $objects | Format-List | Out-String -Width 80
            $csv = ($objects | ConvertTo-Csv) -join "`n"
            foreach ($text in $list, $csv) {
                $text | Should -Not -Match 'System\.Collections'
                $text | Should -Not -Match 'TierStorage\.Contracts\.'
                $text | Should -Not -Match '\w \{ \w+ = '
            }
        }
    }

    It 'gives <_> a curated list view' -ForEach @(
        'SessionInfo', 'SessionEvent', 'BackupResult', 'PhaseReview', 'TierUsage', 'TierPolicy', 'RestoreResult', 'BackupCheck', 'PhaseInfo', 'TierMove'
    ) {
        (Get-FormatData -TypeName "TierStorage.Contracts.$_").FormatViewDefinition.Control |
            Where-Object { $_ -is [System.Management.Automation.ListControl] } | Should -Not -BeNullOrEmpty
    }

    It 'shows sizes in human units and short dates' {
        $table = $Outputs['TierUsage'] | Format-Table | Out-String -Width 80
        $table | Should -Match '\d+\.\d (KB|MB)'
        $table = $Outputs['SessionInfo'] | Format-Table | Out-String -Width 80
        $table | Should -Match '\d\d-\d\d \d\d:\d\d'
        $table | Should -Match '\d+\.\d KB'
    }

    It 'shows event types in the log spelling (tool_call), in tables and lists' {
        $events = $Outputs['SessionEvent'] | Where-Object Type -eq ToolCall
        $events | Format-Table | Out-String -Width 80 | Should -Match '\btool_call\b'
        $events | Format-List | Out-String -Width 80 | Should -Match 'Type\s+: tool_call'
        $events | Format-Table | Out-String -Width 80 | Should -Not -Match 'ToolCall'
    }

    It 'gives nested records a short ToString' {
        $llm = $Outputs['SessionEvent'] | Where-Object { $null -ne $_.Tokens } | Select-Object -First 1
        "$($llm.Tokens)" | Should -Be 'in 120345 / out 8450 / cache r 0 w 0'
        $edit = $Outputs['SessionEvent'] | Where-Object Tool -eq 'Edit' | Where-Object Data | Select-Object -First 1
        $edit.Data.ToString() | Should -Match '"lines":12'
        $Outputs['BackupResult'][0].Files.ToString() | Should -Match '^activity\.jsonl\.gz \d'
    }
}
