#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Unprotect-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Unprotect-CesoVm x -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.UnprotectCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Unprotect-CesoVm no-such-vm -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.UnprotectCesoVmCommand'
        }

        It 'lifts the protection' {
            Protect-CesoVm $script:Vm.Name -Confirm:$false
            (Unprotect-CesoVm $script:Vm.Name -PassThru -Confirm:$false).Annotation | Should -Not -Match 'ceso:protected'
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            Protect-CesoVm $script:Vm.Name -Confirm:$false
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $script:Vm | Unprotect-CesoVm -WhatIf
            (Get-CesoVm $script:Vm.Name).Annotation | Should -Match 'ceso:protected'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        AfterAll { Unprotect-CesoVm $script:Vm.Name -Confirm:$false -ErrorAction SilentlyContinue }
    }
}
