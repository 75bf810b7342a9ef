#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Disconnect-CesoServer' {
    AfterEach { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

    It 'closes the default session when no -Server is given' {
        $null = Connect-CesoTestBed $script:Bed
        Disconnect-CesoServer -Confirm:$false
        Get-CesoServer | Should -BeNullOrEmpty
    }

    It 'closes sessions piped from Get-CesoServer and makes the remaining newest one the default' {
        $first = Connect-CesoTestBed $script:Bed
        $second = Connect-CesoTestBed $script:Bed
        $second | Disconnect-CesoServer -Confirm:$false
        $left = Get-CesoServer
        $left.Id | Should -Be $first.Id
        $left.IsDefault | Should -BeTrue
    }

    It 'changes nothing under -WhatIf' {
        $s = Connect-CesoTestBed $script:Bed
        Disconnect-CesoServer -Server $s -WhatIf
        (Get-CesoServer).Id | Should -Be $s.Id
    }

    It 'writes NotConnected for a server without a session' {
        { Disconnect-CesoServer -Server 'no-such-host' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.DisconnectCesoServerCommand'
    }

    It 'leaves later cmdlets without a default session' {
        $null = Connect-CesoTestBed $script:Bed
        Disconnect-CesoServer -Confirm:$false
        { Get-CesoVm -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoVmCommand'
    }
}
