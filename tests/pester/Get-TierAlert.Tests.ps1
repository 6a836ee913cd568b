BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # The workspace as its own tier with a capacity, and alerts: to a file channel and a webhook whose variable is unset.
    function Set-AlertPolicy([string] $WorkspacePath, [string] $Capacity) {
        @"
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
    capacity: $Capacity
alerts:
  disable: [projected-full]
  channels:
    - kind: file
    - kind: webhook
      name: team-chat
      url_env: TS_PESTER_UNSET_HOOK
"@ | Set-Content -Path (Join-Path $WorkspacePath 'tierstorage.yaml')
    }
}

Describe 'Get-TierAlert' {
    BeforeAll {
        $env:TS_PESTER_UNSET_HOOK = $null
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Set-AlertPolicy $ws '16KB'
        $script:run = Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false -WarningVariable runWarnings -WarningAction SilentlyContinue
        $script:runWarnings = $runWarnings
    }

    It 'lists the alerts the policy run raised at critical capacity, most severe first, each with its fix' {
        $run.TierAlerts.Key | Should -Contain 'tier-critical:local'
        $alerts = Get-TierAlert -WorkspacePath $ws
        $alerts | Should -BeOfType ([TierStorage.Contracts.TierAlert])
        $alerts.Key | Should -Be @('tier-critical:local', 'tier-warning:local')
        $alerts[0].Severity | Should -Be ([TierStorage.Contracts.AlertSeverity]::Critical)
        $alerts[0].Message | Should -Match "^Tier 'local' is critical: .* used \(\d+(\.\d)?%\); critical at 90%\.$"
        $alerts[0].Fix | Should -Match 'Move-DataTier'
        $alerts[0].DeliveredTo | Should -Be @('file')
        $alerts[0].PendingFor | Should -Be @('team-chat')
        (Get-TierAlert -Key 'tier-w*' -WorkspacePath $ws).Key | Should -Be 'tier-warning:local'
    }

    It 'keeps Invoke-TierPolicy writing each alert as a warning, and says which channel could not be reached' {
        $runWarnings.Message | Should -Contain "Tier 'local' is Critical: $($run.Usage[0].Percent.ToString('0.#', [cultureinfo]::InvariantCulture))% of 16,000 bytes used (warn at 80%, critical at 90%)."
        $runWarnings.Message | Where-Object { $_ -like "*could not be sent to channel 'team-chat': the environment variable TS_PESTER_UNSET_HOOK is not set*" } |
            Should -HaveCount 1
    }

    It 'wrote one JSON line per alert to the file channel, for other tools to watch' {
        $lines = Get-Content (Join-Path $ws 'logs/alerts.jsonl') | ConvertFrom-Json
        $lines.key | Sort-Object | Should -Be @('tier-critical:local', 'tier-warning:local')
        $lines.notice | Sort-Object -Unique | Should -Be 'opened'
    }

    It '-Pending and -Channel list what waits for the webhook, with the reason' {
        $pending = Get-TierAlert -Pending -WorkspacePath $ws
        $pending | Should -BeOfType ([TierStorage.Contracts.TierAlertDelivery])
        $pending.Channel | Sort-Object -Unique | Should -Be 'team-chat'
        $pending[0].LastError | Should -Be 'the environment variable TS_PESTER_UNSET_HOOK is not set'
        @(Get-TierAlert -Channel team-chat -WorkspacePath $ws).Count | Should -Be 2
        @(Get-TierAlert -Channel file -WorkspacePath $ws).Count | Should -Be 0
    }

    It 'runs from the current location of a project and reads within 80 columns' {
        $project = Join-Path $TestDrive ([guid]::NewGuid())
        Initialize-TierWorkspace -Path (Join-Path $project '.tierstorage') -Confirm:$false | Out-Null
        Set-AlertPolicy (Join-Path $project '.tierstorage') '16KB'
        Push-Location $project
        try {
            Invoke-TierPolicy -Confirm:$false -WarningAction SilentlyContinue | Out-Null
            $lines = (Get-TierAlert | Format-Table | Out-String -Width 80) -split '\r?\n' | Where-Object { $_.Trim() }
            $lines | Where-Object Length -gt 80 | Should -BeNullOrEmpty
            $lines[0] | Should -Match '^Status\s+Runs\s+FirstSeen\s+Sent\s+Key$'
            $lines | Should -Contain ($lines | Where-Object { $_ -match '^Critical\s+1 \d{4}-\d\d-\d\d \d\d:\d\d 1 of 2 tier-critical:local$' })
            $pending = (Get-TierAlert -Pending | Format-Table | Out-String -Width 80) -split '\r?\n' | Where-Object { $_.Trim() }
            $pending | Where-Object Length -gt 80 | Should -BeNullOrEmpty
            Get-TierAlert | Format-List | Out-String | Should -Not -Match 'TierStorage\.Contracts\.|System\.Collections'
        }
        finally { Pop-Location }
    }

    It 'completes -Channel from the policy and -Key from the open alerts' {
        $line = "Get-TierAlert -WorkspacePath '$ws' -Channel "
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('file', 'team-chat')
        $line = "Get-TierAlert -WorkspacePath '$ws' -Key tier-c"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be 'tier-critical:local'
    }

    It 'counts runs while the condition holds, sends nothing twice, and resolves the alerts once there is room' {
        Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        (Get-TierAlert -WorkspacePath $ws).Runs | Should -Be @(2, 2)
        @(Get-Content (Join-Path $ws 'logs/alerts.jsonl')).Count | Should -Be 2

        Set-AlertPolicy $ws '1GB'
        $cleared = Invoke-TierPolicy -WorkspacePath $ws -Confirm:$false -WarningAction SilentlyContinue
        $cleared.TierAlerts | Should -BeNullOrEmpty
        Get-TierAlert -WorkspacePath $ws | Should -BeNullOrEmpty
        $history = Get-TierAlert -All -WorkspacePath $ws
        $history.State | Sort-Object -Unique | Should -Be 'Resolved'
        $history.ResolvedAt | Should -Not -BeNullOrEmpty
        $resolved = Get-Content (Join-Path $ws 'logs/alerts.jsonl') | ConvertFrom-Json | Where-Object notice -eq 'resolved'
        $resolved.key | Sort-Object | Should -Be @('tier-critical:local', 'tier-warning:local')
    }

    It 'refuses a webhook URL written in the policy, naming the key and not the URL' {
        $bad = New-TestWorkspace -Name ([guid]::NewGuid())
        @"
version: 1
alerts:
  channels:
    - kind: webhook
      url: https://hooks.slack.com/services/T1/B2/pester-secret
"@ | Set-Content -Path (Join-Path $bad 'tierstorage.yaml')
        $finding = Test-TierPolicy -Path (Join-Path $bad 'tierstorage.yaml') | Where-Object Code -eq SecretInPolicy
        $finding.KeyPath | Should -Be 'alerts.channels[0].url'
        $finding.Line | Should -Be 5
        $finding.Message | Should -Not -Match 'pester-secret'
        { Get-TierAlert -WorkspacePath $bad -ErrorAction Stop } | Should -Throw -ErrorId 'PolicyInvalid,TierStorage.PowerShell.Commands.GetTierAlertCommand'
    }

    It 'is a parameter error to ask for pending notifications of some keys' {
        { Get-TierAlert -Pending -Key x -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,TierStorage.PowerShell.Commands.GetTierAlertCommand'
    }
}
