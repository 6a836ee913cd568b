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

    It 'imports every project of several config directories with -AllProjects, nested session folders included' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $first = Join-Path $TestDrive 'claude-one'
        $second = Join-Path $TestDrive 'claude-two'
        $line = '{"type":"assistant","sessionId":"SID","timestamp":"2026-01-01T09:00:00.000Z","requestId":"rSID","message":{"id":"mSID","model":"claude-3-5-haiku-20241022","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}'
        $files = @(
            (Join-Path $first 'projects/-home-me-a/aa01.jsonl'),
            (Join-Path $first 'projects/-home-me-b/bb01/subagents/agent-1.jsonl'),
            (Join-Path $second 'projects/-home-me-a/cc01.jsonl')
        )
        foreach ($file in $files) {
            New-Item -ItemType Directory -Force -Path (Split-Path $file) | Out-Null
            $sid = [IO.Path]::GetFileNameWithoutExtension($file) -replace '^agent-1$', 'bb01'
            $line.Replace('SID', $sid) | Set-Content $file
        }

        $results = Import-ClaudeSession -AllProjects -ConfigDirectory $first, $second -WorkspacePath $ws -Confirm:$false -WarningVariable warnings

        $results.SessionId | Sort-Object | Should -Be @('claude_aa01', 'claude_bb01', 'claude_cc01')
        ($results | Where-Object IsSubagent).TranscriptPath | Should -Be (Get-Item $files[1]).FullName
        $warnings | Should -BeNullOrEmpty
        { Import-ClaudeSession -AllProjects -ProjectPath $TestDrive -WorkspacePath $ws -Confirm:$false } | Should -Throw -ErrorId 'AmbiguousParameterSet,TierStorage.PowerShell.Commands.ImportClaudeSessionCommand'
    }

    It 'gives one warning per transcript for its bad lines' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        $transcript = Join-Path $TestDrive 'bad0.jsonl'
        @(
            '{"type":"assistant","sessionId":"bad0","timestamp":"2026-01-01T09:00:00.000Z","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"hi"}]}}'
        ) + @(1..8 | ForEach-Object { "{broken $_" }) | Set-Content $transcript

        $result = Import-ClaudeSession -Path $transcript -WorkspacePath $ws -Confirm:$false -WarningVariable warnings

        $result.MalformedLines.Count | Should -Be 8
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike '*8 line(s) could not be read and were left out (lines 2, 3, 4, 5, 6, ...)*'
    }
}
