BeforeDiscovery {
    # A private PostgreSQL 15 for the PostgreSQL cases, started like the xUnit fixture does (initdb + pg_ctl on 127.0.0.1,
    # scram password over TCP; as root through runuser as the postgres account). Without the binaries those cases skip.
    $script:PgBin = if ($env:TIERSTORAGE_PG_BIN) { $env:TIERSTORAGE_PG_BIN } else { '/usr/lib/postgresql/15/bin' }
    $script:HasPostgres = -not $IsWindows -and (Test-Path (Join-Path $script:PgBin 'initdb'))
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    function New-CatalogWorkspace {
        param([string] $Name, [string[]] $Sessions)
        $ws = New-TestWorkspace -Name $Name
        foreach ($id in $Sessions) { New-CompletedSession -WorkspacePath $ws -SessionId $id | Out-Null }
        $ws
    }

    $script:PgBin = if ($env:TIERSTORAGE_PG_BIN) { $env:TIERSTORAGE_PG_BIN } else { '/usr/lib/postgresql/15/bin' }
    $script:Pg = $null
    if (-not $IsWindows -and (Test-Path (Join-Path $script:PgBin 'initdb'))) {
        $root = Join-Path ([IO.Path]::GetTempPath()) ('ts-pester-pg-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $root | Out-Null
        $password = [guid]::NewGuid().ToString('N')
        Set-Content -Path (Join-Path $root 'pw') -Value $password -NoNewline
        $asRoot = (& id -u) -eq '0'
        if ($asRoot) { & chown -R postgres $root }
        function Invoke-Pg([string] $Tool, [string[]] $Arguments) {
            $exe = Join-Path $script:PgBin $Tool
            if ($asRoot) { & runuser -u postgres -- $exe @Arguments } else { & $exe @Arguments }
            if ($LASTEXITCODE -ne 0) { throw "$Tool failed ($LASTEXITCODE)" }
        }
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        Push-Location $root
        try {
            Invoke-Pg initdb @('-D', "$root/data", '-E', 'UTF8', '--locale=C', '-U', 'tsuser', "--pwfile=$root/pw", '--auth-host=scram-sha-256', '--auth-local=trust') | Out-Null
            Invoke-Pg pg_ctl @('-D', "$root/data", '-l', "$root/log", '-w', '-o', "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off", 'start') | Out-Null
        }
        finally { Pop-Location }
        $script:Pg = @{ Root = $root; Port = $port; Password = $password; AsRoot = $asRoot }
        $env:TS_PESTER_PG_PASSWORD = $password
        function New-PgDatabase([string] $Name) {
            Invoke-Pg psql @('-h', $root, '-p', "$port", '-U', 'tsuser', '-d', 'postgres', '-q', '-c', "CREATE DATABASE $Name") | Out-Null
            "Host=127.0.0.1;Port=$port;Database=$Name;Username=tsuser"
        }
    }
}

AfterAll {
    if ($script:Pg) {
        $exe = Join-Path $script:PgBin 'pg_ctl'
        $arguments = @('-D', "$($script:Pg.Root)/data", '-m', 'immediate', 'stop')
        if ($script:Pg.AsRoot) { & runuser -u postgres -- $exe @arguments | Out-Null } else { & $exe @arguments | Out-Null }
        Remove-Item -Recurse -Force $script:Pg.Root -ErrorAction SilentlyContinue
    }
}

Describe 'Copy-TierCatalog and Test-TierCatalog between SQLite files' {
    It 'copies the catalog into a new SQLite file, every table matching, and a rerun changes nothing' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000', 'session_20260101_100000'
        $file = Join-Path $TestDrive 'export.db'

        $result = Copy-TierCatalog -To $file -WorkspacePath $ws

        $result.Count | Should -Be 13
        $result | Where-Object -not Match | Should -BeNullOrEmpty
        ($result | Where-Object Table -eq 'sessions').TargetRows | Should -Be 2
        $result[0].PSObject.TypeNames[0] | Should -Be 'TierStorage.Contracts.CatalogTableComparison'
        $result.Table | Should -Not -Contain 'session_rollups'
        Test-TierCatalog -Against $file -WorkspacePath $ws -Quiet | Should -BeTrue
        $bytes = (Get-Item $file).Length
        Copy-TierCatalog -To $file -WorkspacePath $ws -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Copied 0 rows*' } | Should -Not -BeNullOrEmpty
        (Get-Item $file).Length | Should -Be $bytes
    }

    It 'Test-TierCatalog names the session a later command added, and a second copy carries it' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000'
        $file = Join-Path $TestDrive "$([guid]::NewGuid()).db"
        Copy-TierCatalog -To $file -WorkspacePath $ws | Out-Null
        New-CompletedSession -WorkspacePath $ws -SessionId 'session_20260101_110000' | Out-Null

        $differing = Test-TierCatalog -Against $file -WorkspacePath $ws | Where-Object -not Match
        $sessions = $differing | Where-Object Table -eq 'sessions'
        # The new session is missing there; starting it also moved the earlier session's log (session_previous.jsonl).
        ($sessions.Differences | Where-Object Key -eq 'session_id=session_20260101_110000').Kind | Should -Be 'Missing'
        ($differing | Where-Object Table -eq 'events').Differences.Key | Should -Contain 'session_id=session_20260101_110000,#1'
        Test-TierCatalog -Against $file -WorkspacePath $ws -Quiet | Should -BeFalse

        Copy-TierCatalog -To $file -WorkspacePath $ws | Where-Object -not Match | Should -BeNullOrEmpty
    }

    It 'completes -To with the policy connection and .db files, -PasswordEnv with variable names' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions @()
        Add-Content -Path (Join-Path $ws 'tierstorage.yaml') -Value "catalog:`n  provider: sqlite`n  connection: 'Host=db;Database=team;Username=me'`n  dual_write: true"
        Set-Content -Path (Join-Path $TestDrive 'zz-export.db') -Value ''
        Push-Location $TestDrive
        try {
            $line = "Copy-TierCatalog -WorkspacePath '$ws' -To "
            $texts = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
            $texts | Should -Contain "'Host=db;Database=team;Username=me'"
            $texts | Where-Object { $_ -like '*zz-export.db*' } | Should -Not -BeNullOrEmpty
            $env:TS_PESTER_COMPLETE_ME = 'value-not-shown'
            $line = 'Test-TierCatalog -PasswordEnv TS_PESTER_COMPLETE'
            $matches = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
            $matches.CompletionText | Should -Be 'TS_PESTER_COMPLETE_ME'
            $matches.ToolTip | Should -Not -Match 'value-not-shown'
        }
        finally { Pop-Location; Remove-Item Env:TS_PESTER_COMPLETE_ME }
    }

    It '-WhatIf copies nothing and creates no file' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000'
        $file = Join-Path $TestDrive "$([guid]::NewGuid()).db"
        Copy-TierCatalog -To $file -WorkspacePath $ws -WhatIf | Should -BeNullOrEmpty
        Test-Path $file | Should -BeFalse
    }

    It 'refuses a file that is not a catalog, leaving it as it was' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000'
        $file = Join-Path $TestDrive "$([guid]::NewGuid()).db"
        Set-Content -Path $file -Value ('not a database ' * 40)
        $before = Get-FileHash $file
        { Copy-TierCatalog -To $file -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'NotACatalog,TierStorage.PowerShell.Commands.CopyTierCatalogCommand'
        (Get-FileHash $file).Hash | Should -Be $before.Hash
    }

    It 'refuses a PostgreSQL connection string that holds a password without echoing it' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000'
        $err = $null
        try { Copy-TierCatalog -To 'Host=db.example;Database=ts;Username=me;Password=Sup3rSecretValue' -WorkspacePath $ws -ErrorAction Stop }
        catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidArgument,TierStorage.PowerShell.Commands.CopyTierCatalogCommand'
        $err.Exception.Message | Should -Not -Match 'Sup3rSecretValue'
        "$($err.TargetObject)" | Should -Not -Match 'Sup3rSecretValue'
        Test-Path (Join-Path $ws 'tierstorage.yaml') | Should -BeTrue
        Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw | Should -Not -Match 'catalog:'
    }

    It 'Test-TierCatalog without -Against and no catalog section says what to give' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions @()
        { Test-TierCatalog -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidArgument,TierStorage.PowerShell.Commands.TestTierCatalogCommand'
    }

    It '-Cutover without a dual-write section in the policy refuses and changes nothing' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions @()
        $before = Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw
        { Copy-TierCatalog -Cutover -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } | Should -Throw
        Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw | Should -Be $before
    }
}

