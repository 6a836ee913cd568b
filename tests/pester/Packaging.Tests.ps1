BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
}

# What a user of the Gallery does, against a local repository: the package build.ps1 -Package makes is published with
# Publish-PSResource, installed with Install-PSResource, imported by name and used. It all happens in a child PowerShell
# whose HOME is under TestDrive, so the repository registration and the CurrentUser install never touch the real user.
Describe 'The module package' {
    BeforeAll {
        $script:Package = & (Join-Path $RepoRoot 'build/New-ModulePackage.ps1') -ModulePath (Split-Path $ModuleManifest) -DestinationPath (Join-Path $TestDrive 'packages')
        $userHome = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home')
        $repository = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'repository')
        $project = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'project')
        $script:Child = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name TierStorageTest -Uri '$repository' -Trusted
Publish-PSResource -NupkgPath '$Package' -Repository TierStorageTest
Install-PSResource -Name TierStorage -Repository TierStorageTest -Scope CurrentUser -TrustRepository
`$installed = Get-InstalledPSResource -Name TierStorage
Import-Module TierStorage
Set-Location '$project'
Initialize-TierWorkspace -Confirm:`$false | Out-Null
Start-Session -Phase 0 -SessionId session_20260101_090000 | Out-Null
Add-SessionEvent -Type tool_call -Tool Read -DurationMs 12 -Confirm:`$false
Complete-Session -NoBackup -Confirm:`$false | Out-Null
[pscustomobject]@{
    InstalledVersion = "`$(`$installed.Version)"
    InstalledFrom    = (Get-Module TierStorage).ModuleBase
    Cmdlets          = @(Get-Command -Module TierStorage).Count
    State            = "`$((Get-Session session_20260101_090000).State)"
    Events           = @(Get-SessionEvent -SessionId session_20260101_090000).Count
    Workspace        = (Get-Item ./.tierstorage/tierstorage.yaml).FullName
} | ConvertTo-Json -Compress
"@
        $environment = @{ HOME = "$userHome"; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null
                          TIERSTORAGE_DATA = (Join-Path $TestDrive 'data'); PSModulePath = $null }
        $saved = @{}
        foreach ($name in $environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $environment[$name]) }
        try {
            $powershell = @(Get-PowerShellCommand)
            Push-Location $project
            $script:Output = & $powershell[0] @($powershell | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $Child 2>&1
            $script:ExitCode = $LASTEXITCODE
        }
        finally {
            Pop-Location
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }
        $script:Result = $Output | Where-Object { "$_" -like '{*' } | Select-Object -Last 1 | ConvertFrom-Json
    }

    It 'is named TierStorage.{version}.nupkg after the manifest' {
        $version = (Import-PowerShellDataFile $ModuleManifest).ModuleVersion
        Split-Path -Leaf $Package | Should -Be "TierStorage.$version.nupkg"
    }

    It 'publishes to a local repository, installs and imports by name in a new PowerShell' {
        $ExitCode | Should -Be 0 -Because ($Output -join [Environment]::NewLine)
        $Result.InstalledVersion | Should -Be (Import-PowerShellDataFile $ModuleManifest).ModuleVersion
        $Result.InstalledFrom | Should -BeLike "$TestDrive*"
    }

    It 'the installed module exports every cmdlet and works' {
        $Result.Cmdlets | Should -Be @((Import-PowerShellDataFile $ModuleManifest).CmdletsToExport).Count
        $Result.State | Should -Be 'Completed'
        $Result.Events | Should -Be 3 -Because 'session_start, the tool call and session_end'
        $Result.Workspace | Should -Be (Join-Path $TestDrive 'project/.tierstorage/tierstorage.yaml')
    }

    It 'carries the native SQLite library of every supported platform' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($Package)
        try { $entries = $zip.Entries.FullName } finally { $zip.Dispose() }
        foreach ($rid in 'win-x64', 'linux-x64', 'osx-arm64') {
            $entries | Where-Object { $_ -like "Dependencies/runtimes/$rid/native/*" } | Should -Not -BeNullOrEmpty -Because $rid
        }
        $entries | Should -Contain 'TierStorage.psd1'
    }
}
