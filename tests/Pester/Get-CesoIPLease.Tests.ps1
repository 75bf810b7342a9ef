#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:PoolHome = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $script:OldHome = $env:CESO_HOME
    $env:CESO_HOME = $script:PoolHome
}
AfterAll {
    $env:CESO_HOME = $script:OldHome
    Remove-Item -Recurse -Force $script:PoolHome -ErrorAction SilentlyContinue
}

Describe 'Get-CesoIPLease' {
    It 'writes nothing without a store or leases' {
        Get-CesoIPLease | Should -BeNullOrEmpty
        New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
        Get-CesoIPLease -Pool lab | Should -BeNullOrEmpty
        Get-CesoIPPool lab | Get-CesoIPLease | Should -BeNullOrEmpty
        Get-CesoIPLease -Pool 'no*' -VmName 'web*' | Should -BeNullOrEmpty
    }
}
