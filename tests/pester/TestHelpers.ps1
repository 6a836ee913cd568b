# Dot-sourced from each test file's BeforeAll. The module folder is assembled by
# `dotnet msbuild build/TierStorage.Module.proj` (build.ps1 and `dotnet test` both do it).
$script:ModuleManifest = if ($env:TIERSTORAGE_MODULE) { $env:TIERSTORAGE_MODULE }
                         else { Join-Path $PSScriptRoot '../../out/TierStorage/TierStorage.psd1' }

# A workspace whose backup tier is a folder beside it under TestDrive:, so Complete-Session's backup trigger and the
# backup cmdlets never touch the user's real data directory.
function New-TestWorkspace {
    param([string] $Name = 'ws', [int] $LocalSessions = 2, [switch] $WithArchive)
    $path = Join-Path $TestDrive $Name
    Initialize-TierWorkspace -Path $path -Confirm:$false | Out-Null
    $backup = Join-Path $TestDrive "$Name-backup"
    New-Item -ItemType Directory -Path $backup | Out-Null
    @"
version: 1
tiers:
  - name: local
    level: 1
    kind: folder
  - name: backup
    level: 2
    kind: folder
    path: '$backup'
$(if ($WithArchive) { "  - name: archive`n    level: 3`n    kind: folder`n    path: '$(Join-Path $TestDrive "$Name-archive")'" })
retention:
  local_sessions: $LocalSessions
"@ | Set-Content -Path (Join-Path $path 'tierstorage.yaml')
    $path
}

# A completed session with one event and one snapshot; its backup is left to the caller.
# The workspace's own folder on a folder tier of New-TestWorkspace ("$ws-backup" or "$ws-archive"): every project keeps its
# objects in its namespace, named in the workspace's workspace.json.
function Get-TierFolder {
    param([Parameter(Mandatory)][string] $WorkspacePath, [ValidateSet('backup', 'archive')][string] $Tier = 'backup')
    $identity = Get-Content -Raw (Join-Path $WorkspacePath 'workspace.json') | ConvertFrom-Json
    Join-Path "$WorkspacePath-$Tier" $identity.namespace
}

function New-CompletedSession {
    param([string] $WorkspacePath, [string] $SessionId, [int] $Phase = 1)
    Start-Session -Phase $Phase -SessionId $SessionId -WorkspacePath $WorkspacePath | Out-Null
    Add-SessionEvent -Type tool_call -Tool 'Edit' -WorkspacePath $WorkspacePath -Confirm:$false | Out-Null
    Save-SessionSnapshot -Json '{"tasks":["backup"]}' -WorkspacePath $WorkspacePath -Confirm:$false | Out-Null
    Complete-Session -NoBackup -WorkspacePath $WorkspacePath -Confirm:$false
}

# This PowerShell again as a new process: pwsh itself, or `dotnet pwsh.dll` when it runs as the dotnet tool.
function Get-PowerShellCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return $process, (Join-Path $PSHOME 'pwsh.dll') }
    return , $process
}
