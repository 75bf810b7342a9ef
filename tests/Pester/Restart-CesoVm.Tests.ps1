#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Restart-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Restart-CesoVm x -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.RestartCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Restart-CesoVm no-such-vm -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.RestartCesoVmCommand'
        }

        It 'writes InvalidPowerState for a VM that is off' {
            { Restart-CesoVm $script:Vm.Name -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidPowerState,Ceso.PowerShell.Commands.RestartCesoVmCommand'
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            Start-CesoVm $script:Vm.Name -Confirm:$false
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $script:Vm | Restart-CesoVm -WhatIf
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        It 'resets a running VM' {
            (Restart-CesoVm $script:Vm.Name -PassThru -Confirm:$false).PowerState | Should -Be 'PoweredOn'
            Stop-CesoVm $script:Vm.Name -Kill -Confirm:$false
        }
    }
}
