#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoServer' {
    AfterEach { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

    It 'writes nothing when no session is open' {
        Get-CesoServer | Should -BeNullOrEmpty
    }

    It 'converts to JSON that names the transport, and lists without record syntax' {
        Connect-CesoTestBed $script:Bed -Transport Ssh | Out-Null
        Get-CesoServer | ConvertTo-Json | Should -Match '"Transport": "Ssh"'
        (Get-CesoServer | Format-List | Out-String) | Should -Not -Match '\{ '
    }

    It 'lists the open sessions with exactly one default' {
        $null = Connect-CesoTestBed $script:Bed
        $null = Connect-CesoTestBed $script:Bed -NoSoap -Transport Ssh
        $all = Get-CesoServer
        $all.Count | Should -Be 2
        @($all | Where-Object IsDefault).Count | Should -Be 1
        ($all | Where-Object IsDefault).Transport | Should -Be 'Ssh'
    }

    It 'filters by name with wildcards' {
        $null = Connect-CesoTestBed $script:Bed
        (Get-CesoServer -Name '127.*').Name | Should -Be $script:Bed.Info.soapHost
        Get-CesoServer -Name 'zzz*' | Should -BeNullOrEmpty
    }

    It 'writes NotConnected for an exact name without a session' {
        { Get-CesoServer -Name 'no-such-host' -ErrorAction Stop } |
            Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoServerCommand'
    }
}
