#Requires -Modules Pester
# The compiled help that ships in out/Ceso/en-US (built from docs/ by build/HelpGen): what Get-Help shows a user.
BeforeDiscovery {
    # The cmdlets to check are the manifest's exports (Module.Tests.ps1 proves the module exports exactly these).
    $manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '..' '..' 'Ceso.psd1')
    $script:CmdletCases = $manifest.CmdletsToExport | Sort-Object | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Get-Help <Name> -Full' -ForEach $script:CmdletCases {
    BeforeAll {
        $script:Command = Get-Command $Name -Module Ceso -ErrorAction Stop
        $script:Help = Get-Help $Name -Full
    }

    It 'has a synopsis that is not just the syntax' {
        $synopsis = "$($script:Help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -Be (Get-Command $Name -Syntax).Trim()
        $synopsis | Should -Not -Match "^$([regex]::Escape($Name))\s+\["
    }

    It 'has a description' {
        ($script:Help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter of the cmdlet (WhatIf and Confirm included)' {
        $parameters = $script:Command.Parameters.Keys | Where-Object { $_ -notin $script:Common }
        foreach ($parameter in $parameters) {
            $entry = @($script:Help.parameters.parameter | Where-Object name -EQ $parameter)
            $entry | Should -HaveCount 1 -Because "-$parameter of $Name needs one help entry"
            ($entry[0].description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a description"
        }
    }

    It 'has at least one example with code' {
        $examples = @($script:Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 1
        foreach ($example in $examples) { "$($example.code)".Trim() | Should -Not -BeNullOrEmpty -Because $example.title }
    }
}

Describe 'Get-Help about_Ceso' {
    It 'returns the about topic as text' {
        $text = Get-Help about_Ceso | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'Connect-CesoServer'
    }
}
