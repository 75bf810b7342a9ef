#Requires -Modules Pester
# Module-wide rules, checked on the packaged module (out/Ceso).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Module = Get-Module Ceso
    $script:Manifest = Import-PowerShellDataFile (Join-Path $script:RepoRoot 'Ceso.psd1')
}

Describe 'The Ceso module' {
    It 'exports exactly the cmdlets the manifest lists' {
        $exported = $script:Module.ExportedCmdlets.Keys | Sort-Object
        $exported | Should -Not -BeNullOrEmpty
        $exported | Should -Be ($script:Manifest.CmdletsToExport | Sort-Object)
    }

    It 'loads the engine and its dependencies into its own load context from bin/' {
        $null = Get-CesoAuditLog -Last 1 # touches the engine
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Ceso.Engine' }
        $engine | Should -HaveCount 1
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name | Should -Be 'Ceso'
        Split-Path (Split-Path $engine.Location) -Leaf | Should -Be 'bin'
    }

    It 'exports no functions, aliases or variables' {
        $script:Module.ExportedFunctions.Count | Should -Be 0
        $script:Module.ExportedAliases.Count | Should -Be 0
        $script:Module.ExportedVariables.Count | Should -Be 0
    }

    It 'uses only approved verbs' {
        $approved = (Get-Verb).Verb
        foreach ($c in $script:Module.ExportedCmdlets.Values) { $approved | Should -Contain $c.Verb -Because $c.Name }
    }

    It 'declares an output type on every cmdlet' {
        foreach ($c in $script:Module.ExportedCmdlets.Values) { $c.OutputType | Should -Not -BeNullOrEmpty -Because $c.Name }
    }

    It 'supports -WhatIf on every cmdlet whose verb changes state' {
        $readOnly = 'Get', 'Test', 'Find', 'Search', 'Show', 'Measure', 'Compare', 'Resolve', 'Select', 'Read', 'Watch', 'Format', 'Connect'
        foreach ($c in $script:Module.ExportedCmdlets.Values | Where-Object Verb -notin $readOnly) {
            $c.Parameters.Keys | Should -Contain 'WhatIf' -Because $c.Name
        }
    }

    It 'is Core-only, needs PowerShell 7.4 and loads the format file' {
        $script:Manifest.CompatiblePSEditions | Should -Be @('Core')
        $script:Manifest.PowerShellVersion | Should -Be '7.4'
        $script:Module.ExportedFormatFiles | ForEach-Object { Split-Path $_ -Leaf } | Should -Contain 'Ceso.Format.ps1xml'
    }

    It 'has a table view for every output type' {
        foreach ($c in $script:Module.ExportedCmdlets.Values) {
            foreach ($t in $c.OutputType.Name | Where-Object { $_ -like 'Ceso.*' }) {
                Get-FormatData -TypeName $t | Should -Not -BeNullOrEmpty -Because "$($c.Name) writes $t"
            }
        }
    }

    It 'ships help for every cmdlet with at least one example' {
        foreach ($c in $script:Module.ExportedCmdlets.Keys) {
            $md = Join-Path $script:RepoRoot 'docs' 'en-US' "$c.md"
            $md | Should -Exist
            Get-Content -Raw $md | Should -Match '### Example'
        }
    }

    It 'fails with NotConnected, not a bare exception, when nothing is connected' {
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        { Get-CesoHost -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoHostCommand'
    }
}
