BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force
}

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $cmdletCases = (Import-PowerShellDataFile $ModuleManifest).CmdletsToExport | ForEach-Object { @{ Name = $_ } }
}

# Get-Help falls back to help generated from the syntax when the MAML is missing or malformed, silently: these tests
# fail in that case because generated help has no description, no parameter text and no examples.
Describe 'Get-Help <Name>' -ForEach $cmdletCases {
    BeforeAll {
        $script:help = Get-Help $Name -Full
        $script:command = Get-Command $Name
    }

    It 'has a one-sentence synopsis written for it' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name *"
        $help.Synopsis | Should -Match '\.$'
    }

    It 'has a description' {
        ($help.Description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $parameters = $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.Cmdlet]::CommonParameters }
        $undescribed = foreach ($parameter in $parameters) {
            $text = ($help.Parameters.Parameter | Where-Object Name -eq $parameter).Description.Text -join ''
            if (-not $text.Trim()) { $parameter }
        }
        $undescribed | Should -BeNullOrEmpty -Because 'every parameter needs a <summary> doc comment'
    }

    It 'has at least one example, each with code and an explanation' {
        $examples = @($help.Examples.Example)
        $examples.Count | Should -BeGreaterOrEqual 1
        foreach ($example in $examples) {
            $example.Code | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'has examples that parse, use the cmdlet and start with a TierStorage or core command' {
        foreach ($example in @($help.Examples.Example)) {
            $tokens = $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($example.Code, [ref] $tokens, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because $example.Code

            $names = $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true) |
                ForEach-Object { $_.GetCommandName() }
            $names | Should -Contain $Name -Because $example.Code
            $first = Get-Command ($names | Select-Object -First 1) -ErrorAction SilentlyContinue
            $first.ModuleName | Should -BeIn @('TierStorage', 'Microsoft.PowerShell.Core', 'Microsoft.PowerShell.Utility',
                'Microsoft.PowerShell.Management') -Because $example.Code
        }
    }

    It 'names its input and output types' {
        @($help.InputTypes.InputType.Type.Name) -join '' | Should -Not -BeNullOrEmpty
        $outputs = @($help.ReturnValues.ReturnValue.Type.Name)
        foreach ($outputType in $command.OutputType) {
            $outputs | Should -Contain $outputType.Name
        }
    }
}

Describe 'about topics' {
    It 'ships <_> in en-US' -ForEach 'about_TierStorage', 'about_TierStorage_Policy' {
        Join-Path (Split-Path $ModuleManifest) "en-US/$_.help.txt" | Should -Exist
    }

    It 'Get-Help about_TierStorage shows the overview' {
        $text = Get-Help about_TierStorage | Out-String
        foreach ($expected in 'THE TIERS', 'THE WORKSPACE', 'A TYPICAL DAY', 'PIPELINES', 'TIERSTORAGE_WORKSPACE', 'TIERSTORAGE_POLICY', 'EXIT CODES') {
            $text | Should -BeLike "*$expected*"
        }
    }

    It 'Get-Help about_TierStorage_Policy documents every key of the policy reference' {
        $text = Get-Help about_TierStorage_Policy | Out-String
        $reference = Get-Content (Join-Path $PSScriptRoot '../../examples/POLICY.md')
        # The first column of every table row of the reference is a key: | `retention` | ...
        $keys = $reference | Where-Object { $_ -match '^\| `([^`]+)` \|' } | ForEach-Object { $Matches[1] }
        $keys.Count | Should -BeGreaterThan 40
        $missing = $keys | Where-Object { -not $text.Contains($_) }
        $missing | Should -BeNullOrEmpty
    }

    It 'links the cmdlets to about_TierStorage' {
        (Get-Help Get-Session).RelatedLinks.NavigationLink.LinkText | Should -Contain 'about_TierStorage'
    }
}
