#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    Enter-CesoTestHome
}
AfterAll { Exit-CesoTestHome }

Describe 'Remove-CesoIPPool' {
    It 'removes an unused pool, and keeps it under -WhatIf' {
        New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
        Remove-CesoIPPool lab -WhatIf
        Get-CesoIPPool lab | Should -Not -BeNullOrEmpty
        Get-CesoIPPool lab | Remove-CesoIPPool -Confirm:$false
        Get-CesoIPPool | Should -BeNullOrEmpty
    }

    It 'writes IPPoolNotFound for a pool that does not exist' {
        { Remove-CesoIPPool nope -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolNotFound,Ceso.PowerShell.Commands.RemoveCesoIPPoolCommand'
    }

    It 'has ConfirmImpact High' {
        (Get-Command Remove-CesoIPPool).ImplementingType.GetCustomAttributes($true) |
            Where-Object { $_.GetType().Name -eq 'CmdletAttribute' } | ForEach-Object ConfirmImpact | Should -Be 'High'
    }
}
