#Requires -Modules Pester
# Module-wide rules, checked on the packaged module (out/Ceso).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Module = Get-Module Ceso
    $script:Manifest = Import-PowerShellDataFile (Join-Path $script:RepoRoot 'Ceso.psd1')
    $script:NuGetPackages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
}

Describe 'The Ceso module' {
    It 'exports exactly the cmdlets the manifest lists' {
        $exported = $script:Module.ExportedCmdlets.Keys | Sort-Object
        $exported | Should -Not -BeNullOrEmpty
        $exported | Should -Be ($script:Manifest.CmdletsToExport | Sort-Object)
    }

    It 'loads the cmdlets, the engine and their dependencies into its own load context from bin/' {
        $null = Get-CesoAuditLog -Last 1 # touches the engine
        foreach ($name in 'Ceso.PowerShell', 'Ceso.Engine') {
            $assembly = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name }
            $assembly | Should -HaveCount 1 -Because $name
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name | Should -Be 'Ceso' -Because $name
            Split-Path (Split-Path $assembly.Location) -Leaf | Should -Be 'bin' -Because $name
        }
        # Only the loader is in PowerShell's default context, and the module folder has nothing else at its top.
        $loader = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Ceso.Loader' }
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($loader) | Should -Be ([System.Runtime.Loader.AssemblyLoadContext]::Default)
        (Get-ChildItem (Split-Path $script:ModulePath) -Filter *.dll).Name | Should -Be @('Ceso.Loader.dll')
    }

    It 'imports again after Remove-Module and after Import-Module -Force, with every cmdlet working' {
        Remove-Module Ceso
        Get-Command -Module Ceso -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Import-Module $script:ModulePath -ErrorAction Stop
        (Get-Module Ceso).ExportedCmdlets.Keys | Sort-Object | Should -Be ($script:Manifest.CmdletsToExport | Sort-Object)
        Import-Module $script:ModulePath -Force -ErrorAction Stop
        (Get-Module Ceso).ExportedCmdlets.Keys | Sort-Object | Should -Be ($script:Manifest.CmdletsToExport | Sort-Object)
        { Get-CesoAuditLog -Last 1 -ErrorAction Stop } | Should -Not -Throw
        $script:Module = Get-Module Ceso
    }

    It 'refuses, saying to start a new pwsh, to load a second copy of Ceso from another folder into the same process' {
        $copy = Join-Path ([IO.Path]::GetTempPath()) ('ceso-copy-' + [guid]::NewGuid().ToString('N'))
        Copy-Item -Recurse (Split-Path $script:ModulePath) $copy
        try {
            $job = Start-Job -ArgumentList $script:ModulePath, (Join-Path $copy 'Ceso.psd1') -ScriptBlock {
                param($First, $Second)
                Import-Module $First -ErrorAction Stop
                try { Import-Module $Second -ErrorAction Stop; 'imported' } catch { $_.Exception.Message }
                (Get-Command Get-CesoVm).Module.Path
            }
            $out = $job | Wait-Job -Timeout 120 | Receive-Job
            $job | Remove-Job -Force
            $out[0] | Should -Match 'already loaded in this PowerShell process.*Start a new pwsh'
            $out[1] | Should -BeLike "$(Split-Path $script:ModulePath)*" # the first copy still works
        }
        finally {
            Remove-Item -Recurse -Force $copy -ErrorAction SilentlyContinue
        }
    }

    It 'works in a session that already loaded a different YamlDotNet, and reads config.yaml with its own' {
        $oldYaml = Join-Path $script:NuGetPackages 'yamldotnet' '13.1.1' 'lib' 'net6.0' 'YamlDotNet.dll'
        $oldYaml | Should -Exist -Because 'build/tools/Tools.csproj downloads YamlDotNet 13.1.1'
        $job = Start-Job -ArgumentList $oldYaml, $script:ModulePath -ScriptBlock {
            param($OldYaml, $ModulePath)
            $ErrorActionPreference = 'Stop'
            Add-Type -Path $OldYaml
            # The other module's YamlDotNet really is in use before Ceso arrives.
            $other = [YamlDotNet.Serialization.Deserializer]::new().Deserialize[object]('a: 1')
            $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-yaml-' + [guid]::NewGuid().ToString('N'))
            $null = New-Item -ItemType Directory $env:CESO_HOME
            Set-Content (Join-Path $env:CESO_HOME 'config.yaml') "templates:`n  lts-noble:`n    vm: tpl-noble`n    description: Ubuntu 24.04`n"
            Import-Module $ModulePath
            # Tab completion of -Template reads config.yaml through the engine's YamlDotNet 16 in Ceso's context.
            $completion = TabExpansion2 -inputScript 'New-CesoVm -Template lts' -cursorColumn 24
            $yamls = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'YamlDotNet' }
            [pscustomobject]@{
                Other       = $other['a']
                Completions = @($completion.CompletionMatches.CompletionText)
                Yaml        = @($yamls | ForEach-Object { '{0}@{1}' -f $_.GetName().Version.Major, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name } | Sort-Object)
            }
            Remove-Item -Recurse -Force $env:CESO_HOME
        }
        $result = $job | Wait-Job -Timeout 120 | Receive-Job -ErrorAction Stop
        $job | Remove-Job -Force
        $result.Other | Should -Be '1'
        $result.Completions | Should -Contain 'lts-noble'
        $result.Yaml | Should -Be @('13@Default', '16@Ceso')
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

Describe 'The Ceso module in parallel runspaces' {
    BeforeAll {
        $script:Bed = Start-CesoTestBed -VmCount 3
    }
    AfterAll {
        Stop-CesoTestBed $script:Bed
    }

    It 'imports and lists VMs in every runspace of ForEach-Object -Parallel, each with its own session' {
        $testBedScript = Join-Path $PSScriptRoot 'TestBed.ps1'
        $bed = $script:Bed
        $results = 1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
            . $using:testBedScript
            $env:CESO_HOME = $using:bed.CesoHome
            Import-CesoBuiltModule
            $null = Connect-CesoTestBed $using:bed
            [pscustomobject]@{ Run = $_; Vms = @(Get-CesoVm -ErrorAction Stop).Count; Servers = @(Get-CesoServer).Count }
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        }
        $results | Should -HaveCount 4
        foreach ($r in $results) {
            $r.Vms | Should -Be 3 -Because "runspace $($r.Run) lists the test bed's VMs"
            $r.Servers | Should -Be 1 -Because 'sessions belong to their runspace'
        }
    }
}
