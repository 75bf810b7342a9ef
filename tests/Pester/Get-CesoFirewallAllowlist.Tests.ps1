#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoFirewallAllowlist' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Get-CesoFirewallAllowlist -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoFirewallAllowlistCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll { $null = Connect-CesoTestBed $script:Bed -Transport $Transport }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'lists SSH and the API by default, open to all' {
            $r = Get-CesoFirewallAllowlist
            $r.Name | Should -Be @('sshServer', 'vSphereClient')
            $r | ForEach-Object { $_.AllowedAll | Should -BeTrue; $_.Enabled | Should -BeTrue }
            (Get-CesoFirewallAllowlist | Format-Table | Out-String) | Should -Match 'sshServer\s+True\s+All'
        }

        It 'lists every ruleset with *, and names a missing one with FirewallRulesetNotFound' {
            @(Get-CesoFirewallAllowlist *).Count | Should -BeGreaterThan 10
            { Get-CesoFirewallAllowlist noSuchRuleset -ErrorAction Stop } | Should -Throw -ErrorId 'FirewallRulesetNotFound,Ceso.PowerShell.Commands.GetCesoFirewallAllowlistCommand'
        }
    }

    It 'reads the same lists over both transports after a change' {
        $null = Connect-CesoTestBed $script:Bed -Transport Ssh
        Set-CesoFirewallAllowlist 127.0.0.1, 10.1.0.0/16 -Ruleset sshServer -Confirm:$false
        $ssh = Get-CesoFirewallAllowlist sshServer | ConvertTo-Json
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        $null = Connect-CesoTestBed $script:Bed -Transport Soap
        Get-CesoFirewallAllowlist sshServer | ConvertTo-Json | Should -Be $ssh
        (Get-CesoFirewallAllowlist sshServer).AllowedIPAddresses | Should -Be @('10.1.0.0/16', '127.0.0.1')
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
    }
}
