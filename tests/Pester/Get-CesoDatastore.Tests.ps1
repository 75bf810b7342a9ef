#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoDatastore' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Get-CesoDatastore -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoDatastoreCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll { $null = Connect-CesoTestBed $script:Bed -Transport $Transport }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'converts to flat JSON and lists without record syntax' {
            $item = (Get-CesoDatastore)[0]
            ($item | ConvertTo-Json | ConvertFrom-Json).Name | Should -Be $item.Name
            ($item | Format-List | Out-String) | Should -Not -Match '\{ '
        }

        It 'lists the Datastores of the test bed' {
            $all = Get-CesoDatastore
            $all | Should -Not -BeNullOrEmpty
            $all[0].GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoDatastore' # a type of Ceso's private load context: no type literal
            $expected = $script:Bed.Info.datastores.Count
            if ($null -ne $expected) { $all.Count | Should -Be $expected }
        }

        It 'filters by exact name and by wildcard' {
            $name = $script:Bed.Info.datastores[0].name
            (Get-CesoDatastore -Name $name).Name | Should -Be $name
            (Get-CesoDatastore -Name ($name.Substring(0, 1) + '*')).Name | Should -Contain $name
            Get-CesoDatastore -Name 'zzz*' -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'writes DatastoreNotFound for an exact name that matches nothing' {
            { Get-CesoDatastore -Name 'no-such-datastore' -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatastoreNotFound,Ceso.PowerShell.Commands.GetCesoDatastoreCommand'
        }

        It 'records the names for tab completion' {
            $name = $script:Bed.Info.datastores[0].name
            $line = "Get-CesoDatastore -Name " + $name.Substring(0, 1)
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.ListItemText | Should -Contain $name
        }
    }
}
