BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Import-ClaudeSession' {
    It 'imports a transcript once; a rerun reads nothing new' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $transcript = Join-Path $TestDrive 'c0ffee.jsonl'
        @(
            '{"type":"assistant","sessionId":"c0ffee","timestamp":"2026-01-01T09:00:00.000Z","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}'
        ) | Set-Content $transcript
        $first = Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false
        $first | Should -BeOfType ([TierStorage.Contracts.ClaudeImportResult])
        $first.EventsImported | Should -BeGreaterThan 0
        (Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false).EventsImported | Should -Be 0
        Get-Session -SessionId $first.SessionId -WorkspacePath $ws | Should -Not -BeNullOrEmpty
    }

    It 'completes a session that is not idle yet with -Complete: session_end and a handoff note' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $transcript = Join-Path $TestDrive 'c0ffee2.jsonl'
        $now = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ')
        @(
            '{"type":"assistant","sessionId":"c0ffee2","timestamp":"' + $now + '","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}'
        ) | Set-Content $transcript
        (Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false).SessionCompleted | Should -BeFalse
        $done = Import-ClaudeSession -Path $transcript -Complete -WorkspacePath $ws -Confirm:$false
        $done.SessionCompleted | Should -BeTrue
        (Get-Session -SessionId $done.SessionId -WorkspacePath $ws).HandoffPath | Should -Exist
        { Import-ClaudeSession -Path $transcript -IdleMinutes 0 -WorkspacePath $ws -Confirm:$false } | Should -Throw
    }
}