Describe 'Copy-TierCatalog to PostgreSQL, dual-write, cutover and the reverse export' -Skip:(-not $HasPostgres) {
    It 'copies, records dual-write, refuses -Cutover while they differ, cuts over once they match, and exports back' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000', 'session_20260101_100000'
        $policy = Join-Path $ws 'tierstorage.yaml'
        $connection = New-PgDatabase ('pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8))

        $copied = Copy-TierCatalog -To $connection -PasswordEnv TS_PESTER_PG_PASSWORD -DualWrite -Confirm:$false -WorkspacePath $ws
        $copied | Where-Object -not Match | Should -BeNullOrEmpty
        $copied[0].Target | Should -Match '^postgres://tsuser@127\.0\.0\.1:\d+/pester_'
        $text = Get-Content $policy -Raw
        $text | Should -Match "(?m)^catalog:\n  provider: sqlite\n  connection: '$([regex]::Escape($connection))'\n  password_env: 'TS_PESTER_PG_PASSWORD'\n  dual_write: true"
        $text | Should -Match '(?m)^retention:'
        Test-TierCatalog -WorkspacePath $ws -Quiet | Should -BeTrue

        # The workspace's SQLite catalog moves on (another command): -Cutover refuses and changes nothing.
        $db = Join-Path $ws 'analytics/agent_metrics.db'
        & sqlite3 $db "UPDATE sessions SET handoff_path = 'h.md' WHERE session_id = 'session_20260101_090000'"
        $before = Get-Content $policy -Raw
        { Copy-TierCatalog -Cutover -Confirm:$false -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'CatalogMismatch,TierStorage.PowerShell.Commands.CopyTierCatalogCommand'
        Get-Content $policy -Raw | Should -Be $before

        Copy-TierCatalog -To $connection -PasswordEnv TS_PESTER_PG_PASSWORD -WorkspacePath $ws | Where-Object -not Match | Should -BeNullOrEmpty
        Copy-TierCatalog -Cutover -WhatIf -WorkspacePath $ws | Out-Null
        Get-Content $policy -Raw | Should -Be $before
        Copy-TierCatalog -Cutover -Confirm:$false -WorkspacePath $ws | Where-Object -not Match | Should -BeNullOrEmpty
        $after = Get-Content $policy -Raw
        $after | Should -Match "(?m)^catalog:\n  provider: postgres\n  connection: '$([regex]::Escape($connection))'\n  password_env: 'TS_PESTER_PG_PASSWORD'\n(?!  dual_write)"
        ($after -replace '(?ms)^catalog:.*?(?=^\S|\z)', '') | Should -Be ($before -replace '(?ms)^catalog:.*?(?=^\S|\z)', '')

        # Now the catalog is PostgreSQL: -To a file is the reverse export.
        $laptop = Join-Path $TestDrive "$([guid]::NewGuid()).db"
        $exported = Copy-TierCatalog -To $laptop -WorkspacePath $ws
        $exported[0].Source | Should -Match '^postgres://'
        $exported | Where-Object -not Match | Should -BeNullOrEmpty
        (& sqlite3 $laptop "SELECT count(*) FROM sessions") | Should -Be '2'
    }

    It 'never empties the PostgreSQL copy from a SQLite catalog created empty again, and says so until the sessions are back' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000', 'session_20260101_100000'
        $connection = New-PgDatabase ('pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        Copy-TierCatalog -To $connection -PasswordEnv TS_PESTER_PG_PASSWORD -DualWrite -Confirm:$false -WorkspacePath $ws | Where-Object -not Match | Should -BeNullOrEmpty
        $copied = @{}; Test-TierCatalog -WorkspacePath $ws | ForEach-Object { $copied[$_.Table] = $_.TargetRows }
        $copied['sessions'] | Should -Be 2

        # The catalog file is lost; the next commands run on a catalog created empty, and dual-write mirrors them.
        Remove-Item (Join-Path $ws 'analytics/agent_metrics.db*')
        Start-Session -WorkspacePath $ws -Phase 1 -SessionId 'session_20260102_090000' -WarningVariable lost -WarningAction SilentlyContinue | Out-Null
        ($lost -join "`n") | Should -Match 'dual_write: sessions session_20260101_090000: the target holds 2 session\(s\) of this machine that this catalog does not'
        ($lost -join "`n") | Should -Match 'Update-TierCatalog -FromTier'
        $now = @{}; Test-TierCatalog -WorkspacePath $ws -WarningAction SilentlyContinue | ForEach-Object { $now[$_.Table] = $_.TargetRows }
        $now['sessions'] | Should -Be 3
        $now['events'] | Should -BeGreaterThan $copied['events']

        # The local logs indexed again: the sessions are back, the warning stops, and the two catalogs agree.
        Update-TierCatalog -WorkspacePath $ws -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        Add-SessionEvent -WorkspacePath $ws -Type tool_call -Tool rg -WarningVariable after -WarningAction SilentlyContinue | Out-Null
        $after | Should -BeNullOrEmpty
        Test-TierCatalog -WorkspacePath $ws | Where-Object -not Match | Should -BeNullOrEmpty
    }

    It 'refuses a PostgreSQL database that holds other tables' {
        $ws = New-CatalogWorkspace -Name ([guid]::NewGuid()) -Sessions 'session_20260101_090000'
        $name = 'pester_foreign_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $connection = New-PgDatabase $name
        $exe = Join-Path $script:PgBin 'psql'
        $arguments = @('-h', $script:Pg.Root, '-p', "$($script:Pg.Port)", '-U', 'tsuser', '-d', $name, '-q', '-c', 'CREATE TABLE customers (id int)')
        if ($script:Pg.AsRoot) { & runuser -u postgres -- $exe @arguments } else { & $exe @arguments }
        { Copy-TierCatalog -To $connection -PasswordEnv TS_PESTER_PG_PASSWORD -WorkspacePath $ws -ErrorAction Stop } | Should -Throw -ErrorId 'NotACatalog,TierStorage.PowerShell.Commands.CopyTierCatalogCommand'
    }
}

Describe 'A team on one shared PostgreSQL catalog' -Skip:(-not $HasPostgres) {
    BeforeAll {
        $script:Connection = New-PgDatabase ('team_' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $script:SharedBackup = Join-Path $TestDrive 'team-backup'
        New-Item -ItemType Directory $script:SharedBackup | Out-Null
        function New-TeamWorkspace([string] $Machine) {
            $path = Join-Path $TestDrive "team-$Machine"
            $policy = Join-Path $TestDrive "team-$Machine.yaml"
            @"
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
  - name: backup
    level: 2
    kind: folder
    path: '$script:SharedBackup'
catalog:
  provider: postgres
  connection: "$script:Connection"
  password_env: TS_PESTER_PG_PASSWORD
"@ | Set-Content -Path $policy
            $env:TIERSTORAGE_MACHINE = $Machine
            Initialize-TierWorkspace -Path $path -PolicyTemplate $policy -Confirm:$false | Out-Null
            Start-Session -WorkspacePath $path -Phase 1 | Out-Null
            1..3 | ForEach-Object { Add-SessionEvent -WorkspacePath $path -Type tool_call -Tool bash -DurationMs (100 * $_) | Out-Null }
            Complete-Session -WorkspacePath $path | Out-Null
            $path
        }
        $script:Alice = New-TeamWorkspace 'alice-laptop'
        $script:Bob = New-TeamWorkspace 'bob-desktop'
        $env:TIERSTORAGE_MACHINE = 'alice-laptop'
    }
    AfterAll { Remove-Item Env:TIERSTORAGE_MACHINE -ErrorAction SilentlyContinue }

    It 'lists this machine''s sessions by default and the team''s with -Machine *' {
        $own = @(Get-Session -WorkspacePath $Alice)
        $own.Count | Should -Be 1
        $own[0].Machine | Should -Be 'alice-laptop'
        $team = @(Get-Session -WorkspacePath $Alice -Machine *)
        $team.Machine | Sort-Object | Should -Be @('alice-laptop', 'bob-desktop')
        ($team | Where-Object Machine -eq 'bob-desktop').Note | Should -BeLike '*its files are on that machine*'
        @(Get-Session -WorkspacePath $Alice -Machine 'BOB-*').Count | Should -Be 1
    }

    It 'filters events and reviews by machine, from either workspace' {
        $bobs = @(Get-SessionEvent -WorkspacePath $Alice -Machine bob-desktop -Type tool_call)
        $bobs.Count | Should -Be 3
        # Wildcards, as Get-Session takes them.
        @(Get-SessionEvent -WorkspacePath $Alice -Machine 'BOB-*' -Type tool_call).Count | Should -Be 3
        @(Get-SessionEvent -WorkspacePath $Alice -Machine * -Type tool_call).Count | Should -Be 6
        (Invoke-PhaseReview -WorkspacePath $Alice -Phase 1 -Machine '*-desktop').Sessions | Should -Be 1
        $slice = Invoke-PhaseReview -WorkspacePath $Alice -Phase 1 -Machine bob-desktop
        $slice.Sessions | Should -Be 1
        $slice.ReportPaths | Should -BeNullOrEmpty
        (Invoke-PhaseReview -WorkspacePath $Bob -Phase 1 -Confirm:$false).Sessions | Should -Be 2
    }

    It 'refuses to back up another machine''s session, naming where it lives' {
        $bobSession = Get-Session -WorkspacePath $Alice -Machine bob-desktop
        { $bobSession | Backup-Session -WorkspacePath $Alice -ErrorAction Stop } | Should -Throw -ErrorId 'CatalogShared,TierStorage.PowerShell.Commands.BackupSessionCommand'
        (Get-Session -WorkspacePath $Alice | Backup-Session -WorkspacePath $Alice).Verified | Should -BeTrue
        # Her share of the team's backup tier, from the catalog; Bob has backed up nothing yet.
        (Get-TierUsage -WorkspacePath $Bob -Machine alice-laptop -Tier backup).UsedBytes | Should -BeGreaterThan 0
        (Get-TierUsage -WorkspacePath $Bob -Machine bob-desktop -Tier backup).UsedBytes | Should -Be 0
        (Get-TierUsage -WorkspacePath $Bob -Machine * -Tier backup).UsedBytes | Should -Be (Get-TierUsage -WorkspacePath $Bob -Machine alice-laptop -Tier backup).UsedBytes
    }

    It '-WhatIf -DualWrite on the team''s catalog says the copy would join it and the policy would switch to it, and changes nothing' {
        $env:TIERSTORAGE_MACHINE = 'erin-tower'
        try {
            $ws = Join-Path $TestDrive 'erin'
            $policy = Join-Path $TestDrive 'erin.yaml'
            "version: 1`ntiers:`n  - name: local`n    level: 1`n    kind: folder`n" | Set-Content $policy
            Initialize-TierWorkspace -Path $ws -PolicyTemplate $policy -Confirm:$false | Out-Null
            Start-Session -WorkspacePath $ws -Phase 1 -SessionId 'session_20260915_080000' | Out-Null
            Complete-Session -WorkspacePath $ws -NoBackup | Out-Null
            $before = Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw
            $team = (Get-Content (Join-Path $Alice 'workspace.json') | ConvertFrom-Json).id
            $sessions = (Get-Session -WorkspacePath $Alice -Machine * | Measure-Object).Count

            # What -WhatIf says goes to the host; a transcript keeps it.
            $transcript = Join-Path $TestDrive 'erin-whatif.txt'
            Start-Transcript -Path $transcript -UseMinimalHeader | Out-Null
            try { Copy-TierCatalog -To $script:Connection -PasswordEnv TS_PESTER_PG_PASSWORD -WorkspacePath $ws -DualWrite -WhatIf | Should -BeNullOrEmpty }
            finally { Stop-Transcript | Out-Null }
            $said = (Get-Content $transcript | Select-String -SimpleMatch 'What if:').Line -join "`n"
            $said | Should -Match "a team's catalog \(workspace $team\): this workspace's sessions would join the other machines'"
            $said | Should -Match "Join the team's catalog .* make it the workspace's catalog \(provider: postgres\), with no dual-write period"
            $said | Should -Not -Match 'Record catalog dual-write'

            Get-Content (Join-Path $ws 'tierstorage.yaml') -Raw | Should -Be $before
            (Get-Session -WorkspacePath $Alice -Machine * | Measure-Object).Count | Should -Be $sessions
        }
        finally { $env:TIERSTORAGE_MACHINE = 'alice-laptop' }
    }

    It 'takes in a third machine''s own history: -DualWrite joins and switches at once, then its old session is its own and backs up under the team''s namespace' {
        $env:TIERSTORAGE_MACHINE = 'carol-mini'
        try {
            $project = Join-Path $TestDrive 'carol-project'
            New-Item -ItemType Directory $project | Out-Null
            $policy = Join-Path $TestDrive 'carol.yaml'
            "version: 1`ntiers:`n  - name: local`n    level: 1`n    kind: folder`n  - name: backup`n    level: 2`n    kind: folder`n    path: '$script:SharedBackup'`n" | Set-Content $policy
            Push-Location $project
            try {
                Initialize-TierWorkspace -PolicyTemplate $policy -Confirm:$false | Out-Null
                $own = Get-Content .tierstorage/workspace.json | ConvertFrom-Json
                # Its own id: a default one (the second it started in) could be the id of alice's or bob's session started
                # in the same second above, a collision the copy refuses (the xUnit transfer tests cover it).
                $old = Start-Session -Phase 1 -SessionId 'session_20261001_120000'
                1..4 | ForEach-Object { Add-SessionEvent -Type tool_call -Tool rg | Out-Null }
                Complete-Session | Out-Null

                $copied = Copy-TierCatalog -To $script:Connection -PasswordEnv TS_PESTER_PG_PASSWORD -DualWrite -Confirm:$false -Verbose 4>&1
                (($copied | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join "`n") | Should -Match 'is a team''s catalog'
                $tables = $copied | Where-Object { $_ -is [TierStorage.Contracts.CatalogTableComparison] }
                $tables | Where-Object -not Match | Should -BeNullOrEmpty
                $tables.Shared | Sort-Object -Unique | Should -Be $true
                ($tables | Where-Object Table -eq sessions).SourceRows | Should -Be 1
                # A join has no dual-write period: the policy uses the team's catalog at once.
                Get-Content .tierstorage/tierstorage.yaml -Raw | Should -Match "(?m)^catalog:\n  provider: postgres\n(?!  dual_write)"

                # Test-TierCatalog now asks whether every row of the old catalog is in the team's (not whether the old
                # file holds the other machines' sessions).
                $check = Test-TierCatalog
                $check | Where-Object -not Match | Should -BeNullOrEmpty
                ($check | Where-Object Table -eq sessions).Source | Should -Match 'agent_metrics\.db$'

                $mine = @(Get-Session)
                $mine.SessionId | Should -Be $old.SessionId
                $mine[0].Machine | Should -Be 'carol-mini'
                (Get-Session -Machine * | Measure-Object).Count | Should -Be 3
                ($mine | Backup-Session).Verified | Should -BeTrue
                $team = Get-Content (Join-Path $Alice 'workspace.json') | ConvertFrom-Json
                (Get-Content .tierstorage/workspace.json | ConvertFrom-Json).namespace | Should -Be $team.namespace
                Test-Path (Join-Path $script:SharedBackup $own.namespace) | Should -BeFalse
                @(Get-ChildItem -Recurse (Join-Path $script:SharedBackup $team.namespace) | Where-Object Name -like "*$($old.SessionId)*").Count | Should -BeGreaterThan 0
            }
            finally { Pop-Location }
        }
        finally { $env:TIERSTORAGE_MACHINE = 'alice-laptop' }
    }

    It 'refuses a machine whose backups lie under a namespace of its own, writing nothing, and says what it holds' {
        $env:TIERSTORAGE_MACHINE = 'dave-box'
        try {
            $ws = Join-Path $TestDrive 'dave'
            $policy = Join-Path $TestDrive 'dave.yaml'
            $ownBackup = Join-Path $TestDrive 'dave-backup'
            "version: 1`ntiers:`n  - name: local`n    level: 1`n    kind: folder`n  - name: backup`n    level: 2`n    kind: folder`n    path: '$ownBackup'`n" | Set-Content $policy
            Initialize-TierWorkspace -Path $ws -PolicyTemplate $policy -Confirm:$false | Out-Null
            Start-Session -WorkspacePath $ws -Phase 1 | Out-Null
            Add-SessionEvent -WorkspacePath $ws -Type tool_call -Tool git | Out-Null
            Complete-Session -WorkspacePath $ws | Out-Null
            (Get-Session -WorkspacePath $ws | Backup-Session -WorkspacePath $ws).Verified | Should -BeTrue
            $before = (Get-Session -WorkspacePath $Alice -Machine * | Measure-Object).Count

            $err = { Copy-TierCatalog -To $script:Connection -PasswordEnv TS_PESTER_PG_PASSWORD -WorkspacePath $ws -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'CatalogConflict,TierStorage.PowerShell.Commands.CopyTierCatalogCommand' -PassThru
            $err.Exception.Message | Should -Match 'objects on tier backup'
            $err.Exception.Message | Should -Match 'nothing was copied'
            (Get-Session -WorkspacePath $Alice -Machine * | Measure-Object).Count | Should -Be $before
        }
        finally { $env:TIERSTORAGE_MACHINE = 'alice-laptop' }
    }

    It 'shares one namespace: the second workspace joined the first one''s' {
        $a = Get-Content (Join-Path $Alice 'workspace.json') | ConvertFrom-Json
        $b = Get-Content (Join-Path $Bob 'workspace.json') | ConvertFrom-Json
        $b.namespace | Should -Be $a.namespace
    }
}
