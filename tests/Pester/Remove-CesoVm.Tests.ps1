#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Remove-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Remove-CesoVm x -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.RemoveCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes VmNotFound for a VM that does not exist' {
            { Remove-CesoVm no-such-vm -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.RemoveCesoVmCommand'
        }

        It 'writes InvalidPowerState for a running VM' {
            Start-CesoVm $script:Vm.Name -Confirm:$false
            { Remove-CesoVm $script:Vm.Name -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidPowerState,Ceso.PowerShell.Commands.RemoveCesoVmCommand'
            Stop-CesoVm $script:Vm.Name -Kill -Confirm:$false
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $script:Vm | Remove-CesoVm -WhatIf
            Get-CesoVm $script:Vm.Name | Should -Not -BeNullOrEmpty
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        It 'declares ConfirmImpact High' {
            (Get-Command Remove-CesoVm).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false).ConfirmImpact |
                Should -Be 'High'
        }
    }
}
