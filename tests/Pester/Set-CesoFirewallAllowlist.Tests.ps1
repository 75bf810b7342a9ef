#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll {
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Stop-CesoTestBed $script:Bed
}

Describe 'Set-CesoFirewallAllowlist' {
    It 'has ConfirmImpact High' {
        (Get-Command Set-CesoFirewallAllowlist).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll { $null = Connect-CesoTestBed $script:Bed -Transport $Transport }
        AfterAll {
            Set-CesoFirewallAllowlist -AllowAll -Confirm:$false
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        }

        It 'refuses a list that would lock out the address Ceso is connected from, changing nothing' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            { Set-CesoFirewallAllowlist 10.0.0.0/24 -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'FirewallLockout,Ceso.PowerShell.Commands.SetCesoFirewallAllowlistCommand' -ExpectedMessage '*127.0.0.1*'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            (Get-CesoFirewallAllowlist).AllowedAll | Should -Be @($true, $true)
        }

        It 'shows the exact commands under -WhatIf and changes nothing' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            $out = Set-CesoFirewallAllowlist 10.0.0.0/24, 127.0.0.1 -WhatIf 6>&1 | Out-String
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            $preview = (Get-CesoAuditLog -Operation SetFirewallAllowlist -Result preview -Last 2).Command -join "`n"
            if ($Transport -eq 'Ssh') {
                $preview | Should -Match "esxcli network firewall ruleset allowedip add '--ruleset-id=sshServer' '--ip-address=10.0.0.0/24' && .* && esxcli network firewall ruleset set '--ruleset-id=sshServer' '--allowed-all=false'"
            }
            else {
                $preview | Should -Match 'UpdateRuleset\(id="vSphereClient", spec.allowedHosts=\{allIp=false, 10.0.0.0/24, 127.0.0.1\}\)'
            }
        }

        It 'sets the list, with the connected address, and puts any address back with -AllowAll' {
            $after = Set-CesoFirewallAllowlist 10.0.0.0/24, 127.0.0.1 -Confirm:$false -PassThru
            $after | ForEach-Object { $_.AllowedAll | Should -BeFalse; $_.AllowedIPAddresses | Should -Be @('10.0.0.0/24', '127.0.0.1') }
            (Get-CesoVm).Count | Should -Be 1  # still connected
            Set-CesoFirewallAllowlist 10.0.0.0/24, 127.0.0.1 -Confirm:$false -Verbose 4>&1 | Out-String | Should -Match 'nothing to do'
            (Set-CesoFirewallAllowlist -AllowAll -Ruleset sshServer -Confirm:$false -PassThru).AllowedAll | Should -BeTrue
        }

        It 'refuses bad input before reading the host: <Why>' -ForEach @(
            @{ Why = 'a network not on its base address'; Params = @{ AllowedIPAddress = '10.0.0.5/24' }; Id = 'FirewallAddressInvalid' }
            @{ Why = 'not an address'; Params = @{ AllowedIPAddress = 'example.com' }; Id = 'FirewallAddressInvalid' }
            @{ Why = 'an unknown ruleset'; Params = @{ AllowedIPAddress = '127.0.0.1'; Ruleset = 'nope' }; Id = 'FirewallRulesetNotFound' }
        ) {
            { Set-CesoFirewallAllowlist @Params -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "$Id,Ceso.PowerShell.Commands.SetCesoFirewallAllowlistCommand"
        }
    }

    It 'is refused in an agent session without a grant' {
        $null = Connect-CesoTestBed $script:Bed
        $env:CESO_AGENT = 'pester-fw'
        try { $errs = @(Set-CesoFirewallAllowlist 127.0.0.1 -Confirm:$false -ErrorAction Continue 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) }
        finally { Remove-Item Env:CESO_AGENT }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
        (Get-CesoFirewallAllowlist).AllowedAll | Should -Be @($true, $true)
    }
}
