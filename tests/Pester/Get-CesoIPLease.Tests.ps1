#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    Enter-CesoTestHome
}
AfterAll { Exit-CesoTestHome }

Describe 'Get-CesoIPLease' {
    It 'writes nothing without a store or leases' {
        Get-CesoIPLease | Should -BeNullOrEmpty
        New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
        Get-CesoIPLease -Pool lab | Should -BeNullOrEmpty
        Get-CesoIPPool lab | Get-CesoIPLease | Should -BeNullOrEmpty
        Get-CesoIPLease -Pool 'no*' -VmName 'web*' | Should -BeNullOrEmpty
    }
}
