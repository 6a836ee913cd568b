BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

Describe 'Invoke-PhaseReview' {
    It 'reviews a phase piped from Get-Phase and its recommendations expand' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        Start-Phase 1 -Name setup -WorkspacePath $ws -Confirm:$false | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        $review = Get-Phase 1 -WorkspacePath $ws | Invoke-PhaseReview -WorkspacePath $ws -Confirm:$false
        $review | Should -BeOfType ([TierStorage.Contracts.PhaseReview])
        $review.ReportPaths | ForEach-Object { $_ | Should -Exist }
        { $review | Select-Object -ExpandProperty Recommendations } | Should -Not -Throw
        (Get-Phase 1 -WorkspacePath $ws).Reviewed | Should -BeTrue
        $review.ReportPaths | Split-Path -Leaf | Should -Contain 'phase_analytics.db'
    }

    It 'takes -Full and -Retrieval for an archived phase' {
        $command = Get-Command Invoke-PhaseReview
        $command.Parameters['Full'].ParameterType | Should -Be ([switch])
        $command.Parameters['Retrieval'].ParameterType | Should -Be ([TierStorage.Contracts.ArchiveRetrievalTier])
    }

    It 'refuses a phase that does not exist with PhaseNotFound and writes no report' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        { Invoke-PhaseReview 99 -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'PhaseNotFound,TierStorage.PowerShell.Commands.InvokePhaseReviewCommand'
        Join-Path $ws 'reviews' | Should -Not -Exist
    }

    It 'reports a review folder it cannot write as an IOError record, not a bare .NET exception' {
        $ws = New-TestWorkspace -Name ([guid]::NewGuid())
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_090000' | Out-Null
        Set-Content -Path (Join-Path $ws 'reviews') -Value 'a file where the reviews folder belongs'
        { Invoke-PhaseReview 1 -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'IOError,TierStorage.PowerShell.Commands.InvokePhaseReviewCommand'
    }
}
