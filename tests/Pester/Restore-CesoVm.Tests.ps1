#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name nas
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Restore-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Restore-CesoVm 0123abcd -Repository nas -AsNew x -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.RestoreCesoVmCommand'
        }
    }

    Context 'over the API alone' {
        BeforeAll {
            $null = Connect-CesoTestBed $script:Bed -Transport Soap
            # Reading works over the API (datastore HTTP); writing a disk block by block does not.
            $script:SoapBackup = Backup-CesoVm vm02 -Repository nas -Confirm:$false
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'refuses a block-by-block restore with DiskWriteNeedsSsh before anything is written' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            { $script:SoapBackup | Restore-CesoVm -AsNew pester-restored-api -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'DiskWriteNeedsSsh,Ceso.PowerShell.Commands.RestoreCesoVmCommand'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            Get-CesoVm pester-restored-api -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Auto' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Name = "pester-restored-$($Transport.ToLowerInvariant())"
            # Data of our own in the source disk, so the byte-for-byte comparison covers more than the bed's marks.
            $flat = Get-CesoTestBedFlatDisk $script:Bed vm01
            $f = [IO.File]::Open($flat, 'Open', 'Write')
            try {
                $rng = [Random]::new(11); $chunk = [byte[]]::new(3MB + 77); $rng.NextBytes($chunk)
                $f.Position = 7MB + 4096; $f.Write($chunk, 0, $chunk.Length)
            } finally { $f.Dispose() }
            $script:Backup = Backup-CesoVm vm01 -Repository nas -Tag $Transport -Confirm:$false
        }
        AfterAll {
            Get-CesoVm $script:Name -ErrorAction SilentlyContinue | ForEach-Object {
                if ($_.PowerState -eq 'PoweredOn') { $_ | Stop-CesoVm -Kill -Confirm:$false }
                $_ | Remove-CesoVm -Confirm:$false
            }
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        }

        It 'writes RepositoryNotFound for a repository that is not registered' {
            { Restore-CesoVm $script:Backup.Id -Repository no-such-repo -AsNew $script:Name -ErrorAction Stop } |
                Should -Throw -ErrorId 'RepositoryNotFound,Ceso.PowerShell.Commands.RestoreCesoVmCommand'
        }

        It 'writes RepositoryPasswordWrong for a wrong password' {
            { Restore-CesoVm $script:Backup.Id -Repository nas -AsNew $script:Name -Password (ConvertTo-SecureString 'wrong-one' -AsPlainText -Force) -ErrorAction Stop } |
                Should -Throw -ErrorId 'RepositoryPasswordWrong,Ceso.PowerShell.Commands.RestoreCesoVmCommand'
        }

        It 'writes VmExists when the new name is taken' {
            { $script:Backup | Restore-CesoVm -AsNew vm02 -ErrorAction Stop } | Should -Throw -ErrorId 'VmExists,Ceso.PowerShell.Commands.RestoreCesoVmCommand'
        }

        It 'changes nothing on the host or in the repository under -WhatIf' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoTestRepositoryState $script:RepoPath
            $script:Backup | Restore-CesoVm -AsNew $script:Name -WhatIf | Should -BeNullOrEmpty
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            Get-CesoTestRepositoryState $script:RepoPath | Should -Be $state
            Get-CesoVm $script:Name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'restores a piped backup as a new VM with a new identity and the same disk, byte for byte' {
            $source = Get-CesoVm vm01
            $vm = Get-CesoBackup -Repository nas -Tag $Transport | Select-Object -Last 1 |
                Restore-CesoVm -AsNew $script:Name -IPAddress 10.0.40.5/24 -Confirm:$false
            $vm | Should -HaveCount 1
            $vm.Name | Should -Be $script:Name
            $vm.Id | Should -Not -Be $source.Id
            $vm.BiosUuid | Should -Not -Be $source.BiosUuid
            $vm.PowerState | Should -Be 'PoweredOff'
            $restored = Get-CesoTestBedFlatDisk $script:Bed $script:Name
            (Get-FileHash $restored).Hash | Should -Be (Get-FileHash (Get-CesoTestBedFlatDisk $script:Bed vm01)).Hash
        }
    }

    Context '-InPlace' {
        BeforeAll {
            $null = Connect-CesoTestBed $script:Bed -Transport Auto
            $script:Before = Get-CesoVm vm02
            $script:Flat = Get-CesoTestBedFlatDisk $script:Bed vm02
            $script:InPlaceBackup = Backup-CesoVm vm02 -Repository nas -Tag inplace -Confirm:$false
            $script:AtBackup = (Get-FileHash $script:Flat).Hash
            # After the backup the disk changes.
            $f = [IO.File]::Open($script:Flat, 'Open', 'Write')
            try { $bytes = [byte[]]::new(2MB); [Random]::new(5).NextBytes($bytes); $f.Position = 3MB; $f.Write($bytes, 0, $bytes.Length) } finally { $f.Dispose() }
            $script:Changed = (Get-FileHash $script:Flat).Hash
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'previews every step under -WhatIf, asks nothing and changes nothing' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            $out = $script:InPlaceBackup | Restore-CesoVm -InPlace -WhatIf 6>&1 | Out-String
            $out | Should -Match "RestoreVmInPlace of 'vm02' on .*, 8 step\(s\)"
            $out | Should -Match 'keeps its identity'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            (Get-FileHash $script:Flat).Hash | Should -Be $script:Changed
        }

        It 'refuses a running VM with VmPoweredOn' {
            Start-CesoVm vm02 -Confirm:$false
            try {
                { $script:InPlaceBackup | Restore-CesoVm -InPlace -Force -ErrorAction Stop } | Should -Throw -ErrorId 'VmPoweredOn,Ceso.PowerShell.Commands.RestoreCesoVmCommand'
            } finally { Stop-CesoVm vm02 -Kill -Confirm:$false }
        }

        It 'puts the backed-up disk back, keeps the identity and returns the VM' {
            $vm = $script:InPlaceBackup | Restore-CesoVm -InPlace -Force
            $vm | Should -HaveCount 1
            $vm.Id | Should -Be $script:Before.Id
            $vm.BiosUuid | Should -Be $script:Before.BiosUuid
            (Get-FileHash $script:Flat).Hash | Should -Be $script:AtBackup
            Get-ChildItem (Split-Path $script:Flat) -Filter '*ceso-*' | Should -BeNullOrEmpty
        }

        It 'has help for -InPlace, -Vm and -Force' {
            $help = Get-Help Restore-CesoVm -Full
            ($help.parameters.parameter | Where-Object name -eq InPlace).description.Text | Should -Match 'keeps its identity'
            ($help.parameters.parameter | Where-Object name -eq Force).description | Should -Not -BeNullOrEmpty
            ($help.examples.example.code -join "`n") | Should -Match '-InPlace'
        }
    }
}
