#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 3
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Get-CesoVm -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.GetCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll { $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'lists every VM of the test bed' {
            $vms = Get-CesoVm
            $vms.Count | Should -Be $script:Bed.Info.vms
            $vms[0].GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoVm' # a type of Ceso's private load context: no type literal
        }

        It 'converts to JSON that names the power state, and lists disks and NICs without record syntax' {
            $vm = (Get-CesoVm)[0]
            $vm | ConvertTo-Json | Should -Match '"PowerState": "(PoweredOff|PoweredOn|Suspended|Unknown)"'
            $list = $vm | Format-List | Out-String -Width 200
            $list | Should -Not -Match '\{ '
            $list | Should -Match 'Disks\s*: 0: \['
            ($vm | Format-Table | Out-String) | Should -Match 'PowerState'
        }

        It 'filters by wildcard and by exact name, case-insensitively' {
            $first = (Get-CesoVm)[0]
            (Get-CesoVm -Name ($first.Name.Substring(0, 2) + '*')).Name | Should -Contain $first.Name
            (Get-CesoVm -Name $first.Name.ToUpperInvariant()).Id | Should -Be $first.Id
        }

        It 'writes VmNotFound naming the VM and continues with the other names' {
            $first = (Get-CesoVm)[0]
            $found = Get-CesoVm -Name 'no-such-vm', $first.Name -ErrorVariable err -ErrorAction SilentlyContinue
            $found.Name | Should -Be $first.Name
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'VmNotFound,Ceso.PowerShell.Commands.GetCesoVmCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be 'no-such-vm'
            $err[0].Exception.Message | Should -Match "'no-such-vm'"
        }

        It 'does not fail when a wildcard matches nothing' {
            Get-CesoVm -Name 'zzz*' -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'finds VMs by id and reports unknown ids as VmNotFound' {
            $first = (Get-CesoVm)[0]
            (Get-CesoVm -Id $first.Id).Name | Should -Be $first.Name
            { Get-CesoVm -Id 'vm-999999' -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.GetCesoVmCommand'
        }

        It 'binds Name and Server from piped VMs' {
            $vms = Get-CesoVm
            ($vms | Get-CesoVm).Id | Should -Be $vms.Id
        }

        It 'records the names for tab completion' {
            $vm = (Get-CesoVm)[0]
            $prefix = $vm.Name.Substring(0, 2)
            $completions = TabExpansion2 -inputScript "Get-CesoVm -Name $prefix" -cursorColumn ("Get-CesoVm -Name $prefix".Length)
            $completions.CompletionMatches.ListItemText | Should -Contain $vm.Name
        }
    }
}
