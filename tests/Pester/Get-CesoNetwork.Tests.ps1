#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoNetwork' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Get-CesoNetwork -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoNetworkCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll { $null = Connect-CesoTestBed $script:Bed -Transport $Transport }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'converts to flat JSON and lists without record syntax' {
            $item = (Get-CesoNetwork)[0]
            ($item | ConvertTo-Json | ConvertFrom-Json).Name | Should -Be $item.Name
            ($item | Format-List | Out-String) | Should -Not -Match '\{ '
        }

        It 'lists the Networks of the test bed' {
            $all = Get-CesoNetwork
            $all | Should -Not -BeNullOrEmpty
            $all[0].GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoNetwork' # a type of Ceso's private load context: no type literal
            $expected = $null
            if ($null -ne $expected) { $all.Count | Should -Be $expected }
        }

        It 'filters by exact name and by wildcard' {
            $name = (Get-CesoNetwork)[0].Name
            (Get-CesoNetwork -Name $name).Name | Should -Be $name
            (Get-CesoNetwork -Name ($name.Substring(0, 1) + '*')).Name | Should -Contain $name
            Get-CesoNetwork -Name 'zzz*' -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'writes NetworkNotFound for an exact name that matches nothing' {
            { Get-CesoNetwork -Name 'no-such-network' -ErrorAction Stop } |
                Should -Throw -ErrorId 'NetworkNotFound,Ceso.PowerShell.Commands.GetCesoNetworkCommand'
        }

        It 'records the names for tab completion' {
            $name = (Get-CesoNetwork)[0].Name
            $line = "Get-CesoNetwork -Name " + $name.Substring(0, 1)
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.ListItemText | Should -Contain $name
        }
    }
}
