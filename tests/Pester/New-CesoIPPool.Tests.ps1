#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'New-CesoIPPool' {
    AfterEach { Get-CesoIPPool | Remove-CesoIPPool -Force -Confirm:$false }

    It 'creates a pool and writes it with its size' {
        $pool = New-CesoIPPool -Name lab -Subnet 10.0.0.0/24 -Range 10.0.0.50-10.0.0.99 -Gateway 10.0.0.1 -DnsServer 10.0.0.53 -SearchDomain lab.example
        $pool.GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoIPPool'
        $pool.Size | Should -Be 50
        $pool.Free | Should -Be 50
        $pool.Ranges | Should -Be @('10.0.0.50-10.0.0.99')
        Test-Path (Join-Path $env:CESO_HOME 'ippools.db') | Should -BeTrue
    }

    It 'creates an IPv6 pool' {
        (New-CesoIPPool v6 fd00:10::/64 fd00:10::10-fd00:10::1f).Size | Should -Be 16
    }

    It 'creates nothing under -WhatIf' {
        New-CesoIPPool -Name lab -Subnet 10.0.0.0/24 -Range 10.0.0.50-10.0.0.99 -WhatIf | Should -BeNullOrEmpty
        Get-CesoIPPool | Should -BeNullOrEmpty
    }

    It 'refuses <Case> with <Id>' -ForEach @(
        @{ Case = 'a range outside the subnet'; Subnet = '10.0.0.0/24'; Range = '10.0.1.5-10.0.1.9'; Id = 'IPPoolRangeInvalid' }
        @{ Case = 'a reversed range'; Subnet = '10.0.0.0/24'; Range = '10.0.0.99-10.0.0.50'; Id = 'IPPoolRangeInvalid' }
        @{ Case = 'a host address as subnet'; Subnet = '10.0.0.7/24'; Range = '10.0.0.50-10.0.0.60'; Id = 'IPPoolSubnetInvalid' }
    ) {
        { New-CesoIPPool lab -Subnet $Subnet -Range $Range -ErrorAction Stop } | Should -Throw -ErrorId "$Id,Ceso.PowerShell.Commands.NewCesoIPPoolCommand"
    }

    It 'refuses a name that exists with IPPoolExists and an overlapping range with IPPoolOverlaps' {
        New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
        { New-CesoIPPool LAB 10.1.0.0/24 10.1.0.5-10.1.0.9 -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolExists,Ceso.PowerShell.Commands.NewCesoIPPoolCommand'
        { New-CesoIPPool lab2 10.0.0.0/24 10.0.0.90-10.0.0.120 -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolOverlaps,Ceso.PowerShell.Commands.NewCesoIPPoolCommand'
    }

    Context 'leased by New-CesoVm -IPPool over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Template = (Get-CesoVm | Where-Object PowerState -eq 'PoweredOff')[0].Name
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }
        AfterEach {
            Get-CesoVm -Name "ipp-$Transport-*" -ErrorAction SilentlyContinue | Remove-CesoVm -Confirm:$false -ErrorAction SilentlyContinue
        }

        It 'shows the address under -WhatIf without leasing it, then leases it, and Remove-CesoVm frees it' {
            New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.52 -Gateway 10.0.0.1 | Out-Null
            $preview = New-CesoVm "ipp-$Transport-a" -Template $script:Template -IPPool lab -WhatIf 6>&1 | Out-String
            $preview | Should -Match "would lease 10\.0\.0\.50/24 from IP pool 'lab' for 'ipp-$Transport-a'"
            Get-CesoIPLease | Should -BeNullOrEmpty

            $vm = New-CesoVm "ipp-$Transport-a" -Template $script:Template -IPPool lab
            $vm.GuestInfoIPAddresses | Should -Be @('10.0.0.50')
            $lease = Get-CesoIPLease -Pool lab
            $lease.IPAddress | Should -Be '10.0.0.50'
            $lease.VmName | Should -Be "ipp-$Transport-a"
            $lease.VmId | Should -Be $vm.Id
            (Get-CesoIPPool lab).Used | Should -Be 1

            Remove-CesoVm $vm -Confirm:$false
            Get-CesoIPLease -Pool lab | Should -BeNullOrEmpty
        }

        It 'never hands out an address a VM on the host already carries' {
            New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.52 | Out-Null
            New-CesoVm "ipp-$Transport-static" -Template $script:Template -IPAddress 10.0.0.50/24 | Out-Null
            (New-CesoVm "ipp-$Transport-b" -Template $script:Template -IPPool lab).GuestInfoIPAddresses | Should -Be @('10.0.0.51')
            (Get-CesoIPLease -Pool lab | ForEach-Object IPAddress) | Should -Be @('10.0.0.51')
        }

        It 'releases the lease when the plan fails, and says IPPoolExhausted when nothing is left' {
            New-CesoIPPool tiny 10.0.0.0/24 10.0.0.60 | Out-Null
            { New-CesoVm $script:Template -Template $script:Template -IPPool tiny -ErrorAction Stop } | Should -Throw -ErrorId 'VmExists,Ceso.PowerShell.Commands.NewCesoVmCommand'
            Get-CesoIPLease -Pool tiny | Should -BeNullOrEmpty
            New-CesoVm "ipp-$Transport-c" -Template $script:Template -IPPool tiny | Out-Null
            { New-CesoVm "ipp-$Transport-d" -Template $script:Template -IPPool tiny -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolExhausted,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'refuses -IPPool with -IPAddress and an unknown pool' {
            { New-CesoVm "ipp-$Transport-e" -Template $script:Template -IPPool lab -IPAddress 10.0.0.9/24 -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolAndIPAddress,Ceso.PowerShell.Commands.NewCesoVmCommand'
            { New-CesoVm "ipp-$Transport-e" -Template $script:Template -IPPool nope -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolNotFound,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'Copy-CesoVm -IPPool leases for the copy (not under -WhatIf), and Set-CesoVm -IPPool re-IPs it and frees the old lease' {
            New-CesoIPPool lab 10.0.0.0/24 10.0.0.70-10.0.0.71 -Gateway 10.0.0.1 | Out-Null
            New-CesoIPPool other 10.0.1.0/24 10.0.1.80-10.0.1.80 -Gateway 10.0.1.1 | Out-Null
            $preview = Copy-CesoVm $script:Template -Name "ipp-$Transport-ca" -IPPool lab -WhatIf 6>&1 | Out-String
            $preview | Should -Match "would lease 10\.0\.0\.70/24 from IP pool 'lab' for 'ipp-$Transport-ca'"
            Get-CesoIPLease | Should -BeNullOrEmpty

            $copy = Copy-CesoVm $script:Template -Name "ipp-$Transport-ca" -IPPool lab
            $copy.GuestInfoIPAddresses | Should -Be @('10.0.0.70')
            $lease = Get-CesoIPLease -Pool lab
            ($lease.VmName, $lease.VmId) | Should -Be @("ipp-$Transport-ca", $copy.Id)

            $changed = Set-CesoVm $copy -IPPool other -PassThru -Confirm:$false
            $changed.GuestInfoIPAddresses | Should -Be @('10.0.1.80')
            Get-CesoIPLease -Pool lab | Should -BeNullOrEmpty -Because 'the old lease is released once the change ran'
            (Get-CesoIPLease -Pool other).VmName | Should -Be "ipp-$Transport-ca"
        }

        It 'Copy-CesoVm -IPPool of an exhausted pool fails with IPPoolExhausted and makes no VM' {
            New-CesoIPPool tiny 10.0.0.0/24 10.0.0.72 | Out-Null
            Copy-CesoVm $script:Template -Name "ipp-$Transport-cb" -IPPool tiny | Out-Null
            { Copy-CesoVm $script:Template -Name "ipp-$Transport-cc" -IPPool tiny -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolExhausted,Ceso.PowerShell.Commands.CopyCesoVmCommand'
            Get-CesoVm -Name "ipp-$Transport-cc" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            @(Get-CesoIPLease -Pool tiny).Count | Should -Be 1
        }
    }

    Context 'concurrently' {
        It 'gives 20 New-CesoVm -IPPool in parallel runspaces 20 distinct addresses' {
            New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
            $session = Connect-CesoTestBed $script:Bed -Transport Soap
            $template = (Get-CesoVm | Where-Object PowerState -eq 'PoweredOff')[0].Name
            Disconnect-CesoServer $session -Confirm:$false
            $info = $script:Bed.Info
            $module = $script:ModulePath
            $results = 1..20 | ForEach-Object -ThrottleLimit 10 -Parallel {
                Import-Module $using:module
                $i = $using:info
                $cred = [pscredential]::new($i.username, (ConvertTo-SecureString $i.password -AsPlainText -Force))
                Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential $cred -Transport Soap -WarningAction SilentlyContinue | Out-Null
                $vm = New-CesoVm ('ipp-par-{0:00}' -f $_) -Template $using:template -IPPool lab -ErrorAction Continue
                [pscustomobject]@{ Name = $vm.Name; Address = @($vm.GuestInfoIPAddresses)[0]; Errors = ($Error | ForEach-Object { "$_" }) -join '; ' }
            }
            $results.Count | Should -Be 20
            ($results | Where-Object Errors).Errors | Select-Object -First 3 | Should -BeNullOrEmpty
            $got = @($results | ForEach-Object { [string] $_.Address } | Where-Object { $_ } | Sort-Object -Unique)
            $got.Length | Should -Be 20 -Because ($got -join ', ')
            (Get-CesoIPLease -Pool lab).Count | Should -Be 20
            # Member enumeration works: the property is IPAddress (an array's own Address method would shadow "Address").
            $leased = (Get-CesoIPLease -Pool lab).IPAddress
            ($got -join ',') | Should -Be (@($leased | Sort-Object) -join ',')

            $null = Connect-CesoTestBed $script:Bed -Transport Soap
            Get-CesoVm -Name 'ipp-par-*' | Remove-CesoVm -Confirm:$false
            Get-CesoIPLease -Pool lab | Should -BeNullOrEmpty
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        }
    }
}
