#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:GoodId = New-CesoTestTemplate $script:Bed -Name tpl-good
    $script:IsoId = New-CesoTestTemplate $script:Bed -Name tpl-iso -Set @{
        'sata0.present' = 'TRUE'; 'sata0:0.present' = 'TRUE'; 'sata0:0.deviceType' = 'cdrom-image'
        'sata0:0.fileName' = "/vmfs/volumes/$($script:Bed.Info.datastores[0].name)/iso/installer.iso"; 'sata0:0.startConnected' = 'TRUE'
    }
    $script:StaleId = New-CesoTestTemplate $script:Bed -Name tpl-stale -Set @{
        'guestinfo.userdata' = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("#cloud-config`n")); 'guestinfo.userdata.encoding' = 'base64'
    }
    $script:SnapId = New-CesoTestTemplate $script:Bed -Name tpl-snap
    $null = Invoke-CesoTestBedSsh $script:Bed "vim-cmd vmsvc/snapshot.create $($script:SnapId) leftover"
    $null = New-CesoTestTemplate $script:Bed -Name tpl-boot -Image good
    $null = New-CesoTestTemplate $script:Bed -Name tpl-dsoff -Image ds-disabled
    $null = Connect-CesoTestBed $script:Bed
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Test-CesoTemplate' {
    It 'passes a good template (the tools the host never heard of are only a warning)' {
        $report = Test-CesoTemplate tpl-good -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $report.GetType().FullName | Should -Be 'Ceso.Engine.Model.TemplateReport'
        $report.IsReady | Should -BeTrue
        $report.Failed | Should -BeNullOrEmpty
        $report.Checks.Name | Should -Be @('PoweredOff', 'Snapshots', 'Disks', 'Space', 'CdRom', 'Nic', 'Firmware', 'GuestInfo', 'Tools')
        ($report.Checks | Where-Object Name -eq 'Tools').Level | Should -Be 'Warning'
        Test-CesoTemplate tpl-good -Quiet | Should -BeTrue
    }

    It 'names the problem and the fix of a broken template as its result, not as an error, and the fix works' {
        $report = Test-CesoTemplate tpl-iso -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $report.IsReady | Should -BeFalse
        $report.Failed | Should -Be @('CdRom')
        $cd = $report.Checks | Where-Object Name -eq 'CdRom'
        $cd.Passed | Should -BeFalse
        $cd.Detail | Should -Match 'sata0:0 is connected to /vmfs/volumes/datastore1/iso/installer.iso'
        $cd.Fix | Should -Be 'Set-CesoVm tpl-iso -EjectIso'
        Test-CesoTemplate tpl-iso -Quiet | Should -BeFalse

        Set-CesoVm tpl-iso -EjectIso -Confirm:$false
        (Test-CesoTemplate tpl-iso).IsReady | Should -BeTrue
    }

    It 'finds stale guestinfo and a snapshot over SSH the same as over the API' {
        $viaApi = Test-CesoTemplate tpl-stale, tpl-snap
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        $null = Connect-CesoTestBed $script:Bed -Transport Ssh
        try {
            $viaSsh = Test-CesoTemplate tpl-stale, tpl-snap
        } finally {
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
            $null = Connect-CesoTestBed $script:Bed
        }
        foreach ($r in $viaApi, $viaSsh) {
            $r[0].Failed | Should -Be @('GuestInfo')
            ($r[0].Checks | Where-Object Name -eq 'GuestInfo').Fix | Should -Match "sed -E -i .*tpl-stale.vmx && vim-cmd vmsvc/reload $($script:StaleId)"
            $r[1].Failed | Should -Be @('Snapshots')
            ($r[1].Checks | Where-Object Name -eq 'Snapshots').Fix | Should -Match "vim-cmd vmsvc/snapshot.remove $($script:SnapId) <snapshotId>"
        }
        ($viaApi | ForEach-Object { $_.Checks | ForEach-Object ToString }) | Should -Be ($viaSsh | ForEach-Object { $_.Checks | ForEach-Object ToString })
    }

    It 'shows a table with a mark per check, and reads as JSON' {
        $table = Test-CesoTemplate tpl-good, tpl-stale | Format-Table | Out-String -Width 200
        $table | Should -Match 'Name\s+Ready\s+Off\s+Snap\s+Disks\s+Space\s+CD\s+NIC\s+Boot\s+GInfo\s+Tools\s+Guest\s+Failed'
        $table | Should -Match 'tpl-stale\s+✗(\s+✓){7}\s+✗\s+!\s+-\s+GuestInfo'
        $json = Test-CesoTemplate tpl-stale | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $json.IsReady | Should -BeFalse
        ($json.Checks | Where-Object Name -eq 'GuestInfo').Passed | Should -BeFalse
        ($json.Checks | Where-Object Name -eq 'GuestInfo').Fix | Should -Match 'vim-cmd vmsvc/reload'
        ($json.Checks | Where-Object Name -eq 'Tools').Level | Should -Be 'Warning'
        (Test-CesoTemplate tpl-stale | Format-List | Out-String) | Should -Match '✗ GuestInfo: the .vmx holds guestinfo.userdata'
        ((Test-CesoTemplate tpl-stale).Checks | Format-Table | Out-String -Width 200) | Should -Match '✓ PoweredOff'
    }

    It 'takes Get-CesoVm and Get-CesoTemplate output from the pipeline and records the result of a registered template' {
        (Get-CesoVm tpl-good, tpl-snap | Test-CesoTemplate).Name | Should -Be @('tpl-good', 'tpl-snap')
        $null = Register-CesoTemplate golden -Vm tpl-good -Confirm:$false
        $null = Register-CesoTemplate snapped -Vm tpl-snap -Confirm:$false
        Get-CesoTemplate golden, snapped | Test-CesoTemplate -Quiet | Should -Be @($true, $false)
        $golden = Get-CesoTemplate golden
        $golden.LastResult | Should -Be 'Ready'
        $golden.LastChecked | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(-5))
        (Get-CesoTemplate snapped).LastResult | Should -Be 'NotReady: Snapshots'
        (Test-CesoTemplate golden).Registered | Should -Be 'golden'
        'golden' | Test-CesoTemplate -Quiet | Should -BeTrue
    }

    It 'writes TemplateNotFound only for what it could not check, and goes on with the rest' {
        $out = Test-CesoTemplate no-such-vm, tpl-good -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'TemplateNotFound,Ceso.PowerShell.Commands.TestCesoTemplateCommand'
        $failed[0].TargetObject | Should -Be 'no-such-vm'
        $out.Name | Should -Be 'tpl-good'
    }

    It 'checks only by reading: the host sees no write' {
        $before = (Get-CesoTestBedWrites $script:Bed).Count
        $null = Test-CesoTemplate tpl-good, tpl-stale, tpl-snap
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
    }

    It 'is NotConnected without a session' {
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        try {
            { Test-CesoTemplate tpl-good -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.TestCesoTemplateCommand'
        } finally {
            $null = Connect-CesoTestBed $script:Bed
        }
    }

    It 'boots a disposable copy with -Boot: the guest checks join the host checks, and the copy is gone' {
        $vms = (Get-CesoVm).Count
        $report = Test-CesoTemplate tpl-boot -Boot -BootTimeoutSec 120 -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $report.IsReady | Should -BeTrue
        $report.GuestResult | Should -Be 'Passed'
        $report.Checks.Name | Should -Be @('PoweredOff', 'Snapshots', 'Disks', 'Space', 'CdRom', 'Nic', 'Firmware', 'GuestInfo', 'Tools',
            'ProbeReport', 'CloudInit', 'Datasource', 'OpenVmTools', 'Hostname', 'StaticIP', 'SshKey')
        ($report.Checks | Where-Object Name -eq 'CloudInit').Detail | Should -Match '^cloud-init 22\.4\.2'
        ($report.Checks | Where-Object Name -eq 'Datasource').Detail | Should -Match 'DataSourceVMware'
        (Get-CesoVm).Count | Should -Be $vms
        Get-CesoVm '*-ceso-probe-*' | Should -BeNullOrEmpty
        Get-ChildItem $script:Bed.Info.datastores[0].localDir -Filter '*-ceso-probe-*' | Should -BeNullOrEmpty
        ($report | Format-Table | Out-String -Width 200) | Should -Match 'tpl-boot\s+✓(\s+✓){8}\s+!\s+✓'
    }

    It 'gives the probe copy the -BootIPAddress asked for, and refuses one that is not CIDR before any write' {
        $report = Test-CesoTemplate tpl-boot -Boot -BootIPAddress 10.20.30.40/24 -BootGateway 10.20.30.254 -BootTimeoutSec 120
        $report.IsReady | Should -BeTrue
        ($report.Checks | Where-Object Name -eq 'StaticIP').Detail | Should -Match '^10\.20\.30\.40/24 configured'
        $before = (Get-CesoTestBedWrites $script:Bed).Count
        Test-CesoTemplate tpl-boot -Boot -BootIPAddress 10.20.30.40 -ErrorAction Continue -ErrorVariable bad | Should -BeNullOrEmpty
        $bad[0].FullyQualifiedErrorId | Should -Be 'InvalidIPAddress,Ceso.PowerShell.Commands.TestCesoTemplateCommand'
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
        Get-CesoVm '*-ceso-probe-*' | Should -BeNullOrEmpty
    }

    It 'names the datasource_list line and its fix for a template whose VMware datasource is disabled' {
        $report = Test-CesoTemplate tpl-dsoff -Boot -BootTimeout 120
        $report.IsReady | Should -BeFalse
        $report.Failed | Should -Contain 'Datasource'
        $ds = $report.Checks | Where-Object Name -eq 'Datasource'
        $ds.Detail | Should -Match '/etc/cloud/cloud.cfg.d/95-datasources.cfg sets .datasource_list: \[ NoCloud, ConfigDrive, OpenStack, None \].'
        $ds.Fix | Should -Match 'datasource_list: \[ VMware, None \]'
    }

    It 'does not boot a template whose blocking host checks fail' {
        $before = (Get-CesoTestBedWrites $script:Bed).Count
        $report = Test-CesoTemplate tpl-snap -Boot
        $report.Failed | Should -Be @('Snapshots', 'ProbeReport')
        ($report.Checks | Where-Object Name -eq 'ProbeReport').Detail | Should -Match '^not booted: the host check\(s\) Snapshots failed'
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
    }

    It 'shows the probe plan with -WhatIf and leaves nothing on the host' {
        $before = (Get-CesoTestBedWrites $script:Bed).Count
        $vms = (Get-CesoVm).Count
        # the What-if lines go to the console host: a child pwsh's stdout has them
        $out = Invoke-CesoTestBedPrompted $script:Bed -Script 'Test-CesoTemplate tpl-boot -Boot -WhatIf' -Answers @()
        $out | Should -Match 'What if: .*vmkfstools -i|What if: .*CopyVirtualDisk_Task'
        $out | Should -Match 'tpl-boot-ceso-probe-[0-9a-f]{8}'
        $out | Should -Match 'Wait for the report|until the guest has powered off'
        $out | Should -Match 'vmsvc/destroy|Destroy_Task'
        $out | Should -Match 'cleanup: runs after the other steps'
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
        (Get-CesoVm).Count | Should -Be $vms
        Get-ChildItem $script:Bed.Info.datastores[0].localDir -Filter '*-ceso-probe-*' | Should -BeNullOrEmpty
    }

    It 'has help with examples for -Boot and -BootTimeoutSec' {
        $help = Get-Help Test-CesoTemplate -Full
        $help.Examples.Example.Count | Should -BeGreaterThan 3
        $params = (Get-Command Test-CesoTemplate).Parameters
        $params.Keys | Should -Contain 'Boot'
        $params['BootTimeoutSec'].Aliases | Should -Contain 'BootTimeout'
        ($help.Parameters.Parameter | Where-Object Name -eq 'Boot').Description.Text | Should -Match 'disposable'
    }
}
