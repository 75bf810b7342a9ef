#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name nas
    $null = Connect-CesoTestBed $script:Bed -Transport Ssh
    $script:First = Backup-CesoVm vm01 -Repository nas -Tag nightly -Confirm:$false
    $script:Second = Backup-CesoVm vm02 -Repository nas -Tag weekly -Confirm:$false
    $script:Third = Backup-CesoVm vm01 -Repository nas -Tag nightly, manual -Confirm:$false
    # A second, unencrypted repository, so that listing every registered one is seen to cover both.
    $null = New-CesoBackupRepository -Name lab -Path (Join-Path $script:Bed.CesoHome 'repo-lab') -NoEncryption -Confirm:$false
    $script:Lab = Backup-CesoVm vm02 -Repository lab -Confirm:$false
    Get-CesoServer | Disconnect-CesoServer -Confirm:$false
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoBackup' {
    It 'lists every backup of every registered repository, oldest first, without a host session' {
        $all = Get-CesoBackup
        $all.Id | Should -Be @($script:First.Id, $script:Second.Id, $script:Third.Id, $script:Lab.Id)
        $all[3].Repository | Should -Be 'lab'
    }

    It 'filters by VM with wildcards, by tag, and by id prefix' {
        (Get-CesoBackup -Repository nas -Vm 'VM0[1]').Id | Should -Be @($script:First.Id, $script:Third.Id)
        (Get-CesoBackup -Repository nas -Tag manual, weekly).Id | Should -Be @($script:Second.Id, $script:Third.Id)
        (Get-CesoBackup -Id $script:Second.ShortId).Id | Should -Be $script:Second.Id
    }

    It 'filters by time' {
        (Get-CesoBackup -Repository nas -After $script:Second.Time.LocalDateTime).Id | Should -Be @($script:Second.Id, $script:Third.Id)
        (Get-CesoBackup -Repository nas -Before $script:Second.Time.LocalDateTime).Id | Should -Be @($script:First.Id)
    }

    It 'opens a repository given by path' {
        (Get-CesoBackup -Repository $script:RepoPath).Count | Should -Be 3
    }

    It 'writes BackupNotFound for an id that matches nothing' {
        { Get-CesoBackup -Id 'ffffffffff' -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound,Ceso.PowerShell.Commands.GetCesoBackupCommand'
    }

    It 'writes RepositoryNotFound for a name that is not registered' {
        { Get-CesoBackup -Repository no-such-repo -ErrorAction Stop } | Should -Throw -ErrorId 'RepositoryNotFound,Ceso.PowerShell.Commands.GetCesoBackupCommand'
    }

    It 'writes RepositoryPasswordWrong for the encrypted one and still lists the other' {
        $wrong = ConvertTo-SecureString 'not-the-password' -AsPlainText -Force
        $found = Get-CesoBackup -Password $wrong -ErrorVariable failed -ErrorAction SilentlyContinue
        $found.Id | Should -Be @($script:Lab.Id)
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'RepositoryPasswordWrong,Ceso.PowerShell.Commands.GetCesoBackupCommand'
    }

    It 'reads well as a table, a list and JSON' {
        $table = Get-CesoBackup -Repository nas | Format-Table | Out-String -Width 250
        $table | Should -Match 'ShortId\s+Time\s+Vm\s+Mode\s+SizeGB\s+DataGB\s+AddedMB\s+Tags\s+Repository'
        $table | Should -Match ([regex]::Escape($script:Third.ShortId) + '.*vm01\s+Cold.*nightly, manual\s+nas')
        Get-CesoBackup -Id $script:First.Id | Format-List | Out-String | Should -Match 'Disks\s+: \[datastore1\] vm01/vm01.vmdk 1 GB'
        $json = Get-CesoBackup -Id $script:First.Id | ConvertTo-Json | ConvertFrom-Json
        $json.Disks[0].Path | Should -Be '[datastore1] vm01/vm01.vmdk'
        $json.Vm | Should -Be 'vm01'
    }
}
