#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Set-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Set-CesoVm x -NumCpu 2 -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.SetCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Set-CesoVm no-such-vm -NumCpu 2 -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.SetCesoVmCommand'
        }

        It 'writes InvalidIPAddress for a bad re-IP address' {
            { Set-CesoVm $script:Vm.Name -IPAddress 'not-an-ip' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidIPAddress,Ceso.PowerShell.Commands.SetCesoVmCommand'
        }

        It 'writes NetworkNeedsIPAddress for -DnsServer without -IPAddress and leaves the guest network alone' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            { Set-CesoVm $script:Vm.Name -DnsServer 10.0.0.53 -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'NetworkNeedsIPAddress,Ceso.PowerShell.Commands.SetCesoVmCommand'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
        }

        It 'rejects -ExtendDisk with one number' {
            { Set-CesoVm $script:Vm.Name -ExtendDisk 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,Ceso.PowerShell.Commands.SetCesoVmCommand'
        }

        It 'writes IsoAndEject for -IsoPath with -EjectIso' {
            { Set-CesoVm $script:Vm.Name -IsoPath '[datastore1] a.iso' -EjectIso -ErrorAction Stop } |
                Should -Throw -ErrorId 'IsoAndEject,Ceso.PowerShell.Commands.SetCesoVmCommand'
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            Set-CesoVm $script:Vm.Name -NumCpu 3 -MemoryGB 3 -AddDiskGB 1 -WhatIf
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        It 'changes CPU and memory and passes the VM on' {
            $vm = Set-CesoVm $script:Vm.Name -NumCpu 2 -MemoryGB 1 -PassThru -Confirm:$false
            $vm.NumCpu | Should -Be 2
            $vm.MemoryMB | Should -Be 1024
        }
    }
}
