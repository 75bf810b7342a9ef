#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoHost' {
    AfterEach { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

    It 'fails with NotConnected when nothing is connected' {
        { Get-CesoHost -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoHostCommand'
    }

    It 'converts to flat JSON and lists without record syntax' {
        Connect-CesoTestBed $script:Bed | Out-Null
        $json = Get-CesoHost | ConvertTo-Json | ConvertFrom-Json
        $json.Version | Should -BeOfType ([string])
        (Get-CesoHost | Format-List | Out-String) | Should -Not -Match '\{ '
    }

    It 'reads the same host over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        $null = Connect-CesoTestBed $script:Bed -Transport $Transport
        $h = Get-CesoHost
        $h.GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoHost' # a type of Ceso's private load context: no type literal
        $h.Version | Should -Not -BeNullOrEmpty
        $h.Server | Should -Be $script:Bed.Info.soapHost
    }

    It 'takes the session from the pipeline' {
        $s = Connect-CesoTestBed $script:Bed
        ($s | Get-CesoHost).Server | Should -Be $s.Name
    }

    It 'writes NotConnected for a named server without a session' {
        $null = Connect-CesoTestBed $script:Bed
        { Get-CesoHost -Server 'no-such-host' -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoHostCommand'
    }
}
