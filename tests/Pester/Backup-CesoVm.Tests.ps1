#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 3
    $script:Password = 'pester-backup-secret'
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name nas -Password $script:Password
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Backup-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { Backup-CesoVm vm01 -Repository nas -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.BackupCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll { $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport }
        AfterAll {
            Get-CesoVm vm02 | Where-Object PowerState -EQ PoweredOn | Stop-CesoVm -Kill -Confirm:$false
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        }

        It 'fails with RepositoryNotFound for a name that is not registered' {
            { Backup-CesoVm vm01 -Repository no-such-repo -ErrorAction Stop } | Should -Throw -ErrorId 'RepositoryNotFound,Ceso.PowerShell.Commands.BackupCesoVmCommand'
        }

        It 'fails with RepositoryPasswordWrong, without showing the password' {
            $wrong = ConvertTo-SecureString 'not-the-password' -AsPlainText -Force
            $e = { Backup-CesoVm vm01 -Repository nas -Password $wrong -ErrorAction Stop } | Should -Throw -ErrorId 'RepositoryPasswordWrong,Ceso.PowerShell.Commands.BackupCesoVmCommand' -PassThru
            $e.Exception.Message | Should -Not -Match 'not-the-password'
        }

        It 'fails with RepositoryPasswordRequired when no password is given' {
            $saved = $env:CESO_REPOSITORY_PASSWORD
            try {
                $env:CESO_REPOSITORY_PASSWORD = $null
                { Backup-CesoVm vm01 -Repository nas -ErrorAction Stop } | Should -Throw -ErrorId 'RepositoryPasswordRequired,Ceso.PowerShell.Commands.BackupCesoVmCommand'
            } finally { $env:CESO_REPOSITORY_PASSWORD = $saved }
        }

        It 'changes nothing on the host or in the repository under -WhatIf, and shows no password' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoTestRepositoryState $script:RepoPath
            $shown = Get-CesoVm vm01 | Backup-CesoVm -Repository nas -WhatIf -Verbose -InformationAction Continue *>&1 | Out-String
            $shown | Should -Match 'What if: plan sha256:'
            $shown | Should -Not -Match $script:Password
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            Get-CesoTestRepositoryState $script:RepoPath | Should -Be $state
            Get-CesoBackup -Repository nas -Vm vm01 -Tag $Transport | Should -BeNullOrEmpty
        }

        It 'backs up a piped powered-off VM cold and says how each disk was read' {
            $info = $null
            $backup = Get-CesoVm vm01 | Backup-CesoVm -Repository nas -Tag $Transport -InformationVariable info -Confirm:$false
            $backup | Should -HaveCount 1
            $backup.Vm | Should -Be 'vm01'
            $backup.Mode | Should -Be 'Cold'
            $backup.Tags | Should -Be @($Transport)
            $backup.Repository | Should -Be 'nas'
            $backup.Disks | Should -HaveCount 1
            $backup.Disks[0].ReadPath | Should -Not -BeNullOrEmpty
            @($info | Where-Object { $_.Tags -contains 'BackupReadPath' }) | Should -HaveCount 1
            (Get-CesoBackup -Repository nas -Id $backup.Id).Id | Should -Be $backup.Id
            Get-Content -Raw (Join-Path $script:Bed.CesoHome 'audit' 'audit.jsonl') | Should -Not -Match $script:Password
        }

        It 'refuses a running VM without -Hot with VmPoweredOn, and backs it up with -Hot leaving no snapshot' {
            Start-CesoVm vm02 -Confirm:$false
            { Backup-CesoVm vm02 -Repository nas -ErrorAction Stop } | Should -Throw -ErrorId 'VmPoweredOn,Ceso.PowerShell.Commands.BackupCesoVmCommand'
            $backup = Backup-CesoVm vm02 -Repository nas -Hot -Tag $Transport -Confirm:$false
            $backup.Mode | Should -Be 'Hot'
            $vm = Get-CesoVm vm02
            $vm.PowerState | Should -Be 'PoweredOn'
            $vm.SnapshotCount | Should -Be 0
            Stop-CesoVm vm02 -Kill -Confirm:$false
        }

        It 'refuses a VM with a snapshot of its own with VmHasSnapshots, and backs it up as it is now with -AllowSnapshots' {
            $i = $script:Bed.Info
            $vm = Get-CesoVm vm03
            & ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$($i.knownHosts)" -i $i.sshKey -p $i.sshPort "$($i.sshUser)@127.0.0.1" "vim-cmd vmsvc/snapshot.create $($vm.Id) users-own-$Transport" | Out-Null
            $LASTEXITCODE | Should -Be 0
            { Backup-CesoVm vm03 -Repository nas -ErrorAction Stop } | Should -Throw -ErrorId 'VmHasSnapshots,Ceso.PowerShell.Commands.BackupCesoVmCommand'
            $backup = Backup-CesoVm vm03 -Repository nas -AllowSnapshots -Tag "snap-$Transport" -Confirm:$false
            $backup | Should -HaveCount 1
            (Get-CesoVm vm03).SnapshotCount | Should -BeGreaterOrEqual 1
            Get-ChildItem (Split-Path (Get-CesoTestBedFlatDisk $script:Bed vm03)) -Filter '*ceso-backup*' | Should -BeNullOrEmpty
        }

        It 'opens the repository by path as well' {
            $backup = Backup-CesoVm vm01 -Repository $script:RepoPath -Password (ConvertTo-SecureString $script:Password -AsPlainText -Force) -Confirm:$false
            $backup.Repository | Should -Be $script:RepoPath
        }
    }
}
