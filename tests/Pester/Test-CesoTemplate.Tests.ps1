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
        $table | Should -Match 'Name\s+Ready\s+Off\s+Snap\s+Disks\s+Space\s+CD\s+NIC\s+Boot\s+GInfo\s+Tools\s+Failed'
        $table | Should -Match 'tpl-stale\s+✗(\s+✓){7}\s+✗\s+!\s+GuestInfo'
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

    It 'has help with examples and no -Boot parameter yet' {
        $help = Get-Help Test-CesoTemplate -Full
        $help.Examples.Example.Count | Should -BeGreaterThan 2
        (Get-Command Test-CesoTemplate).Parameters.Keys | Should -Not -Contain 'Boot'
    }
}
