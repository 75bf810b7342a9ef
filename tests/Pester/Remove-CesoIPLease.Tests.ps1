#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Remove-CesoIPLease' {
    BeforeAll {
        $null = Connect-CesoTestBed $script:Bed -Transport Soap
        $script:Template = (Get-CesoVm | Where-Object PowerState -eq 'PoweredOff')[0].Name
        New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
    }
    AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

    It 'keeps the lease of a VM removed with -KeepFiles, then releases it explicitly; Get-CesoIPLease lists it' {
        $vm = New-CesoVm ipl-a -Template $script:Template -IPPool lab
        $lease = Get-CesoIPLease -VmName ipl-a
        $lease.IPAddress | Should -Be '10.0.0.50'
        ($lease | Out-String) | Should -Match 'Pool\s+IPAddress\s+VmName'
        Remove-CesoVm $vm -KeepFiles -Confirm:$false
        (Get-CesoIPLease -Pool lab | ForEach-Object IPAddress) | Should -Be @('10.0.0.50')
        Get-CesoIPLease -Pool lab | Remove-CesoIPLease -WhatIf
        (Get-CesoIPLease -Pool lab).Count | Should -Be 1
        Get-CesoIPLease -Pool lab | Remove-CesoIPLease -Confirm:$false
        Get-CesoIPLease -Pool lab | Should -BeNullOrEmpty
        { Remove-CesoIPPool lab -WhatIf -ErrorAction Stop } | Should -Not -Throw
    }

    It 'writes IPLeaseNotFound for an address without a lease' {
        { Remove-CesoIPLease -Pool lab -Address 10.0.0.77 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'IPLeaseNotFound,Ceso.PowerShell.Commands.RemoveCesoIPLeaseCommand'
    }

    It 'makes Remove-CesoIPPool refuse a pool with leases with IPPoolInUse unless -Force' {
        $null = New-CesoVm ipl-b -Template $script:Template -IPPool lab
        { Remove-CesoIPPool lab -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolInUse,Ceso.PowerShell.Commands.RemoveCesoIPPoolCommand'
        Remove-CesoIPPool lab -Force -Confirm:$false
        Get-CesoIPPool | Should -BeNullOrEmpty
        Get-CesoVm ipl-b | Remove-CesoVm -Confirm:$false
    }
}
