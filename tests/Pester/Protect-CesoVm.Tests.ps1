#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Protect-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Protect-CesoVm x -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.ProtectCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Protect-CesoVm no-such-vm -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.ProtectCesoVmCommand'
        }

        It 'makes later changes fail with VmProtected until Unprotect-CesoVm' {
            Protect-CesoVm $script:Vm.Name -Confirm:$false
            { Start-CesoVm $script:Vm.Name -ErrorAction Stop } |
                Should -Throw -ErrorId 'VmProtected,Ceso.PowerShell.Commands.StartCesoVmCommand'
            Unprotect-CesoVm $script:Vm.Name -Confirm:$false
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $script:Vm | Protect-CesoVm -WhatIf
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }
    }
}
