BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Send-TierAlert' {
    BeforeAll {
        $script:ws = New-TestWorkspace -Name ([guid]::NewGuid())
        @"
version: 1
alerts:
  channels:
    - kind: file
    - kind: webhook
      name: team-chat
      url_env: TS_PESTER_UNSET_HOOK
"@ | Set-Content -Path (Join-Path $ws 'tierstorage.yaml')
        $env:TS_PESTER_UNSET_HOOK = $null
    }

    It '-Test sends a test notification to every channel and says which did not get it, recording nothing' {
        $results = Send-TierAlert -Test -WorkspacePath $ws -Confirm:$false
        $results | Should -BeOfType ([TierStorage.Contracts.AlertChannelTest])
        $results.Channel | Should -Be @('file', 'team-chat')
        $results.Succeeded | Should -Be @($true, $false)
        $results[1].Message | Should -Be 'the environment variable TS_PESTER_UNSET_HOOK is not set'
        (Get-Content (Join-Path $ws 'logs/alerts.jsonl') | ConvertFrom-Json).notice | Should -Be 'test'
        Get-TierAlert -All -WorkspacePath $ws | Should -BeNullOrEmpty
        ($results | Format-Table | Out-String -Width 80) -split '\r?\n' | Where-Object Length -gt 80 | Should -BeNullOrEmpty
    }

    It '-WhatIf names the channels and sends nothing' {
        $file = Join-Path $ws 'logs/alerts.jsonl'
        $before = @(Get-Content $file).Count
        Send-TierAlert -Test -Channel file -WorkspacePath $ws -WhatIf | Should -BeNullOrEmpty
        @(Get-Content $file).Count | Should -Be $before
    }

    It 'reports a channel the policy does not have as AlertChannelNotFound, and still tests the others' {
        $results = Send-TierAlert -Test -Channel pager, file -WorkspacePath $ws -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'AlertChannelNotFound,TierStorage.PowerShell.Commands.SendTierAlertCommand'
        $errors[0].TargetObject | Should -Be 'pager'
        $results.Channel | Should -Be 'file'
    }
}
