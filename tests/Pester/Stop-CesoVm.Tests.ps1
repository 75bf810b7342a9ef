#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Stop-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Stop-CesoVm x -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.StopCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Stop-CesoVm no-such-vm -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.StopCesoVmCommand'
        }

        It 'does nothing, without an error, for a VM that is already off' {
            (Get-CesoVm $script:Vm.Name).PowerState | Should -Be 'PoweredOff'
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $vm = Stop-CesoVm $script:Vm.Name -Kill -PassThru -ErrorAction Stop
            $vm.PowerState | Should -Be 'PoweredOff'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            Start-CesoVm $script:Vm.Name -Confirm:$false
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $script:Vm | Stop-CesoVm -Kill -WhatIf
            (Get-CesoVm $script:Vm.Name).PowerState | Should -Be 'PoweredOn'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        It 'powers off at once with -Kill' {
            (Stop-CesoVm $script:Vm.Name -Kill -PassThru -Confirm:$false).PowerState | Should -Be 'PoweredOff'
        }
    }
}
