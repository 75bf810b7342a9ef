#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Copy-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Copy-CesoVm x -Name y -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.CopyCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Copy-CesoVm no-such-vm -Name pester-c -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.CopyCesoVmCommand'
        }

        It "writes VmExists when the copy's name is taken" {
            { Copy-CesoVm $script:Vm.Name -Name $script:Vm.Name -ErrorAction Stop } |
                Should -Throw -ErrorId 'VmExists,Ceso.PowerShell.Commands.CopyCesoVmCommand'
        }

        It 'writes InvalidVmName for a name that cannot be a folder' {
            { Copy-CesoVm $script:Vm.Name -Name 'bad/name' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidVmName,Ceso.PowerShell.Commands.CopyCesoVmCommand'
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $script:Vm | Copy-CesoVm -Name pester-copy-whatif -WhatIf | Should -BeNullOrEmpty
            Get-CesoVm -Name pester-copy-whatif -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        It 'copies a piped VM with a new identity' {
            $copy = $script:Vm | Copy-CesoVm -Name pester-copy -Confirm:$false
            $copy.Name | Should -Be 'pester-copy'
            $copy.BiosUuid | Should -Not -Be $script:Vm.BiosUuid
            Remove-CesoVm pester-copy -Confirm:$false
        }
    }
}
